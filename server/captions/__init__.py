"""Live captions: captioners write them, viewers follow them, replays keep them."""
