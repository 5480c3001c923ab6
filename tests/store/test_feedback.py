"""Reactions in the store: one per (tip, kind), and a dismissed tip never comes back."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.agents import FeedbackKind
from contracts.tips import StoreTipInput, TipRead
from store import feedback, tips, users
from store.models import FeedbackEvent
from tests.factories import count_rows, stored_tip

NOW = datetime.now(UTC).replace(microsecond=0)


async def a_user(sessions: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    async with sessions.begin() as db:
        return (await users.create_user(db, display_name=None)).id


async def a_tip(
    sessions: async_sessionmaker[AsyncSession],
    user_id: uuid.UUID,
    *,
    at: datetime = NOW,
    agent_ids: tuple[str, ...] = ("a",),
) -> TipRead:
    return await stored_tip(
        sessions, user_id, "A tip.", at=at, agent_ids=agent_ids, ttl=timedelta(hours=3)
    )


async def react(
    sessions: async_sessionmaker[AsyncSession],
    user_id: uuid.UUID,
    tip_id: uuid.UUID,
    kind: FeedbackKind,
) -> None:
    async with sessions.begin() as db:
        assert await feedback.record_reaction(db, user_id=user_id, tip_id=tip_id, kind=kind)


async def test_concurrent_identical_reactions_keep_one_row(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    me = await a_user(sessions)
    tip = await a_tip(sessions, me)
    await asyncio.gather(*(react(sessions, me, tip.id, "done") for _ in range(5)))
    await react(sessions, me, tip.id, "like")
    async with sessions() as db:
        kinds = (await db.scalars(select(FeedbackEvent.kind))).all()
        theirs = await feedback.record_reaction(
            db, user_id=await a_user(sessions), tip_id=tip.id, kind="like"
        )
    assert sorted(kinds) == ["done", "like"]
    assert theirs is None


async def test_a_dismissed_newest_tip_is_not_replaced_by_an_older_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    me = await a_user(sessions)
    older = await a_tip(sessions, me, at=NOW - timedelta(minutes=30))
    newer = await a_tip(sessions, me)
    assert older.expires_at > NOW  # still current, were the newer one gone
    await react(sessions, me, newer.id, "like")
    async with sessions() as db:
        assert await tips.current_tip(db, user_id=me, now=NOW) == newer
    await react(sessions, me, newer.id, "not_now")
    async with sessions() as db:
        assert await tips.current_tip(db, user_id=me, now=NOW) is None
        assert await tips.latest_tip(db, user_id=me) is None


async def test_past_the_budget_the_last_tip_stays_unless_it_was_dismissed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    me = await a_user(sessions)
    tip = await a_tip(sessions, me, at=NOW - timedelta(hours=5))  # aged, still shown

    async def budget() -> TipRead | None:
        inp = StoreTipInput(
            user_id=me, status="budget", reason="miss", run_id=str(uuid.uuid4()), as_of=NOW
        )
        async with sessions.begin() as db:
            return (await tips.store_outcome(db, inp=inp, ttl=timedelta(hours=3))).tip

    assert await budget() == tip
    await react(sessions, me, tip.id, "not_for_me")
    assert await budget() is None


async def test_dismissals_carry_the_tips_agents_and_only_the_users_own(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    me, other = await a_user(sessions), await a_user(sessions)
    mine = await a_tip(sessions, me, agent_ids=("a", "b"))
    liked = await a_tip(sessions, me, agent_ids=("c",))
    theirs = await a_tip(sessions, other, agent_ids=("d",))
    await react(sessions, me, mine.id, "not_now")
    await react(sessions, me, liked.id, "like")
    await react(sessions, other, theirs.id, "done")
    async with sessions() as db:
        found = await feedback.dismissals_since(db, user_id=me, since=NOW - timedelta(days=1))
        later = await feedback.dismissals_since(db, user_id=me, since=NOW + timedelta(days=1))
    total = await count_rows(sessions, FeedbackEvent)
    assert [(e.kind, e.tip_id, e.agent_ids) for e in found] == [("not_now", mine.id, ["a", "b"])]
    assert later == [] and total == 3
