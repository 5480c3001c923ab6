"""Erasure by walking the metadata: every table says how account deletion treats it."""

import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Base, DeletionAudit, User, UserKey

# Deleted last, by their own steps: the data key (destroyed on purpose) and the user row.
KEPT_UNTIL_LAST = frozenset({UserKey.__tablename__, User.__tablename__})


def _user_tables() -> Iterator[tuple[Table, str]]:
    """Tables with a column that holds a user id, children before parents."""
    policies = {m.class_.__tablename__: m.class_.__erasure__ for m in Base.registry.mappers}
    for table in reversed(Base.metadata.sorted_tables):
        if policies.get(table.name) != "delete":
            continue
        column = "id" if table.name == User.__tablename__ else "user_id"
        if column in table.c:
            yield table, column


def subject_hash(salt: bytes, user_id: uuid.UUID) -> str:
    """The pseudonymous id of a deleted user in the audit (keyed: not reversible by guessing)."""
    return hmac.new(salt, str(user_id).encode(), hashlib.sha256).hexdigest()


async def delete_user_rows(
    db: AsyncSession, *, user_id: uuid.UUID, on_table: Callable[[str], None] | None = None
) -> int:
    """Delete every row that references the user, except the data key and the user row."""
    deleted = 0
    for table, column in _user_tables():
        if table.name in KEPT_UNTIL_LAST:
            continue
        result = await db.execute(delete(table).where(table.c[column] == user_id))
        deleted += result.rowcount or 0  # type: ignore[attr-defined]
        if on_table is not None:
            on_table(table.name)
    return deleted


async def delete_user(db: AsyncSession, *, user_id: uuid.UUID) -> None:
    await db.execute(delete(User).where(User.id == user_id))


async def remaining_rows(db: AsyncSession, *, user_id: uuid.UUID) -> dict[str, int]:
    """Rows of any table that still reference the user (empty when erased)."""
    left: dict[str, int] = {}
    for table, column in _user_tables():
        count = await db.scalar(
            select(func.count()).select_from(table).where(table.c[column] == user_id)
        )
        if count:
            left[table.name] = int(count)
    return left


async def write_audit(
    db: AsyncSession,
    *,
    deletion_id: uuid.UUID,
    subject: str,
    requested_at: datetime,
    completed_at: datetime | None,
    steps: dict[str, Any],
) -> None:
    """Upsert the pseudonymous audit record of a deletion (id = the deletion id)."""
    row = await db.get(DeletionAudit, deletion_id)
    if row is None:
        row = DeletionAudit(id=deletion_id, subject_hash=subject, requested_at=requested_at)
        db.add(row)
    row.completed_at = completed_at
    row.steps = steps
    await db.flush()


async def audit_of(db: AsyncSession, *, subject: str) -> DeletionAudit | None:
    """The latest deletion audit of a pseudonymous subject."""
    stmt = (
        select(DeletionAudit)
        .where(DeletionAudit.subject_hash == subject)
        .order_by(DeletionAudit.requested_at.desc())
        .limit(1)
    )
    return (await db.scalars(stmt)).first()
