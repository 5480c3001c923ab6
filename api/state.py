"""What the app holds for its lifetime: the database and a lazily connected Temporal client."""

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from core.settings import Settings
from core.temporal import connect

TEMPORAL_CONNECT_TIMEOUT_S = 3.0


class TemporalUnavailableError(Exception):
    """Temporal could not be reached; routes that need it answer 503."""


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    client: Client | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def temporal(self) -> Client:
        """The Temporal client, connected once on first use (the API starts without Temporal)."""
        if self.client is not None:
            return self.client
        async with self._lock:
            if self.client is None:
                try:
                    self.client = await asyncio.wait_for(
                        connect(self.settings), TEMPORAL_CONNECT_TIMEOUT_S
                    )
                except (TimeoutError, RuntimeError, OSError) as exc:
                    raise TemporalUnavailableError(str(exc)) from exc
            return self.client
