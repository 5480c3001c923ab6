"""Secrets for the embedded dev set-up: generated once into .oo/secrets.env."""

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from core.crypto import new_key_spec

GENERATED: dict[str, Callable[[], str]] = {
    "OO_PAYLOAD_KEYS": new_key_spec,
    "OO_MASTER_KEYS": new_key_spec,
    "OO_ADMIN_TOKEN": lambda: secrets.token_urlsafe(32),
    "OO_HASH_SALT": lambda: secrets.token_urlsafe(32),
}


def ensure_secrets(data_dir: Path) -> Path:
    """Write missing secrets to data_dir/secrets.env (mode 600) and export them to this process."""
    path = data_dir / "secrets.env"
    data_dir.mkdir(parents=True, exist_ok=True)
    existing: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and not name.startswith("#"):
                existing[name.strip()] = value.strip()
    missing = {k: make() for k, make in GENERATED.items() if k not in existing}
    if missing:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as fh:
            fh.writelines(f"{k}={v}\n" for k, v in missing.items())
        existing.update(missing)
    for name, value in existing.items():
        # An explicit environment variable wins over the generated file.
        os.environ.setdefault(name, value)
    return path
