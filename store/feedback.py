"""Reactions to tips: recorded once per (tip, kind), read back as the agents' feedback."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from contracts.agents import FeedbackEvent as FeedbackEventRead
from contracts.agents import FeedbackKind
from contracts.tips import DISMISSING, ReactionRead
from store.db import insert_for
from store.models import FeedbackEvent, Tip, utcnow

_DISMISSING = sorted(DISMISSING)


def dismissed(tip_id: Any) -> ColumnElement[bool]:
    """Whether the tip (an id, or a column such as Tip.id) has a reaction that dismisses it."""
    # An alias, so that inside a query on feedback_events it is not correlated to that table.
    reaction = aliased(FeedbackEvent)
    return exists().where(reaction.tip_id == tip_id, reaction.kind.in_(_DISMISSING))


async def record_reaction(
    db: AsyncSession, *, user_id: uuid.UUID, tip_id: uuid.UUID, kind: FeedbackKind
) -> ReactionRead | None:
    """Record a reaction to the user's tip; the same (tip, kind) again keeps the first.

    None when the user has no such tip (another user's tip is as unknown as a missing one).
    """
    owned = await db.scalar(select(Tip.id).where(Tip.id == tip_id, Tip.user_id == user_id))
    if owned is None:
        return None
    insert = insert_for(db)
    values = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "tip_id": tip_id,
        "kind": kind,
        "created_at": utcnow(),
    }
    stmt = insert(FeedbackEvent).values(**values)
    await db.execute(stmt.on_conflict_do_nothing(index_elements=["tip_id", "kind"]))
    row = (
        await db.execute(
            select(FeedbackEvent.created_at, dismissed(tip_id).label("dismissed")).where(
                FeedbackEvent.tip_id == tip_id, FeedbackEvent.kind == kind
            )
        )
    ).one()
    return ReactionRead(
        tip_id=tip_id, kind=kind, created_at=row.created_at, dismissed=bool(row.dismissed)
    )


async def dismissals_since(
    db: AsyncSession, *, user_id: uuid.UUID, since: datetime
) -> list[FeedbackEventRead]:
    """The user's dismissing reactions since `since`, with the agents of each tip."""
    stmt = (
        select(FeedbackEvent.kind, FeedbackEvent.created_at, Tip.id, Tip.agent_ids)
        .join(Tip, Tip.id == FeedbackEvent.tip_id)
        .where(
            FeedbackEvent.user_id == user_id,
            FeedbackEvent.kind.in_(_DISMISSING),
            FeedbackEvent.created_at >= since,
        )
        .order_by(FeedbackEvent.created_at)
    )
    return [
        FeedbackEventRead(kind=kind, at=at, tip_id=tip_id, agent_ids=list(agent_ids or []))
        for kind, at, tip_id, agent_ids in await db.execute(stmt)
    ]
