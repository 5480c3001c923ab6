"""A throwaway PostgreSQL cluster of one test's own, to restart at will: the shared server on
5432 serves other tests at the same time and is never touched.

Debian's binaries (/usr/lib/postgresql/<version>/bin) run as the `postgres` OS user (via
`runuser`, so this process must be root), with a data directory in a temporary folder owned
by that user, trust authentication, loopback only and a free port.
"""

import asyncio
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.factories import free_tcp_port
from tests.faults.processes import tail

OS_USER = "postgres"


class ClusterUnavailableError(RuntimeError):
    """This machine cannot run a private cluster (no binaries, not root, no postgres user)."""


def _bin_dir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise ClusterUnavailableError("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
    return found[-1].parent


class PrivateCluster:
    """initdb, pg_ctl start/stop/restart; `url` is an asyncpg SQLAlchemy URL."""

    def __init__(self) -> None:
        if os.geteuid() != 0:
            raise ClusterUnavailableError("not root: cannot run PostgreSQL as the postgres user")
        try:
            self._user = pwd.getpwnam(OS_USER)
        except KeyError:
            raise ClusterUnavailableError(f"no `{OS_USER}` OS user") from None
        if shutil.which("runuser") is None:
            raise ClusterUnavailableError("no `runuser`")
        self._bin = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="oo-faults-pg-"))
        os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_tcp_port()

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    async def _run(self, tool: str, *args: str) -> None:
        argv = ["runuser", "-u", OS_USER, "--", str(self._bin / tool), *args]
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.root
        )
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(
                f"{tool} failed ({proc.returncode}): {out.decode(errors='replace')[-2000:]}\n"
                f"server log:\n{tail(self.log)}"
            )

    async def init(self) -> None:
        # No fsync anywhere: a throwaway cluster, and the machine is shared.
        await self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-N")
        await self._pg_ctl("start")

    async def _pg_ctl(self, action: str, *extra: str) -> float:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c full_page_writes=off"
        )
        started = time.monotonic()
        args = ["-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", *extra]
        await self._run("pg_ctl", action, *args, "-o", options)
        return time.monotonic() - started

    async def restart(self) -> float:
        """A fast restart (every connection dropped); returns the seconds it took."""
        return await self._pg_ctl("restart", "-m", "fast")

    async def stop(self) -> float:
        return await self._pg_ctl("stop", "-m", "fast")

    async def start(self) -> float:
        return await self._pg_ctl("start")

    async def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):  # the folder goes anyway
                await self._pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)
