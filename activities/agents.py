"""Agent compute: load a user's history, run the pure agent off the event loop, upsert."""

import asyncio

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deps import ActivityDeps
from agents.inference import run_inference
from contracts.errors import UNKNOWN_AGENT, USER_NOT_FOUND
from contracts.temporal import COMPUTE_AGENT_SNIPPET
from contracts.tips import AgentComputeInput, AgentComputeResult
from store import agent_outputs, history, users


class AgentActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._deps = deps

    @activity.defn(name=COMPUTE_AGENT_SNIPPET)
    async def compute_agent_snippet(self, inp: AgentComputeInput) -> AgentComputeResult:
        """Recompute one agent for one user and store its output (idempotent upsert)."""
        agent = self._deps.agents.get(inp.agent_id)
        if agent is None:
            raise ApplicationError(
                f"unknown agent {inp.agent_id}", type=UNKNOWN_AGENT, non_retryable=True
            )
        async with self._deps.sessions() as db:
            user = await users.get_user(db, user_id=inp.user_id)
            if user is None:
                raise ApplicationError("user not found", type=USER_NOT_FOUND, non_retryable=True)
            hist = await history.load_history(db, user=user)
        # numpy work runs on a thread so that it never blocks the worker's event loop.
        inferred = await asyncio.to_thread(run_inference, agent, hist, now=inp.as_of)
        async with self._deps.sessions.begin() as db:
            # Inferred values and the output land in one transaction; the user's own keys win.
            prefs = await users.write_inferred(
                db, user_id=inp.user_id, scope=agent.id, values=inferred
            )
            snippet = await asyncio.to_thread(agent.compute, hist, prefs, inp.as_of)
            await agent_outputs.upsert_output(
                db,
                user_id=inp.user_id,
                agent_id=agent.id,
                agent_version=agent.manifest.version,
                snippet=snippet,
                computed_at=inp.as_of,
                expires_at=inp.as_of + agent.manifest.ttl,
            )
        return AgentComputeResult(agent_id=agent.id, snippet=snippet)
