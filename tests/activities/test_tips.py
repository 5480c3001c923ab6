from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities import ActivityDeps
from activities.agents import AgentActivities
from activities.tips import TipActivities
from agents import all_agents
from contracts.tips import (
    AgentComputeInput,
    Candidate,
    StoreTipInput,
    TipContextInput,
    TipDraft,
)
from store import users
from store.models import AgentOutput, Tip, TipDecision
from tests.factories import persona_user

NOW = datetime.now(UTC).replace(microsecond=0)


def deps(sessions: async_sessionmaker[AsyncSession]) -> ActivityDeps:
    return ActivityDeps(sessions=sessions, agents=all_agents(), tip_ttl=timedelta(hours=3))


async def test_context_lists_stale_agents_until_they_are_computed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    user_id = await persona_user(sessions, now=NOW)
    env = ActivityEnvironment()
    tips, agents = TipActivities(deps(sessions)), AgentActivities(deps(sessions))

    ctx = await env.run(tips.load_tip_context, TipContextInput(user_id=user_id, as_of=NOW))
    assert "time-of-day" in ctx.stale_agent_ids and ctx.snippets == []

    computed = await env.run(
        agents.compute_agent_snippet,
        AgentComputeInput(user_id=user_id, agent_id="time-of-day", as_of=NOW),
    )
    assert computed.snippet is not None
    # Computing twice upserts: still one row.
    await env.run(
        agents.compute_agent_snippet,
        AgentComputeInput(user_id=user_id, agent_id="time-of-day", as_of=NOW),
    )
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(AgentOutput)) == 1
        prefs = await users.preferences(db, user_id=user_id, scope="time-of-day")
    # Inference ran with the compute and its values were stored for the agent's scope.
    assert isinstance(prefs.get("preferred_hour"), int)
    assert computed.snippet.facts["preferred_hour"] == prefs["preferred_hour"]

    ctx = await env.run(tips.load_tip_context, TipContextInput(user_id=user_id, as_of=NOW))
    assert "time-of-day" not in ctx.stale_agent_ids
    assert "time-of-day" in [s.agent_id for s in ctx.snippets]
    # Once expired, the agent is stale again.
    later = NOW + timedelta(hours=2)
    ctx = await env.run(tips.load_tip_context, TipContextInput(user_id=user_id, as_of=later))
    assert "time-of-day" in ctx.stale_agent_ids


async def test_storing_a_tip_twice_for_one_run_keeps_one_tip(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    user_id = await persona_user(sessions, now=NOW)
    tips = TipActivities(deps(sessions))
    inp = StoreTipInput(
        user_id=user_id,
        status="tip",
        reason="next",
        draft=TipDraft(text="Drink water.", agent_ids=["a"]),
        candidates=[Candidate(agent_id="a", salience=0.5), Candidate(agent_id="b", salience=0.1)],
        run_id="run-1",
        as_of=NOW,
    )
    first = await ActivityEnvironment().run(tips.store_tip, inp)
    again = await ActivityEnvironment().run(tips.store_tip, inp)
    assert first == again and first.tip is not None
    assert first.tip.expires_at == NOW + timedelta(hours=3)
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Tip)) == 1
        decision = (await db.scalars(select(TipDecision))).one()
    assert decision.tip_id == first.tip.id and decision.chosen == ["a"]
    assert decision.candidates == [
        {"agent_id": "a", "salience": 0.5},
        {"agent_id": "b", "salience": 0.1},
    ]


async def test_past_the_daily_budget_no_new_tip_is_made(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    user_id = await persona_user(sessions, now=NOW)
    d = ActivityDeps(
        sessions=sessions, agents=all_agents(), tip_ttl=timedelta(hours=3), tip_daily_budget=2
    )
    tips, env = TipActivities(d), ActivityEnvironment()
    for n in range(2):
        await env.run(
            tips.store_tip,
            StoreTipInput(
                user_id=user_id,
                status="tip",
                reason="next",
                draft=TipDraft(text=f"t{n}"),
                run_id=f"r{n}",
                as_of=NOW,
            ),
        )
    ctx = await env.run(tips.load_tip_context, TipContextInput(user_id=user_id, as_of=NOW))
    assert ctx.tips_left_today == 0
