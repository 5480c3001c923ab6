"""A bounded load on loopback (G5): 200 clients on GET /api/tip for 30 s, self-stopping.

The API (`oo api`) and the worker (`oo worker`) run as the production commands do, each in a
process of its own so that their memory is measured apart, on one SQLite file (the default
backend, the one at risk of "database is locked") and the shared Temporal dev server. Most
people have a stored tip (a read); the others have none, so their requests start tip
generations in the worker while the reads go on (the first ones, all at once and starved of
CPU by the reads, took 3-15 s on a shared 2-core machine: within the API's 15 s patience, but
not by much). Figures are printed (`-s`) and written to tests/faults/artifacts/load.json.
"""

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from bench.load import LoadResult, closed_loop, rss_mb
from cli.seed import seed_users
from store import sessions as session_store
from store.models import TipDecision
from tests.factories import count_rows, free_tcp_port, stored_tip
from tests.faults.conftest import WorkerEnv
from tests.faults.processes import Process, delete_schedules, spawn, stop, tail

CLIENTS = 200
SECONDS = 30.0
USERS_WITH_TIPS = 35
USERS_WITHOUT = 15  # every request of theirs is a miss until a tip is stored
LOCKED = "database is locked"
WORKER_RSS_MAX_MB = 300
API_RSS_MAX_MB = 200
ARTIFACT = Path(__file__).parent / "artifacts" / "load.json"


@dataclass
class Peak:
    """The highest VmRSS seen of each process, sampled while the load runs."""

    pids: dict[str, int]
    mb: dict[str, float] = field(default_factory=dict)
    at_start: dict[str, float] = field(default_factory=dict)
    samples: int = 0

    async def watch(self, every_s: float = 0.25) -> None:
        while True:
            for name, pid in self.pids.items():
                with contextlib.suppress(OSError):  # exited: the test says so
                    now = rss_mb(pid)
                    self.at_start.setdefault(name, now)
                    self.mb[name] = max(self.mb.get(name, 0.0), now)
            self.samples += 1
            await asyncio.sleep(every_s)


async def people(sessions: async_sessionmaker[AsyncSession]) -> tuple[list[str], list[uuid.UUID]]:
    """Signed-in users, the first USERS_WITH_TIPS with a current tip: (session ids, misses)."""
    ids = await seed_users(sessions, count=USERS_WITH_TIPS + USERS_WITHOUT + 1)
    for n, user_id in enumerate(ids[:USERS_WITH_TIPS]):
        await stored_tip(sessions, user_id, f"Stored tip {n}.", ttl=timedelta(hours=3))
    now = datetime.now(UTC)
    async with sessions.begin() as db:
        sids = [
            await session_store.create_session(
                db, user_id=user_id, now=now, absolute=timedelta(days=1)
            )
            for user_id in ids
        ]
    return sids, ids[USERS_WITH_TIPS:-1]


async def first_tip(base: str, sid: str, procs: dict[str, Process], logs: Path) -> None:
    """One miss end to end (API → Temporal → worker → database) before the clock starts."""
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30) as http:
        while True:
            for name, proc in procs.items():
                assert proc.returncode is None, f"{name} exited:\n{tail(logs / f'{name}.log')}"
            with contextlib.suppress(httpx.TransportError):
                res = await http.get("/api/tip", headers={"Cookie": f"oo_sid={sid}"})
                if res.status_code == 200:
                    return
            assert time.monotonic() < deadline, f"no first tip:\n{tail(logs / 'api.log')}"
            await asyncio.sleep(0.25)


def merged(results: list[LoadResult]) -> LoadResult:
    total = LoadResult(seconds=max(r.seconds for r in results))
    for r in results:
        total.latencies_ms += r.latencies_ms
        total.statuses.update(r.statuses)
        total.errors.update(r.errors)
        total.bodies_with.update(r.bodies_with)
    return total


def latency(load: LoadResult) -> dict[str, float]:
    return {f"p{int(q * 100)}": round(load.percentile(q), 1) for q in (0.5, 0.95, 0.99, 1.0)}


def figures(runs: list[LoadResult], load: LoadResult, peak: Peak, decisions: int) -> dict[str, Any]:
    with_tip, without = merged(runs[:USERS_WITH_TIPS]), merged(runs[USERS_WITH_TIPS:])
    return {
        "clients": CLIENTS,
        "seconds": round(load.seconds, 1),
        "users": {"with_tip": USERS_WITH_TIPS, "without": USERS_WITHOUT},
        "requests": load.requests,
        "rps": round(load.rps, 1),
        "latency_ms": latency(load),
        "latency_ms_with_tip": latency(with_tip),
        "latency_ms_without": {"requests": without.requests, **latency(without)},
        "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
        "transport_errors": dict(load.errors),
        "bodies_with_database_is_locked": load.bodies_with[LOCKED],
        "tip_decisions_during_load": decisions,
        "rss_mb_at_start": {k: round(v, 1) for k, v in peak.at_start.items()},
        "rss_mb_peak": {k: round(v, 1) for k, v in peak.mb.items()},
        "rss_samples": peak.samples,
    }


@pytest.mark.timeout(600)
async def test_200_clients_on_the_tip_for_30_seconds(
    sqlite_sessions: async_sessionmaker[AsyncSession],
    sqlite_url: str,
    dev_client: Client,
    worker_env: WorkerEnv,
    task_queue: str,
    tmp_path: Path,
) -> None:
    sids, misses = await people(sqlite_sessions)
    port = free_tcp_port()
    base = f"http://127.0.0.1:{port}"
    env = worker_env(
        database_url=sqlite_url,
        env="test",
        data_dir=str(tmp_path),
        public_url=base,
        log_level="WARNING",
    )
    procs = {
        "worker": await spawn(["-m", "cli.main", "worker"], env, tmp_path / "worker.log"),
        "api": await spawn(
            ["-m", "cli.main", "api", "--port", str(port)], env, tmp_path / "api.log"
        ),
    }
    peak = Peak({name: proc.pid for name, proc in procs.items()})
    watching: asyncio.Task[None] | None = None
    try:
        await first_tip(base, sids[-1], procs, tmp_path)
        watching = asyncio.create_task(peak.watch())
        before = await count_rows(sqlite_sessions, TipDecision)
        url = f"{base}/api/tip"
        per_user = CLIENTS // len(sids[:-1])
        runs = await asyncio.gather(
            *(
                closed_loop(
                    url,
                    clients=per_user,
                    seconds=SECONDS,
                    headers={"Cookie": f"oo_sid={sid}"},
                    watch=(LOCKED,),
                )
                for sid in sids[:-1]
            )
        )
        alive = {name: proc.returncode is None for name, proc in procs.items()}
        decisions = await count_rows(sqlite_sessions, TipDecision) - before
        missed = [
            await count_rows(sqlite_sessions, TipDecision, TipDecision.user_id == u) for u in misses
        ]
    finally:
        if watching is not None:
            watching.cancel()
        for proc in procs.values():
            await stop(proc)
        await delete_schedules(dev_client, task_queue)
    load = merged(runs)
    report = figures(runs, load, peak, decisions)
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nload: {json.dumps(report)}")
    logs = {name: (tmp_path / f"{name}.log").read_text(errors="replace") for name in procs}
    assert alive == {"worker": True, "api": True}, logs
    assert load.requests > 0 and not load.errors, report
    assert all(status < 500 for status in load.statuses), (report, tail(tmp_path / "api.log"))
    assert set(load.statuses) == {200}, report
    assert load.bodies_with[LOCKED] == 0, report
    assert not [name for name, text in logs.items() if LOCKED in text], logs
    assert all(n >= 1 for n in missed)  # the misses started generations under the load
    assert peak.mb["worker"] <= WORKER_RSS_MAX_MB, report
    assert peak.mb["api"] <= API_RSS_MAX_MB, report
