"""Account deletion steps: each idempotent, so a retried or replayed step changes nothing."""

from sqlalchemy import delete, select, update
from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError

from activities.deps import ActivityDeps
from contracts.deletion import AuditInput, DeletionStepInput, StepResult
from contracts.temporal import (
    DELETE_USER_HISTORIES,
    DELETE_USER_ROWS,
    DESTROY_DATA_KEY,
    LIST_USER_PROVIDERS,
    MARK_DELETING,
    SEARCH_ATTRIBUTE_USER_ID,
    STOP_USER_WORKFLOWS,
    VERIFY_ERASED,
    WRITE_DELETION_AUDIT,
)
from store import erasure, integrations
from store.models import Integration, Session, User

ERASURE_INCOMPLETE = "ErasureIncomplete"


class DeletionActivities:
    """The side effects of AccountDeletionWorkflow."""

    def __init__(self, deps: ActivityDeps) -> None:
        self._deps = deps

    def _temporal(self) -> Client:
        if self._deps.temporal is None:
            raise ApplicationError("no Temporal client", non_retryable=True)
        return self._deps.temporal

    def _query(self, inp: DeletionStepInput) -> str:
        # The deletion workflow carries no OoUserId, so it never lists itself.
        return f"{SEARCH_ATTRIBUTE_USER_ID} = '{inp.user_id}'"

    @activity.defn(name=MARK_DELETING)
    async def mark_deleting(self, inp: DeletionStepInput) -> StepResult:
        """The user is `deleting` (logins and the API refuse) and every session ends."""
        activity.heartbeat()
        async with self._deps.sessions.begin() as db:
            await db.execute(update(User).where(User.id == inp.user_id).values(status="deleting"))
            ended = await db.execute(delete(Session).where(Session.user_id == inp.user_id))
        return StepResult(count=ended.rowcount or 0)  # type: ignore[attr-defined]

    @activity.defn(name=STOP_USER_WORKFLOWS)
    async def stop_user_workflows(self, inp: DeletionStepInput) -> StepResult:
        """Terminate the user's running workflows: no work for the user goes on."""
        client, stopped = self._temporal(), 0
        query = f"{self._query(inp)} AND ExecutionStatus = 'Running'"
        async for wf in client.list_workflows(query):
            await client.get_workflow_handle(wf.id, run_id=wf.run_id).terminate("account deleted")
            stopped += 1
            activity.heartbeat(stopped)
        return StepResult(count=stopped)

    @activity.defn(name=LIST_USER_PROVIDERS)
    async def list_user_providers(self, inp: DeletionStepInput) -> list[str]:
        async with self._deps.sessions() as db:
            stmt = select(Integration.provider).where(Integration.user_id == inp.user_id)
            return sorted((await db.scalars(stmt)).all())

    @activity.defn(name=DELETE_USER_ROWS)
    async def delete_user_rows(self, inp: DeletionStepInput) -> StepResult:
        """Every row referencing the user, in one transaction (the key and user row go later)."""
        async with self._deps.sessions.begin() as db:
            count = await erasure.delete_user_rows(
                db, user_id=inp.user_id, on_table=activity.heartbeat
            )
        return StepResult(count=count)

    @activity.defn(name=DELETE_USER_HISTORIES)
    async def delete_user_histories(self, inp: DeletionStepInput) -> StepResult:
        """Delete the user's closed workflow histories (anything still running is stopped)."""
        client, deleted = self._temporal(), 0
        namespace = client.namespace
        async for wf in client.list_workflows(self._query(inp)):
            if wf.status == WorkflowExecutionStatus.RUNNING:
                await client.get_workflow_handle(wf.id, run_id=wf.run_id).terminate(
                    "account deleted"
                )
            await client.workflow_service.delete_workflow_execution(
                DeleteWorkflowExecutionRequest(
                    namespace=namespace,
                    workflow_execution=WorkflowExecution(workflow_id=wf.id, run_id=wf.run_id),
                )
            )
            deleted += 1
            activity.heartbeat(deleted)
        return StepResult(count=deleted)

    @activity.defn(name=DESTROY_DATA_KEY)
    async def destroy_data_key(self, inp: DeletionStepInput) -> StepResult:
        """Without the data key, every copy of the user's tokens (backups too) is unreadable."""
        async with self._deps.sessions.begin() as db:
            gone = await integrations.destroy_user_key(db, user_id=inp.user_id)
        return StepResult(outcome="done" if gone else "skipped")

    @activity.defn(name=WRITE_DELETION_AUDIT)
    async def write_deletion_audit(self, inp: AuditInput) -> StepResult:
        """The audit holds a keyed hash of the user id, timestamps and step outcomes only."""
        async with self._deps.sessions.begin() as db:
            await erasure.write_audit(
                db,
                deletion_id=inp.deletion_id,
                subject=erasure.subject_hash(self._deps.hash_salt, inp.user_id),
                requested_at=inp.requested_at,
                completed_at=inp.completed_at,
                steps=inp.steps,
            )
        return StepResult()

    @activity.defn(name=VERIFY_ERASED)
    async def verify_erased(self, inp: DeletionStepInput) -> StepResult:
        """Delete the user row, then check no row and no workflow of the user remains."""
        activity.heartbeat()
        async with self._deps.sessions.begin() as db:
            await erasure.delete_user(db, user_id=inp.user_id)
            left = await erasure.remaining_rows(db, user_id=inp.user_id)
        if left:
            raise ApplicationError(f"rows remain in {sorted(left)}", type=ERASURE_INCOMPLETE)
        listed = [wf.id async for wf in self._temporal().list_workflows(self._query(inp))]
        if listed:
            # Visibility is eventually consistent: retried until the list is empty.
            raise ApplicationError(f"{len(listed)} workflows still listed", type=ERASURE_INCOMPLETE)
        return StepResult()
