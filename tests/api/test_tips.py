import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities import ActivityDeps
from agents import all_agents
from contracts.tips import TipDraft
from core.settings import Settings
from store import tips
from tests.api.conftest import serve
from tests.factories import persona_user
from worker import build_worker

Login = Callable[[httpx.AsyncClient, Any], Awaitable[httpx.Response]]


async def test_without_a_session_the_tip_is_refused(
    make_app: Callable[..., FastAPI], offline_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(offline_settings)) as client:
        res = await client.get("/api/tip")
    assert res.status_code == 401
    assert res.headers["content-type"] == "application/problem+json"


async def test_a_stored_tip_is_served_from_the_database_even_with_temporal_down(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    user_id = await persona_user(sessions)
    async with sessions.begin() as db:
        stored = await tips.store_tip(
            db,
            user_id=user_id,
            draft=TipDraft(text="Stored tip."),
            run_id="r1",
            now=datetime.now(UTC),
            ttl=timedelta(hours=1),
        )
    async with serve(make_app(offline_settings)) as client:
        assert (await login(client, user_id)).status_code == 200
        res = await client.get("/api/tip")
    assert res.status_code == 200
    assert res.json()["id"] == str(stored.id) and res.json()["text"] == "Stored tip."


async def test_a_miss_with_temporal_down_is_a_quick_503_with_retry_after(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    user_id = await persona_user(sessions)
    async with serve(make_app(offline_settings)) as client:
        await login(client, user_id)
        started = time.monotonic()
        res = await client.get("/api/tip")
        elapsed = time.monotonic() - started
        ready = await client.get("/readyz")
    assert res.status_code == 503 and int(res.headers["retry-after"]) > 0
    assert elapsed < 5
    assert ready.status_code == 503
    assert ready.json() == {"status": "down", "database": "ok", "temporal": "down"}


async def test_a_miss_generates_a_tip_through_temporal_and_then_serves_it_stored(
    make_app: Callable[..., FastAPI],
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    dev_client: Client,
    login: Login,
) -> None:
    user_id = await persona_user(sessions)
    deps = ActivityDeps(sessions=sessions, agents=all_agents(), tip_ttl=timedelta(hours=1))
    async with (
        build_worker(dev_client, deps, task_queue=app_settings.task_queue),
        serve(make_app(app_settings, dev_client)) as client,
    ):
        await login(client, user_id)
        first = await client.get("/api/tip")
        second = await client.get("/api/tip")
        ready = await client.get("/readyz")
    assert first.status_code == 200, first.text
    assert set(first.json()["agent_ids"]) <= set(all_agents())
    assert second.json() == first.json()
    assert ready.json() == {"status": "ok", "database": "ok", "temporal": "ok"}
