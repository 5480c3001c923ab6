"""Reactions to a tip and its "why": recorded once, dismissing, and felt by the next tips."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from activities import ActivityDeps
from activities.tips import TipActivities
from agents.registry import Agent
from contracts.agents import Snippet
from contracts.tips import TipContext, TipContextInput
from core.settings import Settings
from store import agent_outputs, tips
from store.models import FeedbackEvent
from tests.api.conftest import Login, serve
from tests.factories import count_rows, fixed_agent, persona_user, stored_tip
from worker import build_worker

NOW = datetime.now(UTC).replace(microsecond=0)


def agent_deps(
    sessions: async_sessionmaker[AsyncSession], *agents: Agent, budget: int = 12
) -> ActivityDeps:
    return ActivityDeps(
        sessions=sessions,
        agents={a.id: a for a in agents},
        tip_ttl=timedelta(hours=3),
        tip_daily_budget=budget,
    )


async def an_output(
    sessions: async_sessionmaker[AsyncSession],
    user_id: uuid.UUID,
    agent_id: str,
    *,
    text: str,
    computed_at: datetime = NOW,
) -> None:
    """A stored snippet of the agent, fresh for an hour from `computed_at`."""
    snippet = Snippet(
        agent_id=agent_id,
        agent_version="1.0.0",
        text=text,
        facts={"said": text},
        salience=0.7,
        expires_at=computed_at + timedelta(hours=1),
    )
    async with sessions.begin() as db:
        await agent_outputs.upsert_output(
            db,
            user_id=user_id,
            agent_id=agent_id,
            agent_version="1.0.0",
            snippet=snippet,
            computed_at=computed_at,
            expires_at=snippet.expires_at,
        )


async def a_tip(
    sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID, *agent_ids: str
) -> str:
    """A stored tip made from the agents' stored snippets; its id."""
    tip = await stored_tip(
        sessions, user_id, f"Tip from {agent_ids}.", agent_ids=agent_ids, ttl=timedelta(hours=3)
    )
    return str(tip.id)


async def context_at(
    sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID, at: datetime, *agents: Agent
) -> TipContext:
    activities = TipActivities(agent_deps(sessions, *agents))
    return await ActivityEnvironment().run(
        activities.load_tip_context, TipContextInput(user_id=user_id, as_of=at)
    )


async def test_a_reaction_is_recorded_once_and_done_dismisses_the_tip(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me = await persona_user(sessions)
    tip_id = await a_tip(sessions, me)
    async with serve(make_app(offline_settings)) as client:
        await login(client, me)
        liked = await client.post(f"/api/tips/{tip_id}/reaction", json={"kind": "like"})
        still = await client.get("/api/tip")
        done = await client.post(f"/api/tips/{tip_id}/reaction", json={"kind": "done"})
        again = await client.post(f"/api/tips/{tip_id}/reaction", json={"kind": "done"})
        liked_again = await client.post(f"/api/tips/{tip_id}/reaction", json={"kind": "like"})
    assert liked.status_code == 200, liked.text
    assert liked.json()["kind"] == "like" and liked.json()["dismissed"] is False
    assert still.json()["tip"]["id"] == tip_id  # a like keeps the tip
    assert done.status_code == 200 and done.json()["dismissed"] is True
    assert again.json() == done.json()  # the same answer, the first reaction's time
    assert liked_again.json()["dismissed"] is True  # the tip stays dismissed
    assert await count_rows(sessions, FeedbackEvent) == 2


async def test_another_users_tip_is_not_found_and_nothing_is_recorded(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me, other = await persona_user(sessions), await persona_user(sessions, seed=2)
    theirs = await a_tip(sessions, other, "momentum")
    async with serve(make_app(offline_settings)) as client:
        anonymous = await client.post(f"/api/tips/{theirs}/reaction", json={"kind": "done"})
        await login(client, me)
        react = await client.post(f"/api/tips/{theirs}/reaction", json={"kind": "done"})
        why = await client.get(f"/api/tips/{theirs}/why")
        unknown = await client.post(f"/api/tips/{uuid.uuid4()}/reaction", json={"kind": "like"})
        unknown_why = await client.get(f"/api/tips/{uuid.uuid4()}/why")
    assert anonymous.status_code == 401
    assert {r.status_code for r in (react, why, unknown, unknown_why)} == {404}
    assert react.headers["content-type"] == "application/problem+json"
    assert await count_rows(sessions, FeedbackEvent) == 0
    async with sessions() as db:
        assert (await tips.current_tip(db, user_id=other, now=datetime.now(UTC))) is not None


async def test_an_invalid_reaction_is_refused_without_echoing_it(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me = await persona_user(sessions)
    tip_id = await a_tip(sessions, me)
    canary = "CANARY-7f3a-reaction"
    async with serve(make_app(offline_settings)) as client:
        await login(client, me)
        bad_kind = await client.post(f"/api/tips/{tip_id}/reaction", json={"kind": canary})
        bad_body = await client.post(f"/api/tips/{tip_id}/reaction", json=[canary])
    for res in (bad_kind, bad_body):
        assert res.status_code == 422
        assert res.headers["content-type"] == "application/problem+json"
        assert canary not in res.text
    assert await count_rows(sessions, FeedbackEvent) == 0


async def test_why_keeps_the_snippets_as_they_were_when_the_tip_was_made(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me = await persona_user(sessions)
    await an_output(sessions, me, "momentum", text="You are on a roll.")
    await an_output(sessions, me, "time-of-day", text="Your best hour is near.")
    tip_id = await a_tip(sessions, me, "momentum")
    await an_output(sessions, me, "momentum", text="Later, something else.")
    async with serve(make_app(offline_settings)) as client:
        await login(client, me)
        res = await client.get(f"/api/tips/{tip_id}/why")
    assert res.status_code == 200, res.text
    assert res.json() == {
        "tip_id": tip_id,
        "generator": "composer",
        "agents": [
            {
                "agent_id": "momentum",
                "text": "You are on a roll.",
                "facts": {"said": "You are on a roll."},
                "salience": 0.7,
            }
        ],
    }


async def test_not_now_and_not_for_me_leave_the_agents_out_for_their_windows(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me = await persona_user(sessions)
    a, b, c = fixed_agent("a"), fixed_agent("b"), fixed_agent("c")
    for agent in (a, b, c):
        await an_output(sessions, me, agent.id, text=f"From {agent.id}.")
    later_tip, never_tip = await a_tip(sessions, me, "a"), await a_tip(sessions, me, "b")
    async with serve(make_app(offline_settings)) as client:
        await login(client, me)
        for tip_id, kind in ((later_tip, "not_now"), (never_tip, "not_for_me")):
            res = await client.post(f"/api/tips/{tip_id}/reaction", json={"kind": kind})
            assert res.status_code == 200, res.text
    now = datetime.now(UTC)
    ctx = await context_at(sessions, me, now, a, b, c)
    assert ctx.muted_agent_ids == ["a", "b"]
    assert [s.agent_id for s in ctx.snippets] == ["c"]
    # Three hours on, the outputs have expired: "a" is recomputed again, "b" is not.
    ctx = await context_at(sessions, me, now + timedelta(hours=3, minutes=1), a, b, c)
    assert ctx.muted_agent_ids == ["b"]
    assert sorted(ctx.stale_agent_ids) == ["a", "c"]
    ctx = await context_at(sessions, me, now + timedelta(days=14, minutes=1), a, b, c)
    assert ctx.muted_agent_ids == [] and sorted(ctx.stale_agent_ids) == ["a", "b", "c"]


async def test_done_leaves_the_agent_out_until_it_recomputes_after_the_reaction(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me = await persona_user(sessions)
    a, b = fixed_agent("a"), fixed_agent("b")
    before = datetime.now(UTC) - timedelta(minutes=5)
    for agent in (a, b):
        await an_output(sessions, me, agent.id, text=f"From {agent.id}.", computed_at=before)
    tip_id = await a_tip(sessions, me, "a")
    async with serve(make_app(offline_settings)) as client:
        await login(client, me)
        assert (await client.post(f"/api/tips/{tip_id}/reaction", json={"kind": "done"})).is_success
    ctx = await context_at(sessions, me, datetime.now(UTC), a, b)
    assert ctx.muted_agent_ids == ["a"]
    assert [s.agent_id for s in ctx.snippets] == ["b"] and ctx.stale_agent_ids == []
    await an_output(sessions, me, "a", text="Recomputed.", computed_at=datetime.now(UTC))
    ctx = await context_at(sessions, me, datetime.now(UTC), a, b)
    assert ctx.muted_agent_ids == []
    assert sorted(s.text for s in ctx.snippets) == ["From b.", "Recomputed."]


async def test_a_dismissed_tip_gives_way_to_another_agents_and_is_never_served_again(
    make_app: Callable[..., FastAPI],
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    dev_client: Client,
    login: Login,
) -> None:
    me = await persona_user(sessions)
    strong = fixed_agent("strong", salience=0.9, text="The strong one.")
    weak = fixed_agent("weak", salience=0.5, text="The weak one.")
    async with (
        build_worker(
            dev_client, agent_deps(sessions, strong, weak), task_queue=app_settings.task_queue
        ),
        serve(make_app(app_settings, dev_client)) as client,
    ):
        await login(client, me)
        first = (await client.get("/api/tip")).json()
        assert first["tip"]["text"] == "The strong one."
        not_now = await client.post(
            f"/api/tips/{first['tip']['id']}/reaction", json={"kind": "not_now"}
        )
        second = (await client.get("/api/tip")).json()
        why = (await client.get(f"/api/tips/{second['tip']['id']}/why")).json()
        await client.post(f"/api/tips/{second['tip']['id']}/reaction", json={"kind": "not_for_me"})
        third = (await client.get("/api/tip")).json()
    assert not_now.json()["dismissed"] is True
    assert second["status"] == "tip" and second["tip"]["text"] == "The weak one."
    assert [(a["agent_id"], a["text"]) for a in why["agents"]] == [("weak", "The weak one.")]
    assert third == {"status": "nothing", "tip": None, "next_tip_at": third["next_tip_at"]}


async def test_past_the_daily_budget_a_dismissed_tip_is_not_given_back(
    make_app: Callable[..., FastAPI],
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    dev_client: Client,
    login: Login,
) -> None:
    me = await persona_user(sessions)
    deps = agent_deps(sessions, fixed_agent(), budget=1)
    async with (
        build_worker(dev_client, deps, task_queue=app_settings.task_queue),
        serve(make_app(app_settings, dev_client)) as client,
    ):
        await login(client, me)
        first = (await client.get("/api/tip")).json()
        await client.post(f"/api/tips/{first['tip']['id']}/reaction", json={"kind": "done"})
        after = await client.get("/api/tip")
        asked = await client.post("/api/tip/next")
    assert first["status"] == "tip"
    assert after.status_code == 200 and after.json()["status"] == "budget"
    assert after.json()["tip"] is None
    assert asked.json()["status"] == "budget" and asked.json()["tip"] is None
