"""GenerateTipWorkflow: snippets in, one stored tip (or a reasoned "nothing now") out."""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts.agents import Snippet
    from contracts.llm import GeneratedTip, GenerateTipTextInput
    from contracts.temporal import (
        COMPOSE_TIP,
        COMPUTE_AGENT_SNIPPET,
        GENERATE_TIP_TEXT,
        LOAD_TIP_CONTEXT,
        STORE_TIP,
        llm_task_queue,
    )
    from contracts.tips import (
        MIN_TIP_SALIENCE,
        AgentComputeInput,
        AgentComputeResult,
        Candidate,
        ComposeTipInput,
        GenerateTipInput,
        StoreTipInput,
        TipContext,
        TipContextInput,
        TipDraft,
        TipOutcome,
        TipStatus,
    )
    from workflows.calls import database_activity

# A fast failure (a 500, a 429 with a short Retry-After) is worth one more try; the whole
# exchange stays inside the LLM budget, after which the composer answers instead.
LLM_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=300), backoff_coefficient=2.0, maximum_attempts=3
)


@workflow.defn
class GenerateTipWorkflow:
    """Decide and store one tip for a user.

    Input `GenerateTipInput`, result `TipOutcome`. Loads what the decision needs
    (`load_tip_context`: eligible agents, fresh snippets, today's budget, quiet hours),
    recomputes missing or expired snippets in parallel (`compute_agent_snippet`), and answers
    "budget", "quiet" (proactive requests in quiet hours) or "nothing" (no snippet salient
    enough) without a new tip. Otherwise the LLM writes the tip (`generate_tip_text` on the
    LLM task queue, within its time budget) and the deterministic composer (`compose_tip`)
    stands in on any failure. Every decision is stored with its candidates (`store_tip`,
    once per run). Started with id `tip-{user_id}` so that concurrent requests join one run.
    """

    @workflow.run
    async def run(self, inp: GenerateTipInput) -> TipOutcome:
        started = workflow.now()
        ctx = await database_activity(
            LOAD_TIP_CONTEXT, TipContextInput(user_id=inp.user_id, as_of=started), TipContext
        )
        if ctx.tips_left_today <= 0 and inp.reason != "cli":
            return await self._store(inp, "budget", None, [], started, ctx)
        if ctx.quiet_now and inp.reason == "proactive":
            return await self._store(inp, "quiet", None, [], started, ctx)
        snippets = ctx.snippets + await self._recompute(inp, ctx.stale_agent_ids, started)
        worthy = [s for s in snippets if s.salience >= MIN_TIP_SALIENCE]
        if not worthy:
            return await self._store(inp, "nothing", None, snippets, started, ctx)
        draft = await self._draft(worthy, ctx, started)
        return await self._store(inp, "tip", draft, snippets, started, ctx)

    async def _recompute(
        self, inp: GenerateTipInput, agent_ids: list[str], now: datetime
    ) -> list[Snippet]:
        results = await asyncio.gather(
            *(
                database_activity(
                    COMPUTE_AGENT_SNIPPET,
                    AgentComputeInput(user_id=inp.user_id, agent_id=agent_id, as_of=now),
                    AgentComputeResult,
                )
                for agent_id in agent_ids
            )
        )
        return [r.snippet for r in results if r.snippet is not None]

    async def _draft(self, snippets: list[Snippet], ctx: TipContext, now: datetime) -> TipDraft:
        """The LLM's tip within its budget, or the composer's on any failure."""
        if ctx.llm_enabled:
            budget = timedelta(milliseconds=ctx.llm_budget_ms)
            try:
                generated: GeneratedTip = await workflow.execute_activity(
                    GENERATE_TIP_TEXT,
                    GenerateTipTextInput(snippets=snippets, as_of=now, local_time=ctx.local_time),
                    result_type=GeneratedTip,
                    task_queue=llm_task_queue(workflow.info().task_queue),
                    start_to_close_timeout=budget,
                    schedule_to_close_timeout=budget,
                    retry_policy=LLM_RETRY,
                )
                return TipDraft(
                    text=generated.text,
                    kind=generated.kind,
                    agent_ids=generated.agent_ids,
                    generator="llm",
                    model=generated.model,
                    prompt_version=generated.prompt_version,
                )
            except ActivityError as err:
                workflow.logger.warning("LLM tip failed, composer stands in: %s", err.cause)
        return await database_activity(
            COMPOSE_TIP, ComposeTipInput(snippets=snippets, as_of=now), TipDraft
        )

    async def _store(
        self,
        inp: GenerateTipInput,
        status: TipStatus,
        draft: TipDraft | None,
        considered: list[Snippet],
        started: datetime,
        ctx: TipContext,
    ) -> TipOutcome:
        now = workflow.now()
        if draft is not None:
            draft = draft.model_copy(
                update={"latency_ms": int((now - started).total_seconds() * 1000)}
            )
        return await database_activity(
            STORE_TIP,
            StoreTipInput(
                user_id=inp.user_id,
                status=status,
                reason=inp.reason,
                draft=draft,
                candidates=[
                    Candidate(agent_id=s.agent_id, salience=s.salience) for s in considered
                ],
                run_id=workflow.info().run_id,
                as_of=started,
                next_tip_at=None if status == "tip" else ctx.next_tip_at,
            ),
            TipOutcome,
        )
