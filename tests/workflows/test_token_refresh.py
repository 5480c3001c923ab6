"""A provider token's life on real Temporal servers against a fake Google (RELIABILITY B5 to B7)."""

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities import ActivityDeps
from contracts.tokens import RefreshNowRequest, TokenRefreshInput, TokenState
from store import integrations, users
from tests.factories import TEST_VAULT, google_client, store_tokens
from tests.fakes.google import FakeGoogle, fake_google
from worker import build_worker
from workflows import TokenRefreshWorkflow


def deps(sessions: async_sessionmaker[AsyncSession], google: FakeGoogle) -> ActivityDeps:
    return ActivityDeps(
        sessions=sessions,
        agents={},
        tip_ttl=timedelta(hours=1),
        vault=TEST_VAULT,
        oauth_clients={"google": google_client(google)},
    )


async def connected_user(
    sessions: async_sessionmaker[AsyncSession], google: FakeGoogle, *, expires_in: timedelta
) -> tuple[uuid.UUID, str]:
    refresh = google.grant()
    async with sessions.begin() as db:
        user = await users.create_user(db, display_name=None)
    await store_tokens(
        sessions,
        user_id=user.id,
        provider="google",
        access="ya29.old-access",
        refresh=refresh,
        expires_at=datetime.now(UTC) + expires_in,
    )
    return user.id, refresh


async def tokens_of(sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID):  # type: ignore[no-untyped-def]
    async with sessions() as db:
        return await integrations.load_tokens(
            db, user_id=user_id, provider="google", vault=TEST_VAULT
        )


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.05)


async def start(client: Client, user_id: uuid.UUID, queue: str) -> WorkflowHandle:  # type: ignore[type-arg]
    return await client.start_workflow(
        TokenRefreshWorkflow.run,
        TokenRefreshInput(user_id=user_id, provider="google"),
        id=f"token-refresh-{user_id}-google",
        task_queue=queue,
    )


async def test_a_token_is_refreshed_before_expiry_and_revoked_on_disconnect(
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with fake_google() as google:
        user_id, refresh = await connected_user(sessions, google, expires_in=timedelta(minutes=20))
        client = time_skipping_env.client
        async with build_worker(client, deps(sessions, google), task_queue=task_queue):
            handle = await start(client, user_id, task_queue)
            await time_skipping_env.sleep(timedelta(minutes=5))
            assert google.refresh_calls == 0  # not yet: 15 minutes before expiry
            await time_skipping_env.sleep(timedelta(minutes=12))

            async def refreshed() -> bool:
                return google.refresh_calls == 1

            await eventually(refreshed)
            tokens = await tokens_of(sessions, user_id)
            assert tokens.access_token.get_secret_value().startswith("ya29.fake-")
            assert tokens.refresh_token.get_secret_value() == refresh  # kept: none came back
            await handle.signal(TokenRefreshWorkflow.disconnect)
            result = await handle.result()
    assert result.status == "revoked" and result.revoked_at_provider is True
    assert refresh in google.revoked
    assert await tokens_of(sessions, user_id) is None
    assert refresh not in caplog.text and "ya29." not in caplog.text


async def test_fifty_concurrent_refreshes_make_one_token_call(
    dev_client: Client, sessions: async_sessionmaker[AsyncSession], task_queue: str
) -> None:
    async with fake_google() as google:
        user_id, _ = await connected_user(sessions, google, expires_in=timedelta(hours=-1))
        google.slow(0.3, path="/token", times=None)  # concurrent callers overlap the refresh
        async with build_worker(dev_client, deps(sessions, google), task_queue=task_queue):
            handle = await start(dev_client, user_id, task_queue)
            want = RefreshNowRequest(valid_for=timedelta(minutes=10))
            states = await asyncio.gather(
                *(handle.execute_update(TokenRefreshWorkflow.refresh_now, want) for _ in range(50))
            )
            await handle.signal(TokenRefreshWorkflow.disconnect)
            await handle.result()
        assert google.refresh_calls == 1
    assert {s.expires_in for s in states} == {timedelta(seconds=3599)}
    assert all(isinstance(s, TokenState) and s.status == "active" for s in states)


async def test_invalid_grant_asks_for_a_reconnect_once_and_waits(
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    async with fake_google() as google:
        user_id, _ = await connected_user(sessions, google, expires_in=timedelta(seconds=-1))
        google.fail_token("invalid_grant", times=None)
        client = time_skipping_env.client
        async with build_worker(client, deps(sessions, google), task_queue=task_queue):
            handle = await start(client, user_id, task_queue)

            async def asks_reconnect() -> bool:
                return (await handle.query(TokenRefreshWorkflow.state)).status == (
                    "reconnect_required"
                )

            await eventually(asks_reconnect)
            await time_skipping_env.sleep(timedelta(days=2))
            assert google.refresh_calls == 1  # never retried: no storm
            assert (await tokens_of(sessions, user_id)).status == "reconnect_required"

            # The person reconnects (the provider accepts them again): new tokens are stored
            # and the workflow is told.
            google.reset()
            await store_tokens(
                sessions,
                user_id=user_id,
                provider="google",
                access="ya29.new",
                refresh=google.grant(),
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
            await handle.signal(TokenRefreshWorkflow.reconnected)

            async def active_again() -> bool:
                return (await handle.query(TokenRefreshWorkflow.state)).status == "active"

            await eventually(active_again)
            await handle.signal(TokenRefreshWorkflow.disconnect)
            await handle.result()


async def test_a_failing_revocation_is_retried_and_the_tokens_still_go(
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    async with fake_google() as google:
        user_id, refresh = await connected_user(sessions, google, expires_in=timedelta(hours=1))
        google.fail_with(503, path="/revoke", times=2)
        client = time_skipping_env.client
        async with build_worker(client, deps(sessions, google), task_queue=task_queue):
            handle = await start(client, user_id, task_queue)
            await handle.signal(TokenRefreshWorkflow.disconnect)
            result = await handle.result()
        assert len(google.calls_to("/revoke")) == 3
    assert result.revoked_at_provider is True and refresh in google.revoked
    assert await tokens_of(sessions, user_id) is None
