"""Contexts a person declares (away, focus, travel, unwell), each with an optional window."""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.profile import MAX_CONTEXTS, ContextCreate, ContextRead
from store.models import Context


class UnknownContextError(LookupError):
    """A context id that is not one of the user's."""


class TooManyContextsError(ValueError):
    """The change would leave the user with more than MAX_CONTEXTS contexts."""


async def contexts_of(db: AsyncSession, *, user_id: uuid.UUID) -> list[ContextRead]:
    """The user's contexts, earliest start first (open starts first)."""
    stmt = (
        select(Context)
        .where(Context.user_id == user_id)
        .order_by(Context.starts_at.asc().nulls_first(), Context.id)
    )
    return [ContextRead.model_validate(c, from_attributes=True) for c in await db.scalars(stmt)]


async def change_contexts(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    add: Sequence[ContextCreate],
    remove: Collection[uuid.UUID],
) -> list[ContextRead]:
    """Remove, then add; all or nothing. Raises UnknownContextError for an id that is not the
    user's and TooManyContextsError past MAX_CONTEXTS, before changing anything."""
    remove = set(remove)
    mine = set(await db.scalars(select(Context.id).where(Context.user_id == user_id)))
    if not remove <= mine:
        raise UnknownContextError("no such context")
    if len(mine - remove) + len(add) > MAX_CONTEXTS:
        raise TooManyContextsError(f"at most {MAX_CONTEXTS} contexts")
    if remove:
        await db.execute(delete(Context).where(Context.user_id == user_id, Context.id.in_(remove)))
    db.add_all(Context(user_id=user_id, **c.model_dump()) for c in add)
    await db.flush()
    return await contexts_of(db, user_id=user_id)


async def active_context(
    db: AsyncSession, *, user_id: uuid.UUID, kind: str, at: datetime
) -> ContextRead | None:
    """A context of that kind whose window holds `at` (open ends allowed); the longest-lasting
    one when several do (an open end lasts longest)."""
    stmt = (
        select(Context)
        .where(
            Context.user_id == user_id,
            Context.kind == kind,
            or_(Context.starts_at.is_(None), Context.starts_at <= at),
            or_(Context.ends_at.is_(None), Context.ends_at > at),
        )
        .order_by(Context.ends_at.desc().nulls_first(), Context.id)
        .limit(1)
    )
    row = (await db.scalars(stmt)).first()
    return ContextRead.model_validate(row, from_attributes=True) if row else None
