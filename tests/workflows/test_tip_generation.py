import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from activities import ActivityDeps
from agents import all_agents
from contracts.tips import GenerateTipInput
from store.models import Tip
from tests.factories import persona_user
from worker import build_worker
from workflows import GenerateTipWorkflow
from workflows.client import generate_tip


def deps(sessions: async_sessionmaker[AsyncSession]) -> ActivityDeps:
    return ActivityDeps(sessions=sessions, agents=all_agents(), tip_ttl=timedelta(hours=3))


async def tip_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(Tip)) or 0)


async def test_a_tip_is_generated_and_stored_on_the_time_skipping_server(
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    user_id = await persona_user(sessions)
    client = time_skipping_env.client
    async with build_worker(client, deps(sessions), task_queue=task_queue):
        tip = await client.execute_workflow(
            GenerateTipWorkflow.run,
            GenerateTipInput(user_id=user_id),
            id=f"tip-{user_id}",
            task_queue=task_queue,
        )
    assert tip.generator == "composer"
    assert set(tip.agent_ids) <= set(all_agents())
    assert tip.text
    assert await tip_count(sessions) == 1


async def test_an_unknown_user_fails_the_workflow_without_retrying_forever(
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    client = time_skipping_env.client
    async with build_worker(client, deps(sessions), task_queue=task_queue):
        with pytest.raises(WorkflowFailureError) as failure:
            await client.execute_workflow(
                GenerateTipWorkflow.run,
                GenerateTipInput(user_id=uuid.uuid4()),
                id=f"tip-{uuid.uuid4()}",
                task_queue=task_queue,
            )
    assert "user not found" in str(failure.value.cause.cause)


async def test_concurrent_requests_on_the_dev_server_join_one_run(
    dev_client: Client,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    user_id = await persona_user(sessions)
    async with build_worker(dev_client, deps(sessions), task_queue=task_queue):
        tips = await asyncio.gather(
            *(
                generate_tip(dev_client, GenerateTipInput(user_id=user_id), task_queue=task_queue)
                for _ in range(10)
            )
        )
    assert len({t.id for t in tips}) == 1
    assert await tip_count(sessions) == 1
    # Listed under the opaque user id, and the payloads in history are encrypted.
    handle = dev_client.get_workflow_handle(f"tip-{user_id}")
    desc = await handle.describe()
    assert desc.search_attributes.get("OoUserId") == [str(user_id)]
    history = await handle.fetch_history()
    raw = b"".join(event.SerializeToString() for event in history.events)
    assert tips[0].text.encode() not in raw
    assert str(user_id).encode() in raw  # the workflow id and search attribute, in clear
    assert b"binary/encrypted" in raw
