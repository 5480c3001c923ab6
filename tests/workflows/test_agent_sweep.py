import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from activities import ActivityDeps
from agents import all_agents
from contracts.compute import AgentSweepInput, RecomputeInput
from store import users
from store.models import AgentOutput, User, UserPreference
from tests.factories import persona_user
from worker import build_worker
from workflows import AgentSweepWorkflow, RecomputeWorkflow


def deps(sessions: async_sessionmaker[AsyncSession]) -> ActivityDeps:
    return ActivityDeps(sessions=sessions, agents=all_agents(), tip_ttl=timedelta(hours=3))


async def outputs_of(sessions: async_sessionmaker[AsyncSession], agent_id: str) -> set[uuid.UUID]:
    async with sessions() as db:
        stmt = select(AgentOutput.user_id).where(AgentOutput.agent_id == agent_id)
        return set((await db.scalars(stmt)).all())


async def test_a_sweep_pages_through_due_users_and_continues_as_new(
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    now = datetime.now(UTC)
    due = {await persona_user(sessions, seed=s, now=now, days=14) for s in range(23)}
    async with sessions.begin() as db:
        silent = (await users.create_user(db, display_name=None)).id  # no consent
        leaving = await users.create_user(db, display_name=None, consents=("todoist.read",))
        leaving.status = "deleting"
    client = time_skipping_env.client
    inp = AgentSweepInput(agent_id="time-of-day", batch_size=4, batches_per_run=2)
    async with build_worker(client, deps(sessions), task_queue=task_queue):
        handle = await client.start_workflow(
            AgentSweepWorkflow.run, inp, id=f"sweep-{uuid.uuid4()}", task_queue=task_queue
        )
        result = await handle.result()
        # 23 users in batches of 4, two batches a run: the workflow continued as new.
        latest = await client.get_workflow_handle(handle.id).describe()
        assert latest.run_id != handle.first_execution_run_id
        assert result.users == 23
        assert await outputs_of(sessions, "time-of-day") == due
        assert silent not in due and leaving.id not in due
        # Everyone is fresh now: a second sweep finds nobody due.
        again = await client.execute_workflow(
            AgentSweepWorkflow.run, inp, id=f"sweep-{uuid.uuid4()}", task_queue=task_queue
        )
    assert again.users == 0
    async with sessions() as db:
        inferred = await db.scalar(
            select(func.count(func.distinct(UserPreference.user_id))).where(
                UserPreference.scope == "time-of-day", UserPreference.source == "inferred"
            )
        )
        assert inferred == 23
        assert await db.scalar(select(func.count()).select_from(User)) == 25


async def test_recompute_runs_every_eligible_agent_for_one_user(
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    user_id = await persona_user(sessions, days=30)
    client = time_skipping_env.client
    async with build_worker(client, deps(sessions), task_queue=task_queue):
        everything = await client.execute_workflow(
            RecomputeWorkflow.run,
            RecomputeInput(user_id=user_id),
            id=f"recompute-{user_id}",
            task_queue=task_queue,
        )
        one = await client.execute_workflow(
            RecomputeWorkflow.run,
            RecomputeInput(user_id=user_id, agent_ids=["time-of-day"]),
            id=f"recompute-{user_id}",
            task_queue=task_queue,
        )
    assert sorted(everything.agent_ids) == sorted(all_agents())
    assert one.agent_ids == ["time-of-day"]
    for agent_id in all_agents():
        assert user_id in await outputs_of(sessions, agent_id)
