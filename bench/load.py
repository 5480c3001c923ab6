"""A small HTTP/1.1 load generator on keep-alive connections: closed loop or fixed rate.

Lean on purpose (raw asyncio streams, no client library) so that on a shared 2-core machine
the measuring side costs far less than the server it measures. Used by `bench.tip_read` and the
load test in tests/faults.
"""

import asyncio
import contextlib
import gc
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    """What a run saw: per-request latencies (ms), status counts and failed bodies' snippets."""

    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    bodies_with: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Connection:
    """One keep-alive HTTP/1.1 connection sending one fixed GET request."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        lines = [f"GET {parts.path or '/'} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def get(self) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None or self.writer.is_closing():
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await self.reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection on the measuring side while it measures: its pauses would be
    charged to the server as latency."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _record(
    result: LoadResult, started: float, status: int, body: bytes, watch: tuple[str, ...]
) -> None:
    result.latencies_ms.append((time.perf_counter() - started) * 1000)
    result.statuses[status] += 1
    for needle in watch:
        if needle.encode() in body:
            result.bodies_with[needle] += 1


async def closed_loop(
    url: str,
    *,
    clients: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    watch: tuple[str, ...] = (),
) -> LoadResult:
    """`clients` connections, each sending its next request as soon as the last is answered,
    until `seconds` have passed (self-stopping)."""
    deadline = time.perf_counter() + seconds
    result = LoadResult(seconds=seconds)

    async def client() -> None:
        conn = Connection(url, headers or {})
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    status, body = await conn.get()
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    result.errors[type(exc).__name__] += 1
                    await conn.close()
                    await asyncio.sleep(0.01)
                    continue
                _record(result, started, status, body, watch)
        finally:
            await conn.close()

    begun = time.perf_counter()
    with collector_paused():
        await asyncio.gather(*(client() for _ in range(clients)))
    result.seconds = time.perf_counter() - begun
    return result


async def fixed_rate(
    url: str,
    *,
    rate: float,
    seconds: float,
    connections: int = 64,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """Requests started at a fixed rate (open loop). Latency counts from each request's
    scheduled start, so a server that falls behind is charged for the wait."""
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Connection(url, headers or {}))
    result = LoadResult(seconds=seconds)
    interval = 1.0 / rate
    begun = time.perf_counter()
    total = int(rate * seconds)
    tasks: list[asyncio.Task[None]] = []

    async def one(scheduled: float) -> None:
        conn = await pool.get()
        try:
            status, body = await conn.get()
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            result.errors[type(exc).__name__] += 1
            await conn.close()
        else:
            _record(result, scheduled, status, body, ())
        finally:
            pool.put_nowait(conn)

    with collector_paused():
        for n in range(total):
            scheduled = begun + n * interval
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - begun
    while not pool.empty():
        await pool.get_nowait().close()
    return result


def rss_mb(pid: int) -> float:
    """The resident set size of a live process, from /proc/<pid>/status (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmRSS for pid {pid}")
