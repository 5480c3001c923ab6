"""AccountDeletionWorkflow: erase a user, verifiably, surviving any crash on the way."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from contracts.deletion import (
        AccountDeletionInput,
        AccountDeletionResult,
        AuditInput,
        DeletionStatus,
        DeletionStepInput,
        StepOutcome,
        StepResult,
    )
    from contracts.temporal import (
        DELETE_USER_HISTORIES,
        DELETE_USER_ROWS,
        DESTROY_DATA_KEY,
        LIST_USER_PROVIDERS,
        MARK_DELETING,
        REVOKE_TOKEN,
        STOP_USER_WORKFLOWS,
        VERIFY_ERASED,
        WRITE_DELETION_AUDIT,
    )
    from contracts.tokens import TokenRef, TokenState

# Local steps must finish: they retry until they do (the database or Temporal coming back).
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)
# Verification waits for Temporal to finish deleting histories (seconds): check often.
VERIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=250),
    backoff_coefficient=1.5,
    maximum_interval=timedelta(seconds=1),
)
STEP_START_TO_CLOSE = timedelta(minutes=2)
# Every step heartbeats (per table, per workflow): a killed worker is noticed in seconds.
STEP_HEARTBEAT = timedelta(seconds=10)
# Revocation at a provider is retried with backoff, then recorded as failed: local deletion
# still completes (RELIABILITY E3).
REVOKE_BACKOFF = timedelta(seconds=1)
REVOKE_SCHEDULE_TO_CLOSE = timedelta(minutes=5)

Steps = dict[str, StepOutcome | dict[str, StepOutcome]]


@workflow.defn
class AccountDeletionWorkflow:
    """Delete everything oO holds about one user.

    Input `AccountDeletionInput`, result `AccountDeletionResult`, query `status`. Marks the
    user deleting and ends their sessions (`mark_deleting`), stops their workflows
    (`stop_user_workflows`), revokes every provider token at the provider (`revoke_token`,
    retried, then recorded), deletes every user-owned row (`delete_user_rows`) and the user's
    workflow histories (`delete_user_histories`), destroys the user's data key
    (`destroy_data_key`), writes a pseudonymous audit (`write_deletion_audit`) and verifies
    that nothing of the user remains (`verify_erased`). Every step is idempotent, so a crash
    anywhere resumes cleanly. Started with id `account-deletion-{user_id}` and no user search
    attribute, so the user's workflow list ends empty.
    """

    def __init__(self) -> None:
        self._steps: Steps = {}
        self._deletion_id: str | None = None

    @workflow.run
    async def run(self, inp: AccountDeletionInput) -> AccountDeletionResult:
        self._deletion_id = str(inp.deletion_id)
        step = DeletionStepInput(user_id=inp.user_id, deletion_id=inp.deletion_id)
        await self._step("mark_deleting", MARK_DELETING, step)
        await self._step("stop_workflows", STOP_USER_WORKFLOWS, step)
        self._steps["revoke_tokens"] = await self._revoke(step, inp.revoke_attempts)
        await self._step("delete_rows", DELETE_USER_ROWS, step)
        await self._step("delete_histories", DELETE_USER_HISTORIES, step)
        await self._step("destroy_data_key", DESTROY_DATA_KEY, step)
        await self._audit(inp, completed=False)
        await self._step("verify", VERIFY_ERASED, step)
        completed_at = workflow.now()
        await self._audit(inp, completed=True)
        return AccountDeletionResult(
            deletion_id=inp.deletion_id, steps=self._steps, completed_at=completed_at
        )

    async def _call(
        self,
        name: str,
        arg: BaseModel,
        result_type: type[BaseModel],
        retry: RetryPolicy = STEP_RETRY,
    ) -> BaseModel:
        result: BaseModel = await workflow.execute_activity(
            name,
            arg,
            result_type=result_type,
            start_to_close_timeout=STEP_START_TO_CLOSE,
            heartbeat_timeout=STEP_HEARTBEAT,
            retry_policy=retry,
        )
        return result

    async def _step(self, key: str, name: str, step: DeletionStepInput) -> None:
        retry = VERIFY_RETRY if name == VERIFY_ERASED else STEP_RETRY
        result = await self._call(name, step, StepResult, retry)
        assert isinstance(result, StepResult)
        self._steps[key] = result.outcome

    async def _revoke(self, step: DeletionStepInput, attempts: int) -> dict[str, StepOutcome]:
        providers: list[str] = await workflow.execute_activity(
            LIST_USER_PROVIDERS,
            step,
            result_type=list[str],
            start_to_close_timeout=STEP_START_TO_CLOSE,
            retry_policy=STEP_RETRY,
        )
        outcomes: dict[str, StepOutcome] = {}
        for provider in providers:
            try:
                await workflow.execute_activity(
                    REVOKE_TOKEN,
                    TokenRef(user_id=step.user_id, provider=provider),
                    result_type=TokenState,
                    start_to_close_timeout=timedelta(seconds=30),
                    schedule_to_close_timeout=REVOKE_SCHEDULE_TO_CLOSE,
                    retry_policy=RetryPolicy(
                        initial_interval=REVOKE_BACKOFF,
                        backoff_coefficient=2.0,
                        maximum_interval=timedelta(seconds=30),
                        maximum_attempts=attempts,
                    ),
                )
                outcomes[provider] = "done"
            except ActivityError:
                outcomes[provider] = "failed"
        return outcomes

    async def _audit(self, inp: AccountDeletionInput, *, completed: bool) -> None:
        await self._call(
            WRITE_DELETION_AUDIT,
            AuditInput(
                user_id=inp.user_id,
                deletion_id=inp.deletion_id,
                requested_at=inp.requested_at,
                completed_at=workflow.now() if completed else None,
                steps=self._steps,
            ),
            StepResult,
        )

    @workflow.query
    def status(self) -> DeletionStatus:
        assert self._deletion_id is not None
        return DeletionStatus(
            deletion_id=self._deletion_id,
            steps_done=list(self._steps),
            finished="verify" in self._steps,
        )
