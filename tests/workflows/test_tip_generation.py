import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from activities import ActivityDeps, LlmConfig
from agents.registry import Agent
from contracts.tips import GenerateTipInput, TipOutcome
from store import users
from store.models import Tip, TipDecision, UserPreference
from tests.factories import count_rows, fixed_agent, persona_user
from tests.fakes.litellm import fake_litellm
from worker import build_worker
from workflows import GenerateTipWorkflow
from workflows.client import generate_tip


def deps(
    sessions: async_sessionmaker[AsyncSession],
    *agents: Agent,
    llm: LlmConfig | None = None,
    budget: int = 12,
) -> ActivityDeps:
    chosen = agents or (fixed_agent(),)
    return ActivityDeps(
        sessions=sessions,
        agents={a.id: a for a in chosen},
        tip_ttl=timedelta(hours=3),
        tip_daily_budget=budget,
        llm=llm or LlmConfig(),
    )


async def run_tip(
    env: WorkflowEnvironment, d: ActivityDeps, queue: str, user_id: uuid.UUID, reason: str = "miss"
) -> TipOutcome:
    async with build_worker(env.client, d, task_queue=queue):
        return await env.client.execute_workflow(
            GenerateTipWorkflow.run,
            GenerateTipInput(user_id=user_id, reason=reason),  # type: ignore[arg-type]
            id=f"tip-{uuid.uuid4()}",
            task_queue=queue,
        )


async def test_the_composer_writes_the_tip_without_an_llm(
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    user_id = await persona_user(sessions)
    quiet = fixed_agent("quiet-one", salience=0.1, text="too faint")
    outcome = await run_tip(
        time_skipping_env, deps(sessions, fixed_agent(), quiet), task_queue, user_id
    )
    assert outcome.status == "tip" and outcome.tip is not None
    assert (outcome.tip.text, outcome.tip.generator) == ("Do the one thing.", "composer")
    assert outcome.tip.agent_ids == ["fixed"]
    async with sessions() as db:
        decision = (await db.scalars(select(TipDecision))).one()
        tip = (await db.scalars(select(Tip))).one()
    assert sorted(c["agent_id"] for c in decision.candidates) == ["fixed", "quiet-one"]
    assert decision.status == "tip" and decision.generator == "composer"
    assert tip.latency_ms is not None and tip.latency_ms >= 0


async def test_the_llm_writes_the_tip_when_there_is_one(
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    user_id = await persona_user(sessions)
    with fake_litellm(reply="S1 advice: Start the report while your focus is fresh.") as llm:
        config = LlmConfig(url=llm.url, timeout_s=5)
        outcome = await run_tip(time_skipping_env, deps(sessions, llm=config), task_queue, user_id)
        assert len(llm.chat_calls) == 1
        assert llm.chat_calls[0].body["model"] == "tip-generator"
    assert outcome.tip is not None
    assert outcome.tip.text == "Start the report while your focus is fresh."
    assert outcome.tip.generator == "llm"
    async with sessions() as db:
        tip = (await db.scalars(select(Tip))).one()
    assert tip.model and tip.prompt_version


@pytest.mark.parametrize("failure", ["down", "hang", "garbage"])
async def test_the_composer_stands_in_when_the_llm_fails(
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
    failure: str,
) -> None:
    user_id = await persona_user(sessions)
    with fake_litellm() as llm:
        if failure == "down":
            llm.fail_with(500, times=None)  # type: ignore[arg-type]
        elif failure == "hang":
            llm.hang()
        else:
            llm.garbage()
        started = time.monotonic()
        outcome = await run_tip(
            time_skipping_env,
            deps(sessions, llm=LlmConfig(url=llm.url, timeout_s=1.0)),
            task_queue,
            user_id,
        )
        elapsed = time.monotonic() - started
    assert outcome.tip is not None and outcome.tip.generator == "composer"
    assert elapsed < 5  # bounded by the LLM budget, not by retries


async def test_nothing_salient_means_no_tip_now(
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    user_id = await persona_user(sessions)
    faint = fixed_agent(salience=0.05)
    outcome = await run_tip(time_skipping_env, deps(sessions, faint), task_queue, user_id)
    assert outcome.status == "nothing" and outcome.tip is None
    assert outcome.next_tip_at is not None
    assert await count_rows(sessions, Tip) == 0 and await count_rows(sessions, TipDecision) == 1


async def test_the_daily_budget_keeps_the_last_tip(
    dev_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    # The dev server: a skipped clock could cross local midnight and reset the day's budget.
    user_id = await persona_user(sessions)
    d = deps(sessions, budget=1)
    first = await run_tip(dev_env, d, task_queue, user_id, "next")
    second = await run_tip(dev_env, d, task_queue, user_id, "next")
    assert first.status == "tip" and second.status == "budget"
    assert second.tip == first.tip
    assert await count_rows(sessions, Tip) == 1


async def test_proactive_tips_respect_quiet_hours(
    dev_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    # The dev server: the window is set around the real hour, which a skipped clock leaves.
    user_id = await persona_user(sessions)
    async with sessions.begin() as db:
        user = await users.get_user(db, user_id=user_id)
        assert user is not None
        user.tz = "UTC"
        # A quiet window around the current hour (it may wrap midnight).
        hour = datetime.now(UTC).hour
        for key, value in (("quiet_start", (hour - 1) % 24), ("quiet_end", (hour + 2) % 24)):
            db.add(
                UserPreference(
                    user_id=user_id, scope="time-of-day", key=key, value=value, source="user"
                )
            )
    outcome = await run_tip(dev_env, deps(sessions), task_queue, user_id, "proactive")
    asked = await run_tip(dev_env, deps(sessions), task_queue, user_id, "next")
    assert outcome.status == "quiet" and outcome.tip is None
    assert asked.status == "tip"  # a person who asks is answered, quiet hours or not


async def test_an_unknown_user_fails_the_workflow_without_retrying_forever(
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    with pytest.raises(WorkflowFailureError) as failure:
        await run_tip(time_skipping_env, deps(sessions), task_queue, uuid.uuid4())
    assert "user not found" in str(failure.value.cause.cause)


async def test_concurrent_requests_on_the_dev_server_join_one_run(
    dev_client: Client,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    user_id = await persona_user(sessions)
    async with build_worker(dev_client, deps(sessions), task_queue=task_queue):
        outcomes = await asyncio.gather(
            *(
                generate_tip(dev_client, GenerateTipInput(user_id=user_id), task_queue=task_queue)
                for _ in range(10)
            )
        )
    assert len({o.tip.id for o in outcomes if o.tip}) == 1
    assert await count_rows(sessions, Tip) == 1
    # Listed under the opaque user id, and the payloads in history are encrypted.
    handle = dev_client.get_workflow_handle(f"tip-{user_id}")
    desc = await handle.describe()
    assert desc.search_attributes.get("OoUserId") == [str(user_id)]
    history = await handle.fetch_history()
    raw = b"".join(event.SerializeToString() for event in history.events)
    assert b"Do the one thing." not in raw
    assert str(user_id).encode() in raw  # the workflow id and search attribute, in clear
    assert b"binary/encrypted" in raw
