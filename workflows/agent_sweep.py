"""AgentSweepWorkflow: keep one agent's outputs fresh for every due user."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.compute import (
        AgentSweepInput,
        ComputeBatchInput,
        ComputeBatchResult,
        DueUsersInput,
        DueUsersResult,
        SweepResult,
    )
    from contracts.temporal import COMPUTE_AGENT_BATCH, LIST_DUE_USERS
    from workflows.calls import batch_activity, database_activity


@workflow.defn
class AgentSweepWorkflow:
    """Page through the users due for one agent and compute them in batches.

    Input `AgentSweepInput`, result `SweepResult`. Started by the agent's Schedule. Each page
    of due users (`list_due_users`, id order after a cursor) is computed by one heartbeating
    `compute_agent_batch` activity that upserts outputs and inferred preferences in one
    transaction. Every `batches_per_run` batches the workflow continues as new with its
    cursor and clock, so its history stays small however many users there are.
    """

    @workflow.run
    async def run(self, inp: AgentSweepInput) -> SweepResult:
        as_of = inp.as_of or workflow.now()
        cursor, done = inp.cursor, inp.users_done
        for _ in range(inp.batches_per_run):
            page = await database_activity(
                LIST_DUE_USERS,
                DueUsersInput(
                    agent_id=inp.agent_id, after=cursor, limit=inp.batch_size, as_of=as_of
                ),
                DueUsersResult,
            )
            if not page.user_ids:
                return SweepResult(agent_id=inp.agent_id, users=done)
            result = await batch_activity(
                COMPUTE_AGENT_BATCH,
                ComputeBatchInput(agent_id=inp.agent_id, user_ids=page.user_ids, as_of=as_of),
                ComputeBatchResult,
            )
            cursor, done = page.user_ids[-1], done + result.computed
        workflow.continue_as_new(
            inp.model_copy(update={"cursor": cursor, "as_of": as_of, "users_done": done})
        )
