"""Logging set-up for entry points (api, worker, cli); libraries only get loggers."""

import logging

# authlib logs the PKCE verifier at DEBUG, aiosqlite and SQLAlchemy's engine log statement
# parameters (emails, tokens) at DEBUG/INFO: none of them may go below these levels.
_QUIET = {
    "authlib": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "aiosqlite": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,
}


def configure_logging(level: str = "INFO") -> None:
    """Plain, timestamped logs on stderr."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    quiet_libraries(level)


def quiet_libraries(level: str) -> None:
    """Keep the libraries that log secrets or personal data above their floors."""
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLevelName(level)))
