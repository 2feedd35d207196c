"""A session's live stream: the studio, the stream's state and broadcast mode, cutting it."""
