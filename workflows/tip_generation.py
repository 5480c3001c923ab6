"""GenerateTipWorkflow: snippets in, one stored tip out."""

import asyncio
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from contracts.temporal import COMPOSE_TIP, COMPUTE_AGENT_SNIPPET, LOAD_TIP_CONTEXT, STORE_TIP
    from contracts.tips import (
        AgentComputeInput,
        AgentComputeResult,
        ComposeTipInput,
        GenerateTipInput,
        StoreTipInput,
        TipContext,
        TipContextInput,
        TipDraft,
        TipRead,
    )

R = TypeVar("R", bound=BaseModel)

# Database work: quick retries, bounded so that a dead database fails the tip within a minute.
DATABASE_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=5)
DATABASE_START_TO_CLOSE = timedelta(seconds=10)
# The overall bound also keeps the time-skipping test server's clock sane (TEMPORAL.md).
DATABASE_SCHEDULE_TO_CLOSE = timedelta(seconds=60)


async def _database_activity(name: str, arg: BaseModel, result_type: type[R]) -> R:
    """Run a database-bound activity with its timeouts and retry policy."""
    result: R = await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=DATABASE_START_TO_CLOSE,
        schedule_to_close_timeout=DATABASE_SCHEDULE_TO_CLOSE,
        retry_policy=DATABASE_RETRY,
    )
    return result


@workflow.defn
class GenerateTipWorkflow:
    """Generate and store one tip for a user.

    Input `GenerateTipInput`, result `TipRead`. Loads the eligible agents and their fresh
    snippets (`load_tip_context`), recomputes missing or expired ones in parallel
    (`compute_agent_snippet`), composes a tip (`compose_tip`) and stores it once per run
    (`store_tip`). Started with id `tip-{user_id}` so that concurrent requests join one run.
    """

    @workflow.run
    async def run(self, inp: GenerateTipInput) -> TipRead:
        now = workflow.now()
        ctx = await _database_activity(
            LOAD_TIP_CONTEXT,
            TipContextInput(user_id=inp.user_id, as_of=now),
            TipContext,
        )
        recomputed = await asyncio.gather(
            *(
                _database_activity(
                    COMPUTE_AGENT_SNIPPET,
                    AgentComputeInput(user_id=inp.user_id, agent_id=agent_id, as_of=now),
                    AgentComputeResult,
                )
                for agent_id in ctx.stale_agent_ids
            )
        )
        snippets = ctx.snippets + [r.snippet for r in recomputed if r.snippet is not None]
        draft = await _database_activity(
            COMPOSE_TIP,
            ComposeTipInput(snippets=snippets, as_of=now),
            TipDraft,
        )
        return await _database_activity(
            STORE_TIP,
            StoreTipInput(
                user_id=inp.user_id, draft=draft, run_id=workflow.info().run_id, as_of=now
            ),
            TipRead,
        )
