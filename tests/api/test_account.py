"""DELETE /api/account and GET /api/account/export (RELIABILITY E1, E2)."""

import asyncio
import dataclasses
import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from core.logging import quiet_libraries
from core.settings import Settings
from store import integrations, users
from store.models import DeletionAudit, Identity, Session, TaskCompletion
from tests.api.conftest import Login, serve, sign_in
from tests.fakes.google import fake_google
from tests.fakes.oidc import FakeOIDC
from tests.workflows.test_account_deletion import VAULT, deps, rows_referencing
from worker import build_worker
from workflows import AccountDeletionWorkflow

EMAIL, NAME = "ada.canary@example.com", "Ada Canary"
ACCESS, REFRESH = "ya29.access-canary", "1//refresh-canary"


async def stale_login(sessions: async_sessionmaker[AsyncSession], minutes: int) -> None:
    """Every session was authenticated `minutes` ago (still live: seen just now)."""
    async with sessions.begin() as db:
        then = datetime.now(UTC) - timedelta(minutes=minutes)
        await db.execute(update(Session).values(authenticated_at=then))


async def test_deletion_needs_a_fresh_login(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    async with sessions.begin() as db:
        user = await users.create_user(db, display_name=None)
    async with serve(make_app(offline_settings)) as client:
        anonymous = await client.delete("/api/account")
        await login(client, user.id)
        await stale_login(sessions, offline_settings.fresh_login_minutes + 1)
        stale = await client.delete("/api/account")
        still_signed_in = await client.get("/api/profile")
    assert anonymous.status_code == 401
    assert stale.status_code == 403
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert stale.json()["title"] == "sign in again to delete your account"
    assert still_signed_in.status_code == 200  # nothing was deleted
    async with sessions() as db:
        assert (await users.get_user(db, user_id=user.id)) is not None


async def test_temporal_down_is_a_503_with_retry_after(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    async with sessions.begin() as db:
        user = await users.create_user(db, display_name=None)
    async with serve(make_app(offline_settings)) as client:
        await login(client, user.id)
        res = await client.delete("/api/account")
    assert res.status_code == 503 and int(res.headers["retry-after"]) > 0


async def test_deletion_end_to_end_ends_the_session_and_leaks_nothing(
    make_app: Callable[..., FastAPI],
    oauth_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    idp: FakeOIDC,
    dev_client: Client,
    task_queue: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    quiet_libraries("DEBUG")  # as every entry point configures logging, even at DEBUG
    idp.login_as("sub-ada", EMAIL, name=NAME)
    salt = oauth_settings.hash_salt.get_secret_value().encode()
    async with fake_google() as google, serve(make_app(oauth_settings, dev_client)) as client:
        assert (await sign_in(client)).status_code == 303
        sid = client.cookies["oo_sid"]
        async with sessions.begin() as db:
            user_id = await db.scalar(select(Identity.user_id).where(Identity.subject == "sub-ada"))
            assert user_id is not None
            await integrations.save_tokens(
                db,
                user_id=user_id,
                provider="google",
                vault=VAULT,
                access_token=ACCESS,
                refresh_token=google.grant(),
                expires_at=None,
                scopes="calendar",
            )
        # Both requests are in before any worker runs: the second joins the first.
        requests = [asyncio.create_task(client.delete("/api/account")) for _ in range(2)]
        await asyncio.sleep(0.5)
        worker_deps = dataclasses.replace(deps(sessions, google, dev_client), hash_salt=salt)
        async with build_worker(dev_client, worker_deps, task_queue=task_queue):
            first, second = await asyncio.gather(*requests)
            assert first.status_code == second.status_code == 202, first.text
            deletion_id = first.json()["deletion_id"]
            assert second.json() == {"deletion_id": deletion_id}
            await dev_client.get_workflow_handle_for(
                AccountDeletionWorkflow.run, f"account-deletion-{user_id}"
            ).result()
        after = await client.get("/api/profile")
        again = await client.delete("/api/account")
    assert after.status_code == 401 and again.status_code == 401
    assert await rows_referencing(sessions, user_id) == {}
    async with sessions() as db:
        audit = await db.get(DeletionAudit, uuid.UUID(deletion_id))
    assert audit is not None and audit.completed_at is not None
    recorded = json.dumps(
        {"subject": audit.subject_hash, "steps": audit.steps, "id": str(audit.id)}, default=str
    )
    assert caplog.records  # the flow did log
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    for secret in (EMAIL, "ada.canary", NAME, "Canary", ACCESS, sid, str(user_id)):
        assert secret not in recorded, secret
    for secret in (EMAIL, "ada.canary", NAME, "Canary", ACCESS, REFRESH, sid):
        assert secret not in logged, secret


async def test_the_export_holds_everything_of_the_caller_and_no_token(
    make_app: Callable[..., FastAPI],
    oauth_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    idp: FakeOIDC,
) -> None:
    idp.login_as("sub-other", "other@example.com", name="Other Person")
    async with serve(make_app(oauth_settings)) as other_client:
        await sign_in(other_client)
    idp.login_as("sub-ada", EMAIL, name=NAME)
    async with serve(make_app(oauth_settings)) as client:
        await sign_in(client)
        async with sessions.begin() as db:
            rows = (await db.execute(select(Identity.subject, Identity.user_id))).all()
            ids = {subject: user_id for subject, user_id in rows}
            for subject, user_id in ids.items():
                await integrations.save_tokens(
                    db,
                    user_id=user_id,
                    provider="todoist",
                    vault=VAULT,
                    access_token=f"{ACCESS}-{subject}",
                    refresh_token=None,
                    expires_at=None,
                    scopes="data:read",
                )
                db.add(
                    TaskCompletion(
                        user_id=user_id,
                        task_key=f"task-{subject}",
                        completed_at=datetime(2025, 1, 2, tzinfo=UTC),
                    )
                )
        res = await client.get("/api/account/export")
        # An explicit Cookie header replaces the jar's.
        anonymous = await client.get("/api/account/export", headers={"cookie": "oo_sid=none"})
    assert res.status_code == 200 and anonymous.status_code == 401
    body = res.json()
    assert body["user"]["id"] == str(ids["sub-ada"]) and body["user"]["display_name"] == NAME
    assert [i["email"] for i in body["identities"]] == [EMAIL]
    assert [t["task_key"] for t in body["task_completions"]] == ["task-sub-ada"]
    [integration] = body["integrations"]
    assert integration["provider"] == "todoist" and integration["scopes"] == "data:read"
    assert set(integration) == {
        "provider",
        "status",
        "scopes",
        "expires_at",
        "created_at",
        "updated_at",
    }
    for foreign in ("other@example.com", "Other Person", "sub-other", str(ids["sub-other"])):
        assert foreign not in res.text
    assert ACCESS not in res.text and "token" not in json.dumps(body["integrations"])


def test_libraries_that_log_parameters_stay_above_debug() -> None:
    """With OO_LOG_LEVEL=DEBUG, aiosqlite and SQLAlchemy must not log statement parameters."""
    from core.logging import configure_logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("DEBUG")
        assert logging.getLogger("aiosqlite").getEffectiveLevel() > logging.DEBUG
        assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() > logging.INFO
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("aiosqlite").setLevel(logging.NOTSET)
        for name in ("authlib", "httpx", "httpcore", "sqlalchemy.engine"):
            logging.getLogger(name).setLevel(logging.NOTSET)
