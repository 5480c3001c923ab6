"""Task-completion history: written by sync and seeding, read by agents."""

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.agents import TaskCompletion as TaskCompletionIn
from contracts.agents import UserHistory
from store.db import insert_for
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
    insert = insert_for(db)
    stmt = insert(TaskCompletion).on_conflict_do_nothing(
        index_elements=["user_id", "source", "task_key", "completed_at"]
    )
    before = await count_completions(db, user_id=user_id)
    await db.execute(stmt, list(rows.values()))
    return await count_completions(db, user_id=user_id) - before


async def count_completions(db: AsyncSession, *, user_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(TaskCompletion.user_id == user_id)
    return int(await db.scalar(stmt) or 0)


_COLUMNS = (
    TaskCompletion.user_id,
    TaskCompletion.task_key,
    TaskCompletion.project_key,
    TaskCompletion.completed_at,
    TaskCompletion.due_at,
    TaskCompletion.due_all_day,
    TaskCompletion.priority,
    TaskCompletion.recurring,
)


async def load_histories(
    db: AsyncSession, *, users: Sequence[User]
) -> dict[uuid.UUID, UserHistory]:
    """Histories of several users in one query, in completion order."""
    by_id = {u.id: UserHistory(tz=u.tz) for u in users}
    if not by_id:
        return by_id
    stmt = (
        select(*_COLUMNS)
        .where(TaskCompletion.user_id.in_(by_id))
        .order_by(TaskCompletion.user_id, TaskCompletion.completed_at)
    )
    for row in await db.execute(stmt):
        # Rows come from our own schema (aware UTC times, checked types): skip re-validation,
        # which would otherwise dominate the cost of a sweep.
        by_id[row.user_id].completions.append(
            TaskCompletionIn.model_construct(
                task_key=row.task_key,
                project_key=row.project_key,
                completed_at=row.completed_at,
                due_at=row.due_at,
                due_all_day=row.due_all_day,
                priority=row.priority,
                recurring=row.recurring,
                content=None,
            )
        )
    return by_id


async def load_history(db: AsyncSession, *, user: User) -> UserHistory:
    """A user's history in completion order, as the agents read it."""
    return (await load_histories(db, users=[user]))[user.id]
