"""Capture and archive of session recordings (see DESIGN.md)."""
