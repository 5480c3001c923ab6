"""What the app holds for its lifetime: the database, a lazily connected Temporal client, the
OAuth registry, the token vault, the payload codec and its background tasks."""

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RetryConfig

from core.crypto import EncryptionCodec
from core.settings import Settings
from core.temporal import connect
from core.vault import TokenVault
from store.tip_reads import TipReader

TEMPORAL_CONNECT_TIMEOUT_S = 3.0
# A person waits on the API's Temporal calls: an unreachable server is a 503 with Retry-After
# within about 2 s, not after the SDK's 10 s of retries (a restart, ~0.2 s, still fits).
API_RPC_RETRY = RetryConfig(max_interval_millis=500, max_elapsed_time_millis=2000, max_retries=8)
log = logging.getLogger(__name__)


class TemporalUnavailableError(Exception):
    """Temporal could not be reached; routes that need it answer 503."""


class StateLedger:
    """OAuth states already presented at a callback, remembered for as long as one can live.

    authlib clears a state from the signed state cookie once used, but a copy of the old cookie
    would carry it again: this process refuses a state it has seen, before any token request.
    Bounded: the oldest entries go first.
    """

    def __init__(
        self,
        *,
        ttl_s: float,
        max_entries: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def claim(self, provider: str, state: str) -> bool:
        """True the first time (provider, state) is presented; False for a replay."""
        now = self._clock()
        # Insertion order is expiry order: the oldest entries are at the front.
        while self._seen and (
            next(iter(self._seen.values())) <= now or len(self._seen) >= self._max
        ):
            self._seen.popitem(last=False)
        key = hashlib.sha256(f"{provider}\0{state}".encode()).hexdigest()
        if key in self._seen:
            return False
        self._seen[key] = now + self._ttl_s
        return True


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    client: Client | None = None
    # The authlib registry (api.oauth.build_oauth); providers without credentials are absent.
    oauth: Any = None
    # None when OO_MASTER_KEYS / OO_PAYLOAD_KEYS are not set: the routes needing them say so.
    vault: TokenVault | None = None
    codec: EncryptionCodec | None = None
    # States already presented at a callback: a replay is refused.
    used_states: StateLedger = field(default_factory=lambda: StateLedger(ttl_s=3600))
    # GET /api/tip's one-statement read (store/tip_reads.py); None: always the general path.
    tip_reader: TipReader | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def temporal(self) -> Client:
        """The Temporal client, connected once on first use (the API starts without Temporal)."""
        if self.client is not None:
            return self.client
        async with self._lock:
            if self.client is None:
                try:
                    self.client = await asyncio.wait_for(
                        connect(self.settings, retry=API_RPC_RETRY), TEMPORAL_CONNECT_TIMEOUT_S
                    )
                except (TimeoutError, RuntimeError, OSError) as exc:
                    raise TemporalUnavailableError(str(exc)) from exc
            return self.client

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> None:
        """Run work in the background (fire and forget); failures are logged, not raised."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("background task %s failed: %s", task.get_name(), type(exc).__name__)

    async def close(self) -> None:
        """Cancel the background tasks still running (their workflows go on in Temporal)."""
        if self.tip_reader is not None:
            self.tip_reader.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
