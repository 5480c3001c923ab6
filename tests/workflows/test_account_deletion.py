"""Account deletion on the real dev server (RELIABILITY E2 to E4)."""

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import ForeignKey, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities import ActivityDeps
from cli.seed import seed_users
from contracts.deletion import AccountDeletionInput
from contracts.tips import GenerateTipInput
from contracts.tokens import TokenRefreshInput
from core.crypto import KeyRing, new_key_spec
from core.vault import TokenVault
from store import integrations
from store import sessions as session_store
from store.models import Base, DeletionAudit, User
from tests.factories import fixed_agent, google_client
from tests.fakes.google import FakeGoogle, fake_google
from worker import build_worker
from workflows import AccountDeletionWorkflow, TokenRefreshWorkflow
from workflows.client import generate_tip, start_account_deletion

VAULT = TokenVault(KeyRing.parse(new_key_spec("m1")))
SALT = b"deletion-test-salt"


def deps(
    sessions: async_sessionmaker[AsyncSession], google: FakeGoogle, client: Client
) -> ActivityDeps:
    return ActivityDeps(
        sessions=sessions,
        agents={"fixed": fixed_agent()},
        tip_ttl=timedelta(hours=1),
        vault=VAULT,
        oauth_clients={"google": google_client(google)},
        hash_salt=SALT,
        temporal=client,
    )


async def rows_referencing(
    sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID
) -> dict[str, int]:
    """Walk the metadata on its own: every column that is, or points at, a user id."""
    found: dict[str, int] = {}
    async with sessions() as db:
        for table in Base.metadata.sorted_tables:
            for column in table.c:
                points_at_users = any(
                    isinstance(fk, ForeignKey) and fk.column.table.name == "users"
                    for fk in column.foreign_keys
                )
                if points_at_users or (table.name == "users" and column.name == "id"):
                    n = await db.scalar(
                        select(func.count()).select_from(table).where(column == user_id)
                    )
                    if n:
                        found[f"{table.name}.{column.name}"] = int(n)
    return found


async def a_full_user(
    sessions: async_sessionmaker[AsyncSession], google: FakeGoogle, client: Client, queue: str
) -> tuple[uuid.UUID, str, str]:
    """A user with two years of history, a session, a Google token, tips and workflows."""
    [user_id] = await seed_users(sessions, count=1, days=730, pool=1)
    refresh = google.grant()
    async with sessions.begin() as db:
        user = await db.get(User, user_id)
        assert user is not None
        user.display_name = "Ada Lovelace"
        sid = await session_store.create_session(
            db, user_id=user_id, now=datetime.now(UTC), absolute=timedelta(days=1)
        )
        await integrations.save_tokens(
            db,
            user_id=user_id,
            provider="google",
            vault=VAULT,
            access_token="ya29.canary",
            refresh_token=refresh,
            expires_at=datetime.now(UTC) + timedelta(hours=1),
            scopes="calendar",
        )
    await generate_tip(client, GenerateTipInput(user_id=user_id), task_queue=queue)
    await client.start_workflow(
        TokenRefreshWorkflow.run,
        TokenRefreshInput(user_id=user_id, provider="google"),
        id=f"token-refresh-{user_id}-google",
        task_queue=queue,
        search_attributes=__import__("workflows.client", fromlist=["x"]).user_search_attributes(
            user_id
        ),
    )
    return user_id, sid, refresh


async def listed(client: Client, user_id: uuid.UUID) -> list[str]:
    return [wf.id async for wf in client.list_workflows(f"OoUserId = '{user_id}'")]


async def test_deletion_leaves_nothing_of_the_user(
    dev_client: Client, sessions: async_sessionmaker[AsyncSession], task_queue: str
) -> None:
    async with fake_google() as google:
        async with build_worker(
            dev_client, deps(sessions, google, dev_client), task_queue=task_queue
        ):
            user_id, sid, refresh = await a_full_user(sessions, google, dev_client, task_queue)
            for _ in range(50):
                if len(await listed(dev_client, user_id)) >= 2:
                    break
                await asyncio.sleep(0.1)
            assert await rows_referencing(sessions, user_id)
            started = time.monotonic()
            first = await start_account_deletion(
                dev_client, user_id=user_id, requested_at=datetime.now(UTC), task_queue=task_queue
            )
            again = await start_account_deletion(
                dev_client, user_id=user_id, requested_at=datetime.now(UTC), task_queue=task_queue
            )
            assert again == first  # a second request joins the same deletion
            result = await dev_client.get_workflow_handle_for(
                AccountDeletionWorkflow.run, f"account-deletion-{user_id}"
            ).result()
            elapsed = time.monotonic() - started
        assert refresh in google.revoked  # revoked at the provider before the vault rows went
    assert result.deletion_id == first
    assert result.steps["revoke_tokens"] == {"google": "done"}
    assert await rows_referencing(sessions, user_id) == {}
    assert await listed(dev_client, user_id) == []
    async with sessions() as db:
        assert not await session_store.session_exists(db, sid=sid)
        audit = await db.get(DeletionAudit, first)
    assert audit is not None and audit.completed_at is not None
    recorded = json.dumps({"subject": audit.subject_hash, "steps": audit.steps}, default=str)
    for secret in (str(user_id), "Ada", "Lovelace", refresh, "ya29.canary"):
        assert secret not in recorded
    print(f"deletion of two years of history took {elapsed:.2f} s")
    assert elapsed < 10


async def test_a_failing_revocation_is_recorded_and_deletion_completes(
    dev_client: Client, sessions: async_sessionmaker[AsyncSession], task_queue: str
) -> None:
    async with fake_google() as google:
        google.fail_with(503, path="/revoke", times=None)
        async with build_worker(
            dev_client, deps(sessions, google, dev_client), task_queue=task_queue
        ):
            [user_id] = await seed_users(sessions, count=1, days=30, pool=1)
            async with sessions.begin() as db:
                await integrations.save_tokens(
                    db,
                    user_id=user_id,
                    provider="google",
                    vault=VAULT,
                    access_token="ya29.x",
                    refresh_token=google.grant(),
                    expires_at=None,
                    scopes="calendar",
                )
            result = await dev_client.execute_workflow(
                AccountDeletionWorkflow.run,
                AccountDeletionInput(
                    user_id=user_id,
                    deletion_id=uuid.uuid4(),
                    requested_at=datetime.now(UTC),
                    revoke_attempts=2,
                ),
                id=f"account-deletion-{user_id}",
                task_queue=task_queue,
            )
        assert len(google.calls_to("/revoke")) == 2  # retried, then recorded
    assert result.steps["revoke_tokens"] == {"google": "failed"}
    assert await rows_referencing(sessions, user_id) == {}


@pytest.mark.parametrize("unused", [None])
async def test_deleting_an_unknown_user_is_harmless(
    dev_client: Client, sessions: async_sessionmaker[AsyncSession], task_queue: str, unused: None
) -> None:
    async with (
        fake_google() as google,
        build_worker(dev_client, deps(sessions, google, dev_client), task_queue=task_queue),
    ):
        result = await dev_client.execute_workflow(
            AccountDeletionWorkflow.run,
            AccountDeletionInput(
                user_id=uuid.uuid4(), deletion_id=uuid.uuid4(), requested_at=datetime.now(UTC)
            ),
            id=f"account-deletion-{uuid.uuid4()}",
            task_queue=task_queue,
        )
    assert result.steps["destroy_data_key"] == "skipped"
