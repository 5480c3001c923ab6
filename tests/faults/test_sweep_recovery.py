"""1,000 users swept by the scheduled workflows, surviving a SIGKILL of the worker."""

import signal
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from agents import all_agents
from cli.seed import seed_users
from contracts.temporal import agent_sweep_id
from store.models import AgentOutput
from tests.factories import count_rows
from tests.faults.conftest import WorkerEnv
from tests.faults.processes import delete_schedules, start_worker, stop, wait_for

USERS = 1000


async def output_counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """(all outputs, fresh outputs)."""
    fresh = AgentOutput.expires_at > datetime.now(UTC)
    return await count_rows(sessions, AgentOutput), await count_rows(sessions, AgentOutput, fresh)


async def test_scheduled_sweeps_survive_a_worker_kill(
    dev_client: Client,
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    worker_env: WorkerEnv,
    task_queue: str,
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    await seed_users(sessions, count=USERS)
    agents = list(all_agents())
    expected = USERS * len(agents)
    env = worker_env(
        database_url=database_url,
        log_level="WARNING",
    )
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
        await stop(worker)
        await delete_schedules(dev_client, task_queue)
