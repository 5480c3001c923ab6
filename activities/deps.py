"""What activities are built from: given once, at worker start."""

from dataclasses import dataclass
from datetime import timedelta

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agents.registry import Agent


@dataclass(frozen=True)
class LlmConfig:
    """The LiteLLM proxy; without a URL tips come from the composer."""

    url: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = 8.0
    max_tokens: int = 120
    temperature: float = 0.7


@dataclass(frozen=True)
class ActivityDeps:
    sessions: async_sessionmaker[AsyncSession]
    agents: dict[str, Agent]
    tip_ttl: timedelta
    tip_daily_budget: int = 12
    llm: LlmConfig = LlmConfig()
    http: httpx.AsyncClient | None = None
