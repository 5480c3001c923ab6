"""Logging set-up for entry points (api, worker, cli); libraries only get loggers."""

import logging

# authlib logs the PKCE verifier at DEBUG: never let it below INFO.
_QUIET = {"authlib": logging.INFO, "httpx": logging.WARNING, "httpcore": logging.WARNING}


def configure_logging(level: str = "INFO") -> None:
    """Plain, timestamped logs on stderr."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLevelName(level)))
