"""Tips and tip decisions: the current tip, today's count, idempotent storing by run."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.tips import StoreTipInput, TipOutcome, TipRead
from store.models import Tip, TipDecision


async def latest_tip(
    db: AsyncSession, *, user_id: uuid.UUID, unexpired_at: datetime | None = None
) -> TipRead | None:
    """The newest tip of a user; with `unexpired_at`, only one still current then."""
    stmt = select(Tip).where(Tip.user_id == user_id)
    if unexpired_at is not None:
        stmt = stmt.where(Tip.expires_at > unexpired_at)
    row = (await db.scalars(stmt.order_by(Tip.created_at.desc()).limit(1))).first()
    return TipRead.model_validate(row, from_attributes=True) if row else None


async def current_tip(db: AsyncSession, *, user_id: uuid.UUID, now: datetime) -> TipRead | None:
    """The newest unexpired tip of a user."""
    return await latest_tip(db, user_id=user_id, unexpired_at=now)


async def count_tips_since(db: AsyncSession, *, user_id: uuid.UUID, since: datetime) -> int:
    stmt = select(func.count()).where(Tip.user_id == user_id, Tip.created_at >= since)
    return int(await db.scalar(stmt) or 0)


async def store_outcome(db: AsyncSession, *, inp: StoreTipInput, ttl: timedelta) -> TipOutcome:
    """Store a decision (and its tip, if any) once per run id; a retry returns the same."""
    decision = (
        await db.scalars(select(TipDecision).where(TipDecision.run_id == inp.run_id))
    ).first()
    if decision is None:
        tip = None
        if inp.draft is not None:
            tip = Tip(
                user_id=inp.user_id,
                run_id=inp.run_id,
                created_at=inp.as_of,
                expires_at=inp.as_of + ttl,
                **inp.draft.model_dump(),
            )
            db.add(tip)
            await db.flush()
        decision = TipDecision(
            user_id=inp.user_id,
            run_id=inp.run_id,
            tip_id=tip.id if tip else None,
            reason=inp.reason,
            status=inp.status,
            generator=inp.draft.generator if inp.draft else None,
            candidates=[c.model_dump() for c in inp.candidates],
            chosen=inp.draft.agent_ids if inp.draft else [],
            latency_ms=inp.draft.latency_ms if inp.draft else None,
            decided_at=inp.as_of,
        )
        db.add(decision)
        await db.flush()
    tip_read = None
    if decision.tip_id is not None:
        row = await db.get(Tip, decision.tip_id)
        tip_read = TipRead.model_validate(row, from_attributes=True) if row else None
    elif inp.status == "budget":
        # Past the daily budget the last tip stays on the page, even if it has aged.
        tip_read = await latest_tip(db, user_id=inp.user_id)
    return TipOutcome(status=inp.status, tip=tip_read, next_tip_at=inp.next_tip_at)
