"""A private Temporal dev server that a test may stop and restart: SQLite persistence in a
file of its own, headless, on loopback ports of its own."""

import asyncio
import signal
import subprocess
import time
from pathlib import Path

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError

from cli.temporal_server import dynamic_config_args, find_binary
from contracts.temporal import SEARCH_ATTRIBUTES
from tests.factories import free_tcp_port
from tests.faults.processes import tail

READY_TIMEOUT_S = 60.0


class PrivateDevServer:
    """`temporal server start-dev` on one database file and one port across restarts."""

    def __init__(self, db_file: Path, log: Path) -> None:
        self.db_file = db_file
        self.log = log
        self.port = free_tcp_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _args(self) -> list[str]:
        args = [find_binary("temporal"), "server", "start-dev", "--headless"]
        args += ["--ip", "127.0.0.1", "--port", str(self.port)]
        args += ["--db-filename", str(self.db_file), "--log-level", "warn"]
        for name in SEARCH_ATTRIBUTES:  # as cli.temporal_server registers them
            args += ["--search-attribute", f"{name}=Keyword"]
        return args + dynamic_config_args()

    async def start(self) -> float:
        """Start it and wait until the default namespace answers; returns the seconds taken."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        started = time.monotonic()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self._args(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        await self._ready(started + READY_TIMEOUT_S)
        return time.monotonic() - started

    async def _ready(self, deadline: float) -> None:
        assert self.proc is not None
        while True:
            assert self.proc.poll() is None, f"the dev server exited:\n{tail(self.log)}"
            try:
                probe = await Client.connect(self.address)
                await probe.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace="default")
                )
                return
            except (RuntimeError, RPCError):  # not listening yet, or not serving yet
                assert time.monotonic() < deadline, f"no dev server:\n{tail(self.log)}"
                await asyncio.sleep(0.1)

    async def kill(self, sig: signal.Signals = signal.SIGKILL) -> float:
        """Send `sig` and reap it; returns the seconds it took to exit."""
        assert self.proc is not None and self.proc.poll() is None, "not running"
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            await asyncio.wait_for(asyncio.to_thread(self.proc.wait), 30)
        except TimeoutError:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait)
        return time.monotonic() - started

    async def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            await self.kill(signal.SIGTERM)
