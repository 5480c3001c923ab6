"""Task-completion history: written by sync and seeding, read by agents."""

import uuid
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.agents import TaskCompletion as TaskCompletionIn
from contracts.agents import UserHistory
from store.models import TaskCompletion, User


async def add_completions(
    db: AsyncSession, *, user_id: uuid.UUID, completions: Iterable[TaskCompletionIn], source: str
) -> int:
    """Insert completions, skipping events already stored (idempotent); returns how many are new.

    Derivatives only: task text is dropped. An event is (user, source, task key, instant).
    """
    rows = {
        (c.task_key, c.completed_at): {
            "user_id": user_id,
            "source": source,
            **c.model_dump(exclude={"content"}),
        }
        for c in completions
    }
    if not rows:
        return 0
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(TaskCompletion).on_conflict_do_nothing(
        index_elements=["user_id", "source", "task_key", "completed_at"]
    )
    before = await count_completions(db, user_id=user_id)
    await db.execute(stmt, list(rows.values()))
    return await count_completions(db, user_id=user_id) - before


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
