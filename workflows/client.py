"""Starting workflows from the api and the cli: ids, policies and search attributes."""

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from contracts.compute import RecomputeInput, RecomputeResult
from contracts.deletion import AccountDeletionInput
from contracts.temporal import (
    SEARCH_ATTRIBUTE_USER_ID,
    account_deletion_workflow_id,
    recompute_workflow_id,
    tip_workflow_id,
    token_refresh_workflow_id,
)
from contracts.tips import GenerateTipInput, TipOutcome
from contracts.tokens import Provider, TokenRefreshInput, TokenRefreshResult
from workflows.account_deletion import AccountDeletionWorkflow
from workflows.recompute import RecomputeWorkflow
from workflows.tip_generation import GenerateTipWorkflow
from workflows.token_refresh import TokenRefreshWorkflow

USER_ID_KEY = SearchAttributeKey.for_keyword(SEARCH_ATTRIBUTE_USER_ID)
TIP_EXECUTION_TIMEOUT = timedelta(minutes=2)


def user_search_attributes(user_id: UUID) -> TypedSearchAttributes:
    """Search attributes carry the opaque user id only, never an email."""
    return TypedSearchAttributes([SearchAttributePair(USER_ID_KEY, str(user_id))])


async def generate_tip(client: Client, inp: GenerateTipInput, *, task_queue: str) -> TipOutcome:
    """Start (or join the running) tip generation of a user and wait for its outcome."""
    handle = await client.start_workflow(
        GenerateTipWorkflow.run,
        inp,
        id=tip_workflow_id(inp.user_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        execution_timeout=TIP_EXECUTION_TIMEOUT,
        search_attributes=user_search_attributes(inp.user_id),
    )
    return await handle.result()


async def ensure_token_refresh(
    client: Client,
    *,
    user_id: UUID,
    provider: Provider,
    task_queue: str,
    start_signal: str | None = None,
) -> WorkflowHandle[TokenRefreshWorkflow, TokenRefreshResult]:
    """The token's life workflow: the running one, or a new run when none runs; with
    `start_signal`, that signal is delivered to whichever it is (signal-with-start)."""
    return await client.start_workflow(
        TokenRefreshWorkflow.run,
        TokenRefreshInput(user_id=user_id, provider=provider),
        id=token_refresh_workflow_id(user_id, provider),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        search_attributes=user_search_attributes(user_id),
        start_signal=start_signal,
    )


async def start_token_refresh(
    client: Client, *, user_id: UUID, provider: Provider, task_queue: str
) -> None:
    """Start the token's life workflow after a connect, or tell the running one to reload."""
    handle = await ensure_token_refresh(
        client, user_id=user_id, provider=provider, task_queue=task_queue
    )
    await handle.signal(TokenRefreshWorkflow.reconnected)


async def disconnect_token(
    client: Client, *, user_id: UUID, provider: Provider, task_queue: str
) -> None:
    """Ask the token workflow to revoke the token at the provider and end. With none running
    (Temporal was down at connect), one starts with the signal already in its history, so the
    disconnect comes before it first reads the integration."""
    await ensure_token_refresh(
        client, user_id=user_id, provider=provider, task_queue=task_queue, start_signal="disconnect"
    )


async def start_recompute(
    client: Client, inp: RecomputeInput, *, task_queue: str
) -> RecomputeResult:
    """Recompute a user's agents now (joins a recompute already running) and wait for it."""
    handle = await client.start_workflow(
        RecomputeWorkflow.run,
        inp,
        id=recompute_workflow_id(inp.user_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        search_attributes=user_search_attributes(inp.user_id),
    )
    return await handle.result()


async def start_account_deletion(
    client: Client, *, user_id: UUID, requested_at: datetime, task_queue: str
) -> UUID:
    """Start the user's deletion, or join the one running; returns its deletion id.

    A deletion that already finished is not started again (the caller finds its id in the
    audit): its workflow id cannot be reused.
    """
    handle = await client.start_workflow(
        AccountDeletionWorkflow.run,
        AccountDeletionInput(user_id=user_id, deletion_id=uuid4(), requested_at=requested_at),
        id=account_deletion_workflow_id(user_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    # The id is in the start event's input: read from history, it needs no worker.
    async for event in handle.fetch_history_events():
        attrs = event.workflow_execution_started_event_attributes
        [started] = await client.data_converter.decode(attrs.input.payloads, [AccountDeletionInput])
        assert isinstance(started, AccountDeletionInput)
        return started.deletion_id
    raise RuntimeError("the deletion workflow has no start event")
