"""1,000 users swept by the scheduled workflows, surviving a SIGKILL of the worker."""

import asyncio
import contextlib
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from agents import all_agents
from cli.seed import seed_users
from contracts.temporal import agent_sweep_id
from store.models import AgentOutput

USERS = 1000


async def start_worker(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    # Output goes to a file: an unread pipe would fill up and block the worker.
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "worker", env=env, stdout=out, stderr=out
        )


async def output_counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """(all outputs, fresh outputs)."""
    async with sessions() as db:
        total = await db.scalar(select(func.count()).select_from(AgentOutput))
        fresh = await db.scalar(
            select(func.count()).where(AgentOutput.expires_at > datetime.now(UTC))
        )
    return int(total or 0), int(fresh or 0)


async def wait_for(predicate, timeout: float, what: str, log: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await predicate():
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        assert time.monotonic() < deadline, f"timed out waiting for {what}; worker log:\n{tail}"
        await asyncio.sleep(0.2)


async def test_scheduled_sweeps_survive_a_worker_kill(
    dev_client: Client,
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    payload_keys: str,
    task_queue: str,
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    await seed_users(sessions, count=USERS)
    agents = list(all_agents())
    expected = USERS * len(agents)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OO_")},
        "OO_TEMPORAL_ADDRESS": dev_client.service_client.config.target_host,
        "OO_DATABASE_URL": database_url,
        "OO_PAYLOAD_KEYS": payload_keys,
        "OO_TASK_QUEUE": task_queue,
        "OO_LOG_LEVEL": "WARNING",
    }
    worker = await start_worker(env, log)
    try:
        # The worker reconciles one schedule per agent at start; trigger them all now.
        async def schedules_exist() -> bool:
            # Owned by this worker's task queue: an earlier test's schedules may still exist.
            try:
                for agent_id in agents:
                    desc = await dev_client.get_schedule_handle(agent_sweep_id(agent_id)).describe()
                    if desc.schedule.action.task_queue != task_queue:  # type: ignore[union-attr]
                        return False
            except RPCError:
                return False
            return True

        await wait_for(schedules_exist, 60, "the worker to create the schedules", log)
        for agent_id in agents:
            await dev_client.get_schedule_handle(agent_sweep_id(agent_id)).trigger()

        async def some_done() -> bool:
            return (await output_counts(sessions))[0] > 0

        await wait_for(some_done, 60, "the first batch", log)
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
        at_kill = (await output_counts(sessions))[0]
        assert 0 < at_kill < expected, "the kill did not land mid-sweep"

        worker = await start_worker(env, log)

        async def all_fresh() -> bool:
            return (await output_counts(sessions))[1] == expected

        await wait_for(all_fresh, 240, "every user to be swept after the restart", log)
        assert await output_counts(sessions) == (expected, expected)  # no user missed, no dupes
    finally:
        if worker.returncode is None:
            worker.send_signal(signal.SIGTERM)
            await worker.wait()
        for agent_id in agents:
            with contextlib.suppress(RPCError):
                await dev_client.get_schedule_handle(agent_sweep_id(agent_id)).delete()
