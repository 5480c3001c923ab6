"""Fixtures of the fault suite: a migrated SQLite database where the backend is not the point,
and a private PostgreSQL cluster to restart."""

import os
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from tests.factories import migrated
from tests.faults.postgres import ClusterUnavailableError, PrivateCluster
from tests.faults.processes import oo_env

WorkerEnv = Callable[..., dict[str, str]]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'oo.db'}"


@pytest.fixture
async def sqlite_sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated SQLite database (the default backend) of the test's own."""
    async with migrated(sqlite_url) as maker:
        yield maker


@pytest.fixture
async def private_postgres() -> AsyncIterator[PrivateCluster]:
    """A running, empty cluster of the test's own; skipped where none can run (unless
    OO_REQUIRE_POSTGRES=1, as in CI, where that fails the test)."""
    cluster: PrivateCluster | None = None
    try:
        cluster = PrivateCluster()
        await cluster.init()
    except (ClusterUnavailableError, RuntimeError) as exc:
        if cluster is not None:
            await cluster.destroy()
        reason = f"cannot start a private PostgreSQL cluster: {exc}"
        if os.environ.get("OO_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} (OO_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    yield cluster
    await cluster.destroy()


@pytest.fixture
def worker_env(dev_client: Client, payload_keys: str, task_queue: str) -> WorkerEnv:
    """`oo_env` for an oO process on the shared dev server, this test's task queue and keys:
    give it the database URL and any other setting."""
    host = dev_client.service_client.config.target_host
    return partial(oo_env, temporal_address=host, payload_keys=payload_keys, task_queue=task_queue)
