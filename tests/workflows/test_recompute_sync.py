"""Recompute and scheduled sweeps sync a connected Todoist history before computing."""

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from activities import ActivityDeps
from agents import all_agents
from contracts.compute import AgentSweepInput, RecomputeInput
from store import users
from store.models import AgentOutput, TaskCompletion
from tests.factories import TEST_VAULT, store_tokens
from tests.fakes.todoist import FakeTodoist, all_day, fake_todoist
from worker import build_worker
from workflows import AgentSweepWorkflow, RecomputeWorkflow


def deps(sessions: async_sessionmaker[AsyncSession], todoist: FakeTodoist) -> ActivityDeps:
    return ActivityDeps(
        sessions=sessions,
        agents=all_agents(),
        tip_ttl=timedelta(hours=1),
        vault=TEST_VAULT,
        todoist_api_base=todoist.api_base,
        hash_salt=b"test-salt",
        sync_stale=timedelta(minutes=30),
    )


async def completions(sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID) -> int:
    async with sessions() as db:
        stmt = select(func.count()).where(TaskCompletion.user_id == user_id)
        return int(await db.scalar(stmt) or 0)


async def test_recompute_syncs_todoist_then_computes_and_a_sweep_resyncs_stale_histories(
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    async with fake_todoist() as todoist:
        account = todoist.account(token="tok-canary-123", timezone="Europe/Paris")
        home = account.project("Home")
        now = datetime.now(UTC)
        for day in range(1, 30):
            at = (now - timedelta(days=day)).replace(hour=8, minute=30)
            account.complete(
                f"Water plants {day}",
                at=at,
                project=home,
                due=all_day(at.date() - timedelta(days=1)),
            )
        async with sessions.begin() as db:
            user = await users.create_user(db, display_name=None, consents=("todoist.read",))
        await store_tokens(sessions, user_id=user.id, provider="todoist", access="tok-canary-123")
        client = time_skipping_env.client
        async with build_worker(client, deps(sessions, todoist), task_queue=task_queue):
            result = await client.execute_workflow(
                RecomputeWorkflow.run,
                RecomputeInput(user_id=user.id),
                id=f"recompute-{user.id}",
                task_queue=task_queue,
            )
            synced = await completions(sessions, user.id)
            assert synced == 29
            assert sorted(result.agent_ids) == sorted(all_agents())
            async with sessions() as db:
                outputs = await db.scalar(
                    select(func.count()).where(AgentOutput.user_id == user.id)
                )
            assert outputs == len(all_agents())

            # A new completion at the provider.
            account.complete(
                "Call the plumber",
                at=now - timedelta(hours=1),
                project=home,
                due=all_day(date.today()),
            )
        # With every sync counted stale, the sweep syncs the new completion.
        stale = replace(deps(sessions, todoist), sync_stale=timedelta(0))
        async with build_worker(client, stale, task_queue=task_queue + "-2"):
            async with sessions.begin() as db:
                await db.execute(AgentOutput.__table__.delete())
            await client.execute_workflow(
                AgentSweepWorkflow.run,
                AgentSweepInput(agent_id="time-of-day"),
                id=f"sweep-{uuid.uuid4()}",
                task_queue=task_queue + "-2",
            )
        assert await completions(sessions, user.id) == 30
    # Only derivatives were stored: no task title in the database.
    async with sessions() as db:
        rows = (await db.execute(select(TaskCompletion.task_key, TaskCompletion.project_key))).all()
    assert all("Water" not in (k or "") and "Home" not in (p or "") for k, p in rows)


async def test_without_the_consent_no_history_is_read(
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    async with fake_todoist() as todoist:
        account = todoist.account(token="tok-no-consent", timezone="Europe/Paris")
        account.complete("Water plants", at=datetime.now(UTC) - timedelta(days=1))
        async with sessions.begin() as db:
            user = await users.create_user(db, display_name=None)  # connected, consent revoked
        await store_tokens(sessions, user_id=user.id, provider="todoist", access="tok-no-consent")
        client = time_skipping_env.client
        async with build_worker(client, deps(sessions, todoist), task_queue=task_queue):
            await client.execute_workflow(
                RecomputeWorkflow.run,
                RecomputeInput(user_id=user.id),
                id=f"recompute-{user.id}",
                task_queue=task_queue,
            )
        assert todoist.calls == []
    assert await completions(sessions, user.id) == 0
