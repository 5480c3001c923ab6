"""Reading the current tip: `GET /api/tip` with a stored tip against a bare FastAPI endpoint.

Both are served the same way (one uvicorn process each, oO by `oo api` itself, in turn on
the same machine) and loaded from this process over loopback: first closed loop with many
connections (the maximum requests/s), then at a fixed rate of half that maximum (latency
under a steady load). The oO app runs on SQLite with a signed-in session and a stored tip;
Temporal is not needed to read a stored tip and is left unreachable. Prints a table and writes
bench/results/tip_read.json.
Run: `python -m bench.tip_read [--seconds 5] [--clients 64] [--rounds 2]`.
"""

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvloop

from bench.load import LoadResult, closed_loop, fixed_rate, rss_mb
from cli.seed import seed_demo_user
from contracts.tips import TipOutcome
from store import migrate, sessions
from store.db import create_engine, create_sessionmaker
from tests.factories import free_tcp_port, stored_tip

TIP_TEXT = "Start the one thing that matters before ten."
TARGET_RATIO = 0.60
TARGET_P99_MS = 20.0


def serve_bare(port: int) -> None:
    """The bare app (a child process), served as `oo api` serves oO (cli/main.py)."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()
    constant = json.loads(os.environ["BENCH_CONSTANT"])

    @app.get("/api/tip")
    async def tip() -> dict[str, Any]:
        return constant  # type: ignore[no-any-return]

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


async def prepare(data_dir: Path) -> tuple[str, str, str]:
    """A migrated SQLite database with a user, their stored tip and a session:
    (database url, session id, the tip as GET /api/tip answers it)."""
    url = f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
    await migrate.upgrade(url)
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    async with maker.begin() as db:
        user_id = await seed_demo_user(db)
    tip = await stored_tip(maker, user_id, TIP_TEXT, ttl=timedelta(days=1))
    async with maker.begin() as db:
        sid = await sessions.create_session(
            db, user_id=user_id, now=datetime.now(UTC), absolute=timedelta(days=1)
        )
    await engine.dispose()
    return url, sid, TipOutcome(status="tip", tip=tip).model_dump_json()


class Server:
    """One child process serving `kind` on a free port."""

    def __init__(self, kind: str, env: dict[str, str], log: Path) -> None:
        self.kind = kind
        self.port = free_tcp_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._log = log.open("ab")
        # oO as `oo api` itself; the bare app by this module, with the same uvicorn settings.
        command = ["cli.main", "api"] if kind == "oo" else ["bench.tip_read", "--serve-bare"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *command, "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def ready(self, headers: dict[str, str]) -> None:
        async with httpx.AsyncClient(base_url=self.base, trust_env=False) as http:
            for _ in range(200):
                try:
                    res = await http.get("/api/tip", headers=headers)
                    if res.status_code == 200:
                        return
                    raise RuntimeError(f"{self.kind}: GET /api/tip answered {res.status_code}")
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.kind} did not start; see the log")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def _row(res: LoadResult) -> dict[str, Any]:
    return {
        "requests": res.requests,
        "rps": round(res.rps, 1),
        "p50_ms": round(res.percentile(0.50), 2),
        "p99_ms": round(res.percentile(0.99), 2),
        "non_200": sum(n for s, n in res.statuses.items() if s != 200),
        "errors": sum(res.errors.values()),
    }


async def run_one(
    server: "Server", headers: dict[str, str], seconds: float, clients: int
) -> dict[str, Any]:
    await server.ready(headers)
    url = server.base + "/api/tip"
    await closed_loop(url, clients=8, seconds=1.0, headers=headers)  # warm-up
    peak = await closed_loop(url, clients=clients, seconds=seconds, headers=headers)
    steady = await fixed_rate(url, rate=max(1.0, peak.rps / 2), seconds=seconds, headers=headers)
    rss = round(rss_mb(server.proc.pid), 1)
    return {"peak": _row(peak), "half_load": _row(steady), "rss_mb": rss}


async def measure(seconds: float, clients: int, rounds: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="oo-bench-read-"))
    try:
        url, sid, constant = await prepare(tmp)
        headers = {"Cookie": f"oo_sid={sid}"}
        env = {k: v for k, v in os.environ.items() if not k.startswith("OO_")} | {
            "OO_ENV": "test",
            "OO_DATA_DIR": str(tmp),
            "OO_DATABASE_URL": url,
            # Unreachable on purpose: a stored tip is read from the database alone.
            "OO_TEMPORAL_ADDRESS": f"127.0.0.1:{free_tcp_port()}",
            "BENCH_CONSTANT": constant,
        }
        runs: dict[str, list[dict[str, Any]]] = {"bare": [], "oo": []}
        for _ in range(rounds):
            for kind in runs:  # in turn, so that both see the same machine
                server = Server(kind, env, tmp / "server.log")
                try:
                    runs[kind].append(await run_one(server, headers, seconds, clients))
                finally:
                    server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # The best round of each app (a shared machine only ever makes figures worse): its peak
    # and the half load of that same peak.
    best = {
        kind: max(rows, key=lambda r: r["peak"]["rps"]) | {"rounds": rows}
        for kind, rows in runs.items()
    }
    ratio = best["oo"]["peak"]["rps"] / best["bare"]["peak"]["rps"]
    p99 = best["oo"]["half_load"]["p99_ms"]
    return {
        "seconds": seconds,
        "clients": clients,
        "rounds": rounds,
        "apps": best,
        "ratio": round(ratio, 3),
        "targets": {"ratio": TARGET_RATIO, "half_load_p99_ms": TARGET_P99_MS},
        "met": {"ratio": ratio >= TARGET_RATIO, "half_load_p99": p99 <= TARGET_P99_MS},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.port)
        return
    started = time.monotonic()
    # The measuring side on uvloop too: it must cost far less than the server it measures.
    result = uvloop.run(measure(args.seconds, args.clients, args.rounds))
    print(
        f"GET /api/tip (stored tip, SQLite) vs a bare FastAPI endpoint; {args.clients} clients, "
        f"{args.seconds:g} s per phase, best of {args.rounds}"
    )
    print(
        f"{'app':<6}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}  at half load:{'req/s':>7}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'RSS MB':>8}"
    )
    for kind, row in result["apps"].items():
        peak, half = row["peak"], row["half_load"]
        print(
            f"{kind:<6}{peak['rps']:>9.0f}{peak['p50_ms']:>8.2f}{peak['p99_ms']:>8.2f}"
            f"{'':>14}{half['rps']:>7.0f}{half['p50_ms']:>8.2f}{half['p99_ms']:>8.2f}"
            f"{row['rss_mb']:>8.0f}"
        )
    met = result["met"]
    print(
        f"ratio {result['ratio']:.2f} (target ≥ {TARGET_RATIO:.2f}: "
        f"{'met' if met['ratio'] else 'MISSED'}); p99 at half load "
        f"{result['apps']['oo']['half_load']['p99_ms']:.1f} ms (target ≤ {TARGET_P99_MS:g}: "
        f"{'met' if met['half_load_p99'] else 'MISSED'}); {time.monotonic() - started:.0f} s"
    )
    out = Path(__file__).parent / "results" / "tip_read.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
