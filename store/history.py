"""Task-completion history: written by sync and seeding, read by agents."""

import uuid
from collections.abc import Iterable

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.agents import TaskCompletion as TaskCompletionIn
from contracts.agents import UserHistory
from store.models import TaskCompletion, User


async def add_completions(
    db: AsyncSession, *, user_id: uuid.UUID, completions: Iterable[TaskCompletionIn], source: str
) -> int:
    """Insert completions (derivatives only); returns how many were given."""
    rows = [{"user_id": user_id, "source": source, **c.model_dump()} for c in completions]
    if rows:
        await db.execute(insert(TaskCompletion), rows)
    return len(rows)


async def count_completions(db: AsyncSession, *, user_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(TaskCompletion.user_id == user_id)
    return int(await db.scalar(stmt) or 0)


async def load_history(db: AsyncSession, *, user: User) -> UserHistory:
    """A user's history in completion order, as the agents read it."""
    stmt = (
        select(TaskCompletion)
        .where(TaskCompletion.user_id == user.id)
        .order_by(TaskCompletion.completed_at)
    )
    rows = (await db.scalars(stmt)).all()
    return UserHistory(
        tz=user.tz,
        completions=[TaskCompletionIn.model_validate(r, from_attributes=True) for r in rows],
    )
