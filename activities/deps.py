"""What activities are built from: given once, at worker start."""

from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from agents.registry import Agent
from core.vault import TokenVault


@dataclass(frozen=True)
class LlmConfig:
    """The LiteLLM proxy; without a URL tips come from the composer."""

    url: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = 8.0
    max_tokens: int = 120
    temperature: float = 0.7


@dataclass(frozen=True)
class OAuthClientConfig:
    """A provider's OAuth client and endpoints (no endpoint → that operation is unsupported)."""

    client_id: str | None
    client_secret: SecretStr | None
    token_url: str | None = None
    revoke_url: str | None = None
    # Todoist authenticates revocation with Basic auth; Google takes the client in the body.
    revoke_auth: str = "client_secret_post"


@dataclass(frozen=True)
class ActivityDeps:
    sessions: async_sessionmaker[AsyncSession]
    agents: dict[str, Agent]
    tip_ttl: timedelta
    tip_daily_budget: int = 12
    llm: LlmConfig = LlmConfig()
    http: httpx.AsyncClient | None = None
    # Provider integrations: without a vault, no token or sync activity is registered.
    vault: TokenVault | None = None
    oauth_clients: dict[str, OAuthClientConfig] = field(default_factory=dict)
    todoist_api_base: str = "https://api.todoist.com/api/v1"
    hash_salt: bytes = b""
    # A provider history older than this is synced before a sweep computes the user.
    sync_stale: timedelta = timedelta(hours=1)
    # Temporal admin calls (account deletion stops and deletes the user's workflows).
    temporal: Client | None = None
