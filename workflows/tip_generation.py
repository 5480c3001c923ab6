"""GenerateTipWorkflow: snippets in, one stored tip out."""

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
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
    from workflows.calls import database_activity


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
        ctx = await database_activity(
            LOAD_TIP_CONTEXT,
            TipContextInput(user_id=inp.user_id, as_of=now),
            TipContext,
        )
        recomputed = await asyncio.gather(
            *(
                database_activity(
                    COMPUTE_AGENT_SNIPPET,
                    AgentComputeInput(user_id=inp.user_id, agent_id=agent_id, as_of=now),
                    AgentComputeResult,
                )
                for agent_id in ctx.stale_agent_ids
            )
        )
        snippets = ctx.snippets + [r.snippet for r in recomputed if r.snippet is not None]
        draft = await database_activity(
            COMPOSE_TIP,
            ComposeTipInput(snippets=snippets, as_of=now),
            TipDraft,
        )
        return await database_activity(
            STORE_TIP,
            StoreTipInput(
                user_id=inp.user_id, draft=draft, run_id=workflow.info().run_id, as_of=now
            ),
            TipRead,
        )
