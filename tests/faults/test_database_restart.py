"""PostgreSQL restarted under running recomputes: each history is synced once, each agent
computed once. A private cluster: the shared server on 5432 is never restarted."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle

from agents import all_agents
from contracts.compute import RecomputeInput
from contracts.temporal import SYNC_TODOIST_HISTORY, recompute_workflow_id
from store.models import AgentOutput, TaskCompletion
from tests.factories import count_rows, migrated
from tests.faults.builders import COMPLETED_PATH, COMPLETIONS, sync_deps, todoist_user
from tests.faults.checks import activity_runs
from tests.faults.gates import GatedTodoist
from tests.faults.postgres import PrivateCluster
from worker import build_worker
from workflows.client import start_recompute


@pytest.fixture
async def pg_sessions(
    private_postgres: PrivateCluster,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with migrated(private_postgres.url) as maker:
        yield maker


async def sync_retried(handle: WorkflowHandle, timeout: float = 30.0) -> None:  # type: ignore[type-arg]
    """Wait until the running sync activity has failed at least once."""
    deadline = time.monotonic() + timeout
    while True:
        desc = await handle.describe()
        pending = desc.raw_description.pending_activities
        if any(p.activity_type.name == SYNC_TODOIST_HISTORY and p.attempt > 1 for p in pending):
            return
        assert time.monotonic() < deadline, "the sync never failed with the database down"
        await asyncio.sleep(0.05)


async def synced(sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID) -> int:
    return await count_rows(sessions, TaskCompletion, TaskCompletion.user_id == user_id)


async def test_recomputes_survive_a_database_restart(
    private_postgres: PrivateCluster,
    pg_sessions: async_sessionmaker[AsyncSession],
    dev_client: Client,
    task_queue: str,
) -> None:
    async with GatedTodoist() as todoist:
        restarted = await todoist_user(pg_sessions, todoist, token="tok-restarted")
        outage = await todoist_user(pg_sessions, todoist, token="tok-outage")
        deps = sync_deps(pg_sessions, todoist)
        async with build_worker(dev_client, deps, task_queue=task_queue):
            # A fast restart while the sync waits on Todoist between two writes: every pooled
            # connection dies, and the next write must go through (pool_pre_ping) unretried.
            held = todoist.gate(COMPLETED_PATH, nth=2)
            first = asyncio.create_task(
                start_recompute(
                    dev_client, RecomputeInput(user_id=restarted), task_queue=task_queue
                )
            )
            await held.reached()
            assert await synced(pg_sessions, restarted) == 200  # page 1 of 3 is stored
            restart_s = await private_postgres.restart()
            held.open()
            await asyncio.wait_for(first, 60)

            # The database down when the sync writes: the activity fails, Temporal retries it
            # once the database is back, and the re-run stores nothing twice.
            held = todoist.gate(COMPLETED_PATH, nth=2)
            second = asyncio.create_task(
                start_recompute(dev_client, RecomputeInput(user_id=outage), task_queue=task_queue)
            )
            await held.reached()
            stop_s = await private_postgres.stop()
            held.open()
            handle = dev_client.get_workflow_handle(recompute_workflow_id(outage))
            await sync_retried(handle)
            start_s = await private_postgres.start()
            await asyncio.wait_for(second, 60)
    print(
        f"\nprivate PostgreSQL: restart -m fast {restart_s:.2f} s; "
        f"stop {stop_s:.2f} s, start {start_s:.2f} s"
    )
    agents = len(all_agents())
    for user_id in (restarted, outage):
        assert await synced(pg_sessions, user_id) == COMPLETIONS
        where = AgentOutput.user_id == user_id
        assert await count_rows(pg_sessions, AgentOutput, where) == agents
    first_sync = await activity_runs(
        dev_client.get_workflow_handle(recompute_workflow_id(restarted)), SYNC_TODOIST_HISTORY
    )
    assert [(r.attempt, r.completed) for r in first_sync] == [(1, True)]
    [second_sync] = await activity_runs(handle, SYNC_TODOIST_HISTORY)
    assert second_sync.completed and second_sync.attempt > 1
