"""The media engine: forwarding encoded audio and video from one publisher to many viewers."""
