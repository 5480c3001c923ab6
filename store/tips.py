"""Tips: the current one, and idempotent storing by workflow run."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.tips import TipDraft, TipRead
from store.models import Tip


async def current_tip(db: AsyncSession, *, user_id: uuid.UUID, now: datetime) -> TipRead | None:
    """The newest unexpired tip of a user."""
    stmt = (
        select(Tip)
        .where(Tip.user_id == user_id, Tip.expires_at > now)
        .order_by(Tip.created_at.desc())
        .limit(1)
    )
    row = (await db.scalars(stmt)).first()
    return TipRead.model_validate(row, from_attributes=True) if row else None


async def store_tip(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    draft: TipDraft,
    run_id: str,
    now: datetime,
    ttl: timedelta,
) -> TipRead:
    """Store a drafted tip once per run id; a retry returns the tip already stored."""
    existing = (await db.scalars(select(Tip).where(Tip.run_id == run_id))).first()
    if existing is None:
        existing = Tip(
            user_id=user_id,
            run_id=run_id,
            created_at=now,
            expires_at=now + ttl,
            **draft.model_dump(),
        )
        db.add(existing)
        await db.flush()
    return TipRead.model_validate(existing, from_attributes=True)
