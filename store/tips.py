"""Tips and tip decisions: the current tip, today's count, idempotent storing by run."""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.tips import StoreTipInput, TipOutcome, TipRead, TipWhy, TipWhyAgent
from store.feedback import dismissed
from store.models import AgentOutput, Tip, TipDecision


async def latest_tip(
    db: AsyncSession, *, user_id: uuid.UUID, unexpired_at: datetime | None = None
) -> TipRead | None:
    """The newest tip of a user unless it was dismissed; with `unexpired_at`, only one still
    current then. An older tip never stands in for a dismissed newer one."""
    stmt = select(Tip, dismissed(Tip.id).label("dismissed")).where(Tip.user_id == user_id)
    if unexpired_at is not None:
        stmt = stmt.where(Tip.expires_at > unexpired_at)
    row = (await db.execute(stmt.order_by(Tip.created_at.desc()).limit(1))).first()
    if row is None or row.dismissed:
        return None
    return TipRead.model_validate(row.Tip, from_attributes=True)


async def current_tip(db: AsyncSession, *, user_id: uuid.UUID, now: datetime) -> TipRead | None:
    """The newest unexpired tip of a user, unless it was dismissed."""
    return await latest_tip(db, user_id=user_id, unexpired_at=now)


async def tip_why(db: AsyncSession, *, user_id: uuid.UUID, tip_id: uuid.UUID) -> TipWhy | None:
    """What the user's tip was made from; None when the user has no such tip."""
    stmt = select(Tip).where(Tip.id == tip_id, Tip.user_id == user_id)
    row = (await db.scalars(stmt)).first()
    if row is None:
        return None
    # Tips made before snapshots were kept have no "why": their snippets are gone.
    return TipWhy.model_validate(
        {"tip_id": row.id, "generator": row.generator, "agents": row.why or []}
    )


async def _snapshot(
    db: AsyncSession, *, user_id: uuid.UUID, agent_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """The agents' stored snippets, as the tip's "why" (those that had something to say)."""
    stmt = select(AgentOutput.agent_id, AgentOutput.snippet).where(
        AgentOutput.user_id == user_id, AgentOutput.agent_id.in_(agent_ids)
    )
    snippets = {agent_id: snippet for agent_id, snippet in await db.execute(stmt) if snippet}
    return [
        TipWhyAgent.model_validate(snippets[a]).model_dump(mode="json")
        for a in agent_ids
        if a in snippets
    ]


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
            # The snippets it was made from are the agents' stored outputs: read now, within
            # the run that used them (inline recomputes upserted theirs before this).
            why = await _snapshot(db, user_id=inp.user_id, agent_ids=inp.draft.agent_ids)
            tip = Tip(
                user_id=inp.user_id,
                run_id=inp.run_id,
                created_at=inp.as_of,
                expires_at=inp.as_of + ttl,
                why=why,
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
            next_tip_at=inp.next_tip_at,
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


async def kept_answer(
    db: AsyncSession, *, user_id: uuid.UUID, now: datetime, within: timedelta
) -> TipOutcome | None:
    """The user's last decision if it made no tip, is younger than `within` and its next tip
    time has not come: a page that asks again is answered without deciding again."""
    stmt = (
        select(TipDecision.status, TipDecision.decided_at, TipDecision.next_tip_at)
        .where(TipDecision.user_id == user_id)
        .order_by(TipDecision.decided_at.desc())
        .limit(1)
    )
    last = (await db.execute(stmt)).first()
    # Only an answer without a tip is kept (a tip, once dismissed or expired, is not).
    if last is None or last.status == "tip" or last.decided_at <= now - within:
        return None
    if last.next_tip_at is not None and last.next_tip_at <= now:
        return None
    tip = await latest_tip(db, user_id=user_id) if last.status == "budget" else None
    return TipOutcome(status=last.status, tip=tip, next_tip_at=last.next_tip_at)
