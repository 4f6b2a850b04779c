"""Coffre's HTTP API (FastAPI): build it with ``api.app.create_app(services)``."""
