"""The FastAPI front door: routes, sessions, CSRF, the page."""

from api.app import create_app

__all__ = ["create_app"]
