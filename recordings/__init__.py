"""Capture and archive of session recordings (see docs/architecture.md)."""
