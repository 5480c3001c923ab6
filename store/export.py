"""Everything stored about one user, as plain data (GET /api/account/export); never a token."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from contracts.account import AccountExport, IdentityExport, IntegrationExport
from store.models import (
    AgentOutput,
    Consent,
    Context,
    FeedbackEvent,
    Identity,
    Integration,
    Tip,
    TipDecision,
    User,
    UserPreference,
)
from store.models import TaskCompletion as TaskCompletionRow
from store.users import identities_of

# Columns never exported: the user id is the requester's own (said once, under `user`).
_OMIT = frozenset({"user_id"})


def _plain(row: DeclarativeBase, omit: frozenset[str] = _OMIT) -> dict[str, Any]:
    """A row's columns as JSON-ready values (the API encodes uuids and datetimes)."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in omit}


async def _rows(db: AsyncSession, model: Any, user_id: uuid.UUID, *order: Any) -> list[Any]:
    stmt = select(model).where(model.user_id == user_id).order_by(*order)
    return list((await db.scalars(stmt)).all())


async def export_user(db: AsyncSession, *, user_id: uuid.UUID) -> AccountExport | None:
    """The user's data; None when there is no such user."""
    user = await db.get(User, user_id)
    if user is None:
        return None
    integrations: list[Integration] = await _rows(db, Integration, user_id, Integration.provider)
    prefs = await _rows(db, UserPreference, user_id, UserPreference.scope, UserPreference.key)
    return AccountExport(
        user=_plain(user, frozenset()),
        identities=[_identity(i) for i in await identities_of(db, user_id=user_id)],
        consents={c.name: c.granted for c in await _rows(db, Consent, user_id, Consent.name)},
        preferences=[_plain(p) for p in prefs],
        contexts=[_plain(c) for c in await _rows(db, Context, user_id, Context.starts_at)],
        task_completions=[
            _plain(t, _OMIT | {"id"})
            for t in await _rows(db, TaskCompletionRow, user_id, TaskCompletionRow.completed_at)
        ],
        feedback_events=[
            _plain(f) for f in await _rows(db, FeedbackEvent, user_id, FeedbackEvent.created_at)
        ],
        agent_outputs=[
            _plain(o) for o in await _rows(db, AgentOutput, user_id, AgentOutput.agent_id)
        ],
        tips=[_plain(t) for t in await _rows(db, Tip, user_id, Tip.created_at)],
        tip_decisions=[
            _plain(d) for d in await _rows(db, TipDecision, user_id, TipDecision.decided_at)
        ],
        integrations=[
            IntegrationExport.model_validate(i, from_attributes=True) for i in integrations
        ],
    )


def _identity(row: Identity) -> IdentityExport:
    return IdentityExport.model_validate(row, from_attributes=True)
