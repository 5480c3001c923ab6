"""Invalid settings stop every entry point with what is wrong: no stack trace, no value."""

import os
import subprocess
import sys

import pytest

SECRET = "p1:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="


@pytest.mark.parametrize(
    ("args", "bad", "says"),
    [
        (["-m", "worker"], {"OO_API_PORT": "abc"}, "OO_API_PORT: Input should be a valid integer"),
        (
            ["-m", "cli.main", "api"],
            {"OO_TEMPORAL_TLS_CERT_FILE": "/tmp/client.crt"},
            "set both OO_TEMPORAL_TLS_CERT_FILE and OO_TEMPORAL_TLS_KEY_FILE, or neither",
        ),
        (["-m", "cli.main", "migrate"], {"OO_LOG_LEVEL": "LOUD"}, "OO_LOG_LEVEL: Input should be"),
    ],
)
def test_invalid_settings_are_explained_without_values(
    args: list[str], bad: dict[str, str], says: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OO_")}
    env |= {"OO_PAYLOAD_KEYS": SECRET, "OO_ADMIN_TOKEN": "admin-secret-value", **bad}
    done = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    for value in (SECRET[-12:], "admin-secret-value", *bad.values()):
        assert value not in done.stderr + done.stdout
