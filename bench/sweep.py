"""Sweep throughput: users/s through Temporal against the same computation in a plain loop.

Both paths compute every agent for the same seeded users on the same SQLite database: the
plain loop calls the sweep's own activities directly (no Temporal), the Temporal path runs
AgentSweepWorkflow on the real dev server with an in-process worker. Agents run one after the
other in both. Prints a table and writes bench/results/sweep.json.
Run: `python -m bench.sweep [--users 1000]`.
"""

import argparse
import asyncio
import json
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities import ActivityDeps
from activities.agents import AgentActivities
from agents import all_agents
from cli.seed import seed_users
from cli.temporal_server import dynamic_config_args, find_binary
from contracts.compute import AgentSweepInput, ComputeBatchInput, DueUsersInput
from contracts.temporal import SEARCH_ATTRIBUTES
from core.crypto import new_key_spec
from core.settings import Settings
from core.temporal import data_converter
from store import migrate
from store.db import create_engine, create_sessionmaker
from store.models import AgentOutput, UserPreference
from worker import build_worker
from workflows import AgentSweepWorkflow

BATCH = 50


async def reset(deps: ActivityDeps) -> None:
    async with deps.sessions.begin() as db:
        await db.execute(delete(AgentOutput))
        await db.execute(delete(UserPreference))


async def plain_loop(deps: ActivityDeps) -> int:
    """The sweep's activities called in a loop, as a single process would do it."""
    acts, env, done = AgentActivities(deps), ActivityEnvironment(), 0
    as_of = datetime.now(UTC)
    for agent_id in deps.agents:
        cursor = None
        while True:
            page = await env.run(
                acts.list_due_users,
                DueUsersInput(agent_id=agent_id, after=cursor, limit=BATCH, as_of=as_of),
            )
            if not page.user_ids:
                break
            result = await env.run(
                acts.compute_agent_batch,
                ComputeBatchInput(agent_id=agent_id, user_ids=page.user_ids, as_of=as_of),
            )
            cursor, done = page.user_ids[-1], done + result.computed
    return done


async def through_temporal(deps: ActivityDeps, env: WorkflowEnvironment) -> int:
    queue, done = f"bench-{uuid.uuid4()}", 0
    async with build_worker(env.client, deps, task_queue=queue):
        for agent_id in deps.agents:
            result = await env.client.execute_workflow(
                AgentSweepWorkflow.run,
                AgentSweepInput(agent_id=agent_id, batch_size=BATCH),
                id=f"bench-sweep-{agent_id}-{uuid.uuid4()}",
                task_queue=queue,
            )
            done += result.users
    return done


async def measure(users: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="oo-bench-"))
    url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    await migrate.upgrade(url)
    engine = create_engine(url)
    deps = ActivityDeps(
        sessions=create_sessionmaker(engine), agents=all_agents(), tip_ttl=timedelta(hours=3)
    )
    await seed_users(deps.sessions, count=users)
    settings = Settings(payload_keys=new_key_spec())  # type: ignore[arg-type]
    from temporalio.common import SearchAttributeKey

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=data_converter(settings),
        search_attributes=[SearchAttributeKey.for_keyword(n) for n in SEARCH_ATTRIBUTES],
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=dynamic_config_args(),
    )
    rows: dict[str, Any] = {}
    try:
        for name, run in (
            ("plain loop", lambda: plain_loop(deps)),
            ("Temporal", lambda: through_temporal(deps, env)),
        ):
            await reset(deps)
            start = time.perf_counter()
            done = await run()
            seconds = time.perf_counter() - start
            rows[name] = {
                "user_agent_pairs": done,
                "seconds": round(seconds, 2),
                "users_per_s": round(done / len(deps.agents) / seconds, 1),
            }
    finally:
        await env.shutdown()
        await engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
    ratio = rows["Temporal"]["users_per_s"] / rows["plain loop"]["users_per_s"]
    return {
        "users": users,
        "agents": list(deps.agents),
        "batch": BATCH,
        "paths": rows,
        "temporal_vs_plain": round(ratio, 3),
        "target": 0.5,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1000)
    result = asyncio.run(measure(parser.parse_args().users))
    print(f"{result['users']} users x {len(result['agents'])} agents, batches of {BATCH}")
    print(f"{'path':<12}{'pairs':>8}{'seconds':>10}{'users/s':>10}")
    for name, row in result["paths"].items():
        print(f"{name:<12}{row['user_agent_pairs']:>8}{row['seconds']:>10}{row['users_per_s']:>10}")
    print(f"Temporal / plain loop = {result['temporal_vs_plain']:.2f} (target >= 0.50)")
    out = Path(__file__).parent / "results" / "sweep.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
