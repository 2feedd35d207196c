"""Moderated Q&A over HTTP: the API and the no-JavaScript pages."""
