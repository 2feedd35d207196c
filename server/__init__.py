"""The Plenaria process: settings, CLI, app factory, HTTP API, auth and backends."""
