"""The agent registry, and recomputing one agent for the caller now."""

import asyncio
import uuid

from fastapi import APIRouter, HTTPException, status
from temporalio.client import WorkflowFailureError

from agents import all_agents
from api.deps import CurrentUser, StateDep
from api.state import AppState
from contracts.agents import AgentComputeRead, AgentRead
from contracts.compute import RecomputeInput
from store import agent_outputs, users
from workflows.client import start_recompute

router = APIRouter(prefix="/api/agents", tags=["agents"])
BUSY = {"Retry-After": "2"}


@router.get("/registry", response_model=list[AgentRead])
async def registry(_: CurrentUser) -> list[AgentRead]:
    """Every registered agent's manifest."""
    return [AgentRead(manifest=agent.manifest) for agent in all_agents().values()]


async def _recompute(state: AppState, user_id: uuid.UUID, agent_id: str) -> bool:
    """Run the user's recompute for the agent; False when it was not computed (not eligible).

    A recompute already running is joined; it may be for other agents, so then once more.
    """
    client = await state.temporal()
    inp = RecomputeInput(user_id=user_id, agent_ids=[agent_id])
    for _ in range(2):
        result = await start_recompute(client, inp, task_queue=state.settings.task_queue)
        if agent_id in result.agent_ids:
            return True
    return False


@router.post(
    "/{agent_id}/compute",
    response_model=AgentComputeRead,
    responses={
        404: {"description": "no agent has this id"},
        409: {"description": "the agent needs a consent the caller has not given"},
        503: {"description": "the workflow engine is unreachable or busy (Retry-After)"},
    },
)
async def compute(agent_id: str, user: CurrentUser, state: StateDep) -> AgentComputeRead:
    """Recompute the agent for the caller (through the recompute workflow) and return it."""
    agent = all_agents().get(agent_id)
    if agent is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such agent")
    async with state.sessions() as db:
        granted = await users.granted_consents(db, user_id=user.id)
    if not set(agent.manifest.consents) <= granted:
        raise HTTPException(status.HTTP_409_CONFLICT, "this agent needs your consent first")
    try:
        computed = await asyncio.wait_for(
            _recompute(state, user.id, agent_id), state.settings.tip_wait_seconds
        )
    except TimeoutError:
        raise HTTPException(503, "the agent is still computing", headers=BUSY) from None
    except WorkflowFailureError:
        raise HTTPException(503, "the agent could not be computed now", headers=BUSY) from None
    async with state.sessions() as db:
        found = await agent_outputs.latest_output(db, user_id=user.id, agent_id=agent_id)
    if not computed or found is None:  # consent withdrawn meanwhile
        raise HTTPException(status.HTTP_409_CONFLICT, "this agent needs your consent first")
    return found
