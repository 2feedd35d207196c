"""The HTTP edge: identity and sign-in, middleware (errors answered by kind, CSRF, metrics),
rendering, request bodies, the one way a request submits a command."""
