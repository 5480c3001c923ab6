"""PATCH /api/profile/contexts, and an active `away` context keeping proactive tips quiet."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities import ActivityDeps
from contracts.tips import GenerateTipInput
from core.settings import Settings
from store.models import Context
from tests.api.conftest import Login, serve
from tests.factories import fixed_agent, persona_user
from worker import build_worker
from workflows.client import generate_tip

CONTEXTS = "/api/profile/contexts"
CANARY = "CANARY-5d0e-contexts"


def iso(at: datetime) -> str:
    return at.isoformat()


async def stored(
    sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID
) -> list[tuple[str, Any]]:
    async with sessions() as db:
        found = await db.scalars(
            select(Context).where(Context.user_id == user_id).order_by(Context.kind)
        )
        return [(c.kind, c.value) for c in found]


async def test_contexts_are_added_listed_and_removed(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me = await persona_user(sessions)
    now = datetime.now(UTC).replace(microsecond=0)
    add = [
        {"kind": "focus", "value": {"on": "writing"}},
        {"kind": "travel", "starts_at": iso(now), "ends_at": iso(now + timedelta(days=3))},
    ]
    async with serve(make_app(offline_settings)) as client:
        anonymous = await client.patch(CONTEXTS, json={"add": add})
        await login(client, me)
        added = await client.patch(CONTEXTS, json={"add": add})
        profile = (await client.get("/api/profile")).json()
        focus = next(c for c in added.json()["contexts"] if c["kind"] == "focus")
        removed = await client.patch(CONTEXTS, json={"remove": [focus["id"]]})
    assert anonymous.status_code == 401
    assert added.status_code == 200, added.text
    assert sorted((c["kind"], c["value"]) for c in added.json()["contexts"]) == [
        ("focus", {"on": "writing"}),
        ("travel", {}),
    ]
    travel = next(c for c in added.json()["contexts"] if c["kind"] == "travel")
    assert datetime.fromisoformat(travel["ends_at"]) == now + timedelta(days=3)
    assert profile["contexts"] == added.json()["contexts"]
    assert [c["kind"] for c in removed.json()["contexts"]] == ["travel"]
    assert await stored(sessions, me) == [("travel", {})]


async def test_removing_another_users_context_is_not_found_and_changes_nothing(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me, other = await persona_user(sessions), await persona_user(sessions, seed=2)
    async with sessions.begin() as db:
        theirs = Context(user_id=other, kind="unwell", value={})
        mine = Context(user_id=me, kind="focus", value={})
        db.add_all([theirs, mine])
    async with serve(make_app(offline_settings)) as client:
        await login(client, me)
        res = await client.patch(
            CONTEXTS,
            json={"add": [{"kind": "away"}], "remove": [str(mine.id), str(theirs.id)]},
        )
        unknown = await client.patch(CONTEXTS, json={"remove": [str(uuid.uuid4())]})
    assert res.status_code == 404 and unknown.status_code == 404
    assert res.headers["content-type"] == "application/problem+json"
    assert await stored(sessions, me) == [("focus", {})]
    assert await stored(sessions, other) == [("unwell", {})]


NOW = datetime(2026, 1, 10, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "add",
    [
        [{"kind": CANARY}],
        [{"kind": "away", "starts_at": iso(NOW), "ends_at": iso(NOW)}],
        [{"kind": "away", "starts_at": iso(NOW), "ends_at": iso(NOW - timedelta(hours=1))}],
        [{"kind": "away", "starts_at": "2026-01-10T12:00:00"}],  # no zone
        [{"kind": "away", "starts_at": "0001-01-01T00:00:00+05:00"}],  # no such instant in UTC
        [{"kind": "focus", "value": {"on": {"nested": CANARY}}}],
        [{"kind": "focus", "value": {"on": CANARY * 20}}],
        [{"kind": "focus", "value": {f"k{i}": CANARY for i in range(11)}}],
        [{"kind": "focus", "value": CANARY}],
        [{"kind": "focus"}] * 21,
    ],
)
async def test_invalid_contexts_are_refused_without_echo_and_change_nothing(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
    add: list[dict[str, Any]],
) -> None:
    me = await persona_user(sessions)
    async with serve(make_app(offline_settings)) as client:
        await login(client, me)
        res = await client.patch(CONTEXTS, json={"add": add})
    assert res.status_code == 422
    assert res.headers["content-type"] == "application/problem+json"
    assert CANARY not in res.text
    assert await stored(sessions, me) == []


async def test_at_most_twenty_contexts_per_user(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me = await persona_user(sessions)
    async with serve(make_app(offline_settings)) as client:
        await login(client, me)
        first = await client.patch(CONTEXTS, json={"add": [{"kind": "focus"}] * 15})
        over = await client.patch(CONTEXTS, json={"add": [{"kind": "travel"}] * 6})
        one_id = first.json()["contexts"][0]["id"]
        swap = await client.patch(
            CONTEXTS, json={"add": [{"kind": "travel"}] * 6, "remove": [one_id]}
        )
    assert first.status_code == 200 and over.status_code == 422
    assert swap.status_code == 200 and len(swap.json()["contexts"]) == 20
    assert len(await stored(sessions, me)) == 20


async def test_an_active_away_context_makes_a_proactive_tip_quiet(
    make_app: Callable[..., FastAPI],
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    dev_client: Client,
    login: Login,
) -> None:
    me = await persona_user(sessions)
    now = datetime.now(UTC).replace(microsecond=0)
    back = now + timedelta(hours=2)
    deps = ActivityDeps(
        sessions=sessions, agents={"fixed": fixed_agent()}, tip_ttl=timedelta(hours=1)
    )
    queue = app_settings.task_queue
    proactive = GenerateTipInput(user_id=me, reason="proactive")
    async with (
        build_worker(dev_client, deps, task_queue=queue),
        serve(make_app(app_settings, dev_client)) as client,
    ):
        await login(client, me)
        past = {"kind": "away", "starts_at": iso(now - timedelta(days=2)), "ends_at": iso(now)}
        await client.patch(CONTEXTS, json={"add": [past, {"kind": "focus"}]})
        while_here = await generate_tip(dev_client, proactive, task_queue=queue)
        away = {"kind": "away", "starts_at": iso(now - timedelta(hours=1)), "ends_at": iso(back)}
        assert (await client.patch(CONTEXTS, json={"add": [away]})).status_code == 200
        while_away = await generate_tip(dev_client, proactive, task_queue=queue)
        asked = await client.post("/api/tip/next")
    assert while_here.status == "tip"
    assert while_away.status == "quiet" and while_away.tip is None
    assert while_away.next_tip_at == back
    assert asked.json()["status"] == "tip"  # a person who asks is answered
