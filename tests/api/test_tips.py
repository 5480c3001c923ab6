import asyncio
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities import ActivityDeps, LlmConfig
from agents import all_agents
from core.settings import Settings
from store.models import TipDecision
from tests.api.conftest import Login, serve
from tests.factories import count_rows, fixed_agent, persona_user, stored_tip
from tests.fakes.litellm import fake_litellm
from tests.faults.dev_server import PrivateDevServer
from worker import build_worker


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
    stored = await stored_tip(sessions, user_id)
    async with serve(make_app(offline_settings)) as client:
        assert (await login(client, user_id)).status_code == 200
        res = await client.get("/api/tip")
    assert res.status_code == 200
    assert res.json()["status"] == "tip"
    assert res.json()["tip"]["id"] == str(stored.id)
    assert res.json()["tip"]["text"] == "Stored tip."


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


async def test_temporal_lost_after_connecting_is_a_quick_503_and_stored_tips_still_read(
    make_app: Callable[..., FastAPI],
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
    tmp_path: Path,
) -> None:
    """G2 once the API's client has connected: its calls raise RPCError, not a connect error."""
    server = PrivateDevServer(tmp_path / "temporal.db", tmp_path / "temporal.log")
    await server.start()
    settings = app_settings.model_copy(update={"temporal_address": server.address})
    miss, with_tip = await persona_user(sessions), await persona_user(sessions)
    await stored_tip(sessions, with_tip)
    try:
        async with serve(make_app(settings)) as client:
            before = await client.get("/readyz")  # connects the API's client
            await server.kill(signal.SIGKILL)
            started = time.monotonic()
            ready = await client.get("/readyz")
            ready_s = time.monotonic() - started
            await login(client, miss)
            started = time.monotonic()
            res = await client.get("/api/tip")
            miss_s = time.monotonic() - started
            await login(client, with_tip)
            stored = await client.get("/api/tip")
    finally:
        await server.stop()
    print(f"\nTemporal lost: /readyz 503 in {ready_s:.2f} s, a miss 503 in {miss_s:.2f} s")
    assert before.json()["temporal"] == "ok"
    assert ready.status_code == 503 and ready_s < 5
    assert ready.json() == {"status": "down", "database": "ok", "temporal": "down"}
    assert res.status_code == 503 and int(res.headers["retry-after"]) > 0, res.text
    assert res.headers["content-type"] == "application/problem+json"
    assert miss_s < 5
    assert stored.status_code == 200 and stored.json()["tip"]["text"] == "Stored tip."


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
    body = first.json()
    assert body["status"] in {"tip", "nothing"}
    assert second.json() == body  # stored (a tip) or kept (nothing now): the same answer
    if body["tip"]:
        assert set(body["tip"]["agent_ids"]) <= set(all_agents())
    assert ready.json() == {"status": "ok", "database": "ok", "temporal": "ok"}


async def test_200_concurrent_requests_for_a_new_tip_make_one_llm_call(
    make_app: Callable[..., FastAPI],
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    dev_client: Client,
    login: Login,
) -> None:
    user_id = await persona_user(sessions)
    with fake_litellm(reply="S1 advice: One clear step now.", latency_s=1.5) as llm:
        deps = ActivityDeps(
            sessions=sessions,
            agents={"fixed": fixed_agent()},
            tip_ttl=timedelta(hours=1),
            llm=LlmConfig(url=llm.url, timeout_s=10),
        )
        async with (
            build_worker(dev_client, deps, task_queue=app_settings.task_queue),
            serve(make_app(app_settings, dev_client)) as client,
        ):
            await login(client, user_id)
            responses = await asyncio.gather(*(client.post("/api/tip/next") for _ in range(200)))
        assert len(llm.chat_calls) == 1
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["tip"]["id"] for r in responses}) == 1
    assert responses[0].json()["tip"]["generator"] == "llm"


async def test_a_nothing_now_answer_is_kept_for_a_while_and_next_asks_anew(
    make_app: Callable[..., FastAPI],
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    dev_client: Client,
    login: Login,
) -> None:
    user_id = await persona_user(sessions)
    deps = ActivityDeps(
        sessions=sessions,
        agents={"faint": fixed_agent("faint", salience=0.01)},
        tip_ttl=timedelta(hours=1),
    )
    async with (
        build_worker(dev_client, deps, task_queue=app_settings.task_queue),
        serve(make_app(app_settings, dev_client)) as client,
    ):
        await login(client, user_id)
        first = await client.get("/api/tip")
        again = [await client.get("/api/tip") for _ in range(3)]
        decided_once = await count_rows(sessions, TipDecision)
        asked = await client.post("/api/tip/next")
        decided_after_next = await count_rows(sessions, TipDecision)
    assert first.status_code == 200 and first.json()["status"] == "nothing"
    assert first.json()["next_tip_at"] is not None
    assert [r.json() for r in again] == [first.json()] * 3
    assert decided_once == 1
    assert asked.json()["status"] == "nothing" and decided_after_next == 2
