"""RecomputeWorkflow: one user's agents, now."""

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts.compute import (
        EligibleAgentsInput,
        EligibleAgentsResult,
        RecomputeInput,
        RecomputeResult,
    )
    from contracts.sync import SyncHistoryInput, SyncHistoryResult
    from contracts.temporal import COMPUTE_AGENT_SNIPPET, LIST_ELIGIBLE_AGENTS, SYNC_TODOIST_HISTORY
    from contracts.tips import AgentComputeInput, AgentComputeResult
    from workflows.calls import (
        BATCH_HEARTBEAT,
        BATCH_SCHEDULE_TO_CLOSE,
        BATCH_START_TO_CLOSE,
        DATABASE_RETRY,
        database_activity,
    )


@workflow.defn
class RecomputeWorkflow:
    """Sync the user's history, then compute the requested agents (default: all eligible).

    Input `RecomputeInput`, result `RecomputeResult`. Lists the user's eligible agents and
    active integrations (`list_eligible_agents`), syncs each provider's history
    (`sync_todoist_history`; a failure leaves the stored history), then runs
    `compute_agent_snippet` for each agent in parallel.
    Started with id `recompute-{user_id}`; a second request while one runs joins it.
    """

    @workflow.run
    async def run(self, inp: RecomputeInput) -> RecomputeResult:
        now = workflow.now()
        eligible = await database_activity(
            LIST_ELIGIBLE_AGENTS,
            EligibleAgentsInput(user_id=inp.user_id, agent_ids=inp.agent_ids),
            EligibleAgentsResult,
        )
        # Added after the first deployment: histories recorded before it have no sync step.
        if workflow.patched("sync-before-recompute"):
            for provider in eligible.sync_providers:
                await self._sync(inp, provider)
        await asyncio.gather(
            *(
                database_activity(
                    COMPUTE_AGENT_SNIPPET,
                    AgentComputeInput(user_id=inp.user_id, agent_id=agent_id, as_of=now),
                    AgentComputeResult,
                )
                for agent_id in eligible.agent_ids
            )
        )
        return RecomputeResult(user_id=inp.user_id, agent_ids=eligible.agent_ids)

    async def _sync(self, inp: RecomputeInput, provider: str) -> None:
        """Sync the provider's history now; on failure the agents use what is stored."""
        try:
            await workflow.execute_activity(
                SYNC_TODOIST_HISTORY,
                SyncHistoryInput(user_id=inp.user_id),
                result_type=SyncHistoryResult,
                start_to_close_timeout=BATCH_START_TO_CLOSE,
                schedule_to_close_timeout=BATCH_SCHEDULE_TO_CLOSE,
                heartbeat_timeout=BATCH_HEARTBEAT,
                retry_policy=DATABASE_RETRY,
            )
        except ActivityError as err:
            workflow.logger.warning("%s sync failed: %s", provider, type(err.cause).__name__)
