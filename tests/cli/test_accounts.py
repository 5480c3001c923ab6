"""`oo delete-account` and `oo recompute` against the dev server, with a worker in this process."""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

from cli.main import app
from core.settings import get_settings
from store import users
from store.models import Identity, TaskCompletion
from tests.fakes.google import fake_google
from tests.workflows.test_account_deletion import SALT, deps, rows_referencing
from worker import build_worker

EMAIL = "grace.canary@example.com"


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch,
    dev_env: WorkflowEnvironment,
    database_url: str,
    payload_keys: str,
    task_queue: str,
) -> Iterator[None]:
    """The environment `oo` reads: the dev server, the test database, the worker's queue."""
    env = {
        "OO_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "OO_DATABASE_URL": database_url,
        "OO_PAYLOAD_KEYS": payload_keys,
        "OO_TASK_QUEUE": task_queue,
        "OO_HASH_SALT": SALT.decode(),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def oo(*args: str, stdin: str | None = None) -> Result:
    """Run the CLI in a thread (it runs its own event loop) while the worker runs in ours."""
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), input=stdin)


async def a_user(
    sessions: async_sessionmaker[AsyncSession], email: str | None = EMAIL
) -> uuid.UUID:
    async with sessions.begin() as db:
        user = await users.create_user(db, display_name="Grace Canary", consents=("todoist.read",))
        db.add(
            TaskCompletion(
                user_id=user.id, task_key="k", completed_at=datetime(2025, 1, 1, tzinfo=UTC)
            )
        )
        if email:
            db.add(
                Identity(user_id=user.id, issuer="https://idp", subject=str(user.id), email=email)
            )
    return user.id


async def test_delete_account_by_email_shows_the_steps_and_erases_the_user(
    cli_env: None, dev_client: Client, sessions: async_sessionmaker[AsyncSession], task_queue: str
) -> None:
    user_id = await a_user(sessions)
    async with (
        fake_google() as google,
        build_worker(dev_client, deps(sessions, google, dev_client), task_queue=task_queue),
    ):
        declined = await oo("delete-account", EMAIL.upper(), stdin="n\n")
        assert declined.exit_code != 0
        assert await rows_referencing(sessions, user_id)  # nothing happened
        done = await oo("delete-account", EMAIL, "--yes")
        again = await oo("delete-account", str(user_id), "--yes")
    assert done.exit_code == 0, done.output
    assert "verify" in done.output and "deleted (deletion" in done.output
    assert await rows_referencing(sessions, user_id) == {}
    # The user is gone: named by id, it is "no such user", in one line.
    assert again.exit_code == 1 and "no such user" in again.output
    assert "Traceback" not in again.output


async def test_an_ambiguous_or_unknown_email_fails_in_one_line_naming_nobody(
    cli_env: None, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first, second = await a_user(sessions), await a_user(sessions)
    ambiguous = await oo("delete-account", EMAIL, "--yes")
    unknown = await oo("delete-account", "nobody@example.com", "--yes")
    assert ambiguous.exit_code == 1 and "2 users have that email" in ambiguous.output
    for leaked in (str(first), str(second), "Grace"):
        assert leaked not in ambiguous.output
    assert unknown.exit_code == 1 and "no user has that email" in unknown.output
    assert len(ambiguous.output.strip().splitlines()) == 1


async def test_temporal_unreachable_is_a_one_line_failure(
    cli_env: None,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    free_port: int,
) -> None:
    user_id = await a_user(sessions)
    monkeypatch.setenv("OO_TEMPORAL_ADDRESS", f"127.0.0.1:{free_port}")
    get_settings.cache_clear()
    res = await oo("delete-account", str(user_id), "--yes")
    assert res.exit_code == 1 and res.output.startswith("could not delete the account:")
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    assert await rows_referencing(sessions, user_id)


async def test_recompute_prints_the_computed_agents(
    cli_env: None, dev_client: Client, sessions: async_sessionmaker[AsyncSession], task_queue: str
) -> None:
    user_id = await a_user(sessions, email=None)
    async with fake_google() as google:
        worker_deps = deps(sessions, google, dev_client)
        async with build_worker(dev_client, worker_deps, task_queue=task_queue):
            res = await oo("recompute", str(user_id), "--agent", "fixed")
            unknown = await oo("recompute", str(user_id), "--agent", "no-such-agent")
    assert res.exit_code == 0, res.output
    assert res.output.split() == ["fixed"]
    assert unknown.exit_code == 1 and "Traceback" not in unknown.output
