"""What activities are built from: given once, at worker start."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agents.registry import Agent


@dataclass(frozen=True)
class ActivityDeps:
    sessions: async_sessionmaker[AsyncSession]
    agents: dict[str, Agent]
    tip_ttl: timedelta
