"""Starting workflows from the api and the cli: ids, policies and search attributes."""

from datetime import timedelta
from uuid import UUID

from temporalio.client import Client
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from contracts.temporal import SEARCH_ATTRIBUTE_USER_ID, tip_workflow_id
from contracts.tips import GenerateTipInput, TipOutcome
from workflows.tip_generation import GenerateTipWorkflow

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
