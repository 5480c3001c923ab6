"""Agent outputs: the latest snippet of each agent for each user (upserted)."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.agents import AgentComputeRead, Snippet
from store.models import AgentOutput, Consent, User


async def upsert_output(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    agent_id: str,
    agent_version: str,
    snippet: Snippet | None,
    computed_at: datetime,
    expires_at: datetime,
) -> None:
    """Replace the agent's output for the user (idempotent by (user, agent))."""
    row = await db.get(AgentOutput, (user_id, agent_id))
    if row is None:
        row = AgentOutput(user_id=user_id, agent_id=agent_id)
        db.add(row)
    row.agent_version = agent_version
    row.snippet = snippet.model_dump(mode="json") if snippet else None
    row.salience = snippet.salience if snippet else None
    row.computed_at = computed_at
    row.expires_at = expires_at
    await db.flush()


@dataclass(frozen=True)
class FreshOutput:
    snippet: Snippet | None  # None: the agent said "nothing"
    computed_at: datetime


async def fresh_outputs(
    db: AsyncSession, *, user_id: uuid.UUID, agent_ids: list[str], now: datetime
) -> dict[str, FreshOutput]:
    """Unexpired outputs by agent id."""
    stmt = select(AgentOutput).where(
        AgentOutput.user_id == user_id,
        AgentOutput.agent_id.in_(agent_ids),
        AgentOutput.expires_at > now,
    )
    return {
        r.agent_id: FreshOutput(
            Snippet.model_validate(r.snippet) if r.snippet else None, r.computed_at
        )
        for r in (await db.scalars(stmt)).all()
    }


async def latest_output(
    db: AsyncSession, *, user_id: uuid.UUID, agent_id: str
) -> AgentComputeRead | None:
    """The agent's last output for the user, expired or not."""
    row = await db.get(AgentOutput, (user_id, agent_id))
    if row is None:
        return None
    return AgentComputeRead(
        agent_id=agent_id,
        snippet=Snippet.model_validate(row.snippet) if row.snippet else None,
        computed_at=row.computed_at,
    )


async def due_users(
    db: AsyncSession,
    *,
    agent_id: str,
    consents: list[str],
    after: uuid.UUID | None,
    limit: int,
    as_of: datetime,
    horizon: timedelta,
) -> list[uuid.UUID]:
    """Active, consenting users whose output of the agent is missing or expires within the
    horizon, in id order after the cursor."""
    output = and_(AgentOutput.user_id == User.id, AgentOutput.agent_id == agent_id)
    fresh = exists().where(output, AgentOutput.expires_at > as_of + horizon)
    stmt = select(User.id).where(User.status == "active", ~fresh)
    for name in consents:
        stmt = stmt.where(
            exists().where(Consent.user_id == User.id, Consent.name == name, Consent.granted)
        )
    if after is not None:
        stmt = stmt.where(User.id > after)
    return list((await db.scalars(stmt.order_by(User.id).limit(limit))).all())
