"""RecomputeWorkflow: one user's agents, now."""

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.compute import (
        EligibleAgentsInput,
        EligibleAgentsResult,
        RecomputeInput,
        RecomputeResult,
    )
    from contracts.temporal import COMPUTE_AGENT_SNIPPET, LIST_ELIGIBLE_AGENTS
    from contracts.tips import AgentComputeInput, AgentComputeResult
    from workflows.calls import database_activity


@workflow.defn
class RecomputeWorkflow:
    """Compute the requested agents (default: every eligible one) for one user now.

    Input `RecomputeInput`, result `RecomputeResult`. Lists the user's eligible agents
    (`list_eligible_agents`), then runs `compute_agent_snippet` for each in parallel.
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
