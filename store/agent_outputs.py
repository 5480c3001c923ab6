"""Agent outputs: the latest snippet of each agent for each user (upserted)."""

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.agents import Snippet
from store.models import AgentOutput


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


async def fresh_outputs(
    db: AsyncSession, *, user_id: uuid.UUID, agent_ids: list[str], now: datetime
) -> dict[str, Snippet | None]:
    """Unexpired outputs by agent id; an agent that said "nothing" maps to None."""
    stmt = select(AgentOutput).where(
        AgentOutput.user_id == user_id,
        AgentOutput.agent_id.in_(agent_ids),
        AgentOutput.expires_at > now,
    )
    rows = (await db.scalars(stmt)).all()
    return {r.agent_id: Snippet.model_validate(r.snippet) if r.snippet else None for r in rows}
