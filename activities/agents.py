"""Agent compute: one user now, or a batch of due users for a scheduled sweep."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deps import ActivityDeps
from agents.inference import run_inference
from agents.registry import Agent, eligible
from contracts.agents import Snippet, UserHistory
from contracts.compute import (
    ComputeBatchInput,
    ComputeBatchResult,
    DueUsersInput,
    DueUsersResult,
    EligibleAgentsInput,
    EligibleAgentsResult,
)
from contracts.errors import UNKNOWN_AGENT, USER_NOT_FOUND
from contracts.temporal import (
    COMPUTE_AGENT_BATCH,
    COMPUTE_AGENT_SNIPPET,
    LIST_DUE_USERS,
    LIST_ELIGIBLE_AGENTS,
)
from contracts.tips import AgentComputeInput, AgentComputeResult
from core.tracing import span
from store import agent_outputs, history, integrations, users


def infer_and_compute(
    agent: Agent, hist: UserHistory, user_prefs: dict[str, Any], now: datetime
) -> tuple[dict[str, Any], Snippet | None]:
    """Inferred params, then the snippet under the effective prefs (the user's own win)."""
    inferred = run_inference(agent, hist, now=now)
    return inferred, agent.compute(hist, {**inferred, **user_prefs}, now)


Syncer = Callable[[uuid.UUID], Awaitable[object]]
TODOIST_CONSENT = "todoist.read"


class AgentActivities:
    def __init__(self, deps: ActivityDeps, *, sync: Syncer | None = None) -> None:
        self._deps = deps
        self._sync = sync

    async def _sync_stale(self, user_ids: list[uuid.UUID]) -> None:
        """Sync the users whose provider history is stale; a failure leaves the old history."""
        if self._sync is None:
            return
        async with self._deps.sessions() as db:
            stale = await integrations.stale_syncs(
                db,
                user_ids=user_ids,
                provider="todoist",
                now=datetime.now(UTC),
                older_than=self._deps.sync_stale,
            )
        for user_id in stale:
            try:
                await self._sync(user_id)
            except ApplicationError as err:
                activity.logger.warning("history sync skipped: %s", err.type)

    def _agent(self, agent_id: str) -> Agent:
        agent = self._deps.agents.get(agent_id)
        if agent is None:
            raise ApplicationError(
                f"unknown agent {agent_id}", type=UNKNOWN_AGENT, non_retryable=True
            )
        return agent

    async def _compute(
        self, db: AsyncSession, agent: Agent, user_id: uuid.UUID, hist: UserHistory, now: datetime
    ) -> Snippet | None:
        """Infer, compute and upsert one agent's output for one user (idempotent)."""
        user_prefs = await users.user_set_preferences(db, user_id=user_id, scope=agent.id)
        with span("agent.compute", user_id=user_id, agent_id=agent.id) as traced:
            # numpy work runs on a thread so that it never blocks the worker's event loop.
            inferred, snippet = await asyncio.to_thread(
                infer_and_compute, agent, hist, user_prefs, now
            )
            traced.set(salience=snippet.salience if snippet else None, has_snippet=bool(snippet))
        await users.write_inferred(db, user_id=user_id, scope=agent.id, values=inferred)
        await agent_outputs.upsert_output(
            db,
            user_id=user_id,
            agent_id=agent.id,
            agent_version=agent.manifest.version,
            snippet=snippet,
            computed_at=now,
            expires_at=now + agent.manifest.ttl,
        )
        return snippet

    @activity.defn(name=COMPUTE_AGENT_SNIPPET)
    async def compute_agent_snippet(self, inp: AgentComputeInput) -> AgentComputeResult:
        """Recompute one agent for one user; output and inferred prefs in one transaction."""
        agent = self._agent(inp.agent_id)
        async with self._deps.sessions.begin() as db:
            user = await users.get_user(db, user_id=inp.user_id)
            if user is None:
                raise ApplicationError("user not found", type=USER_NOT_FOUND, non_retryable=True)
            hist = await history.load_history(db, user=user)
            snippet = await self._compute(db, agent, user.id, hist, inp.as_of)
        return AgentComputeResult(agent_id=agent.id, snippet=snippet)

    @activity.defn(name=LIST_DUE_USERS)
    async def list_due_users(self, inp: DueUsersInput) -> DueUsersResult:
        """The next page of users whose output of the agent is missing or about to expire."""
        manifest = self._agent(inp.agent_id).manifest
        async with self._deps.sessions() as db:
            ids = await agent_outputs.due_users(
                db,
                agent_id=manifest.id,
                consents=manifest.consents,
                after=inp.after,
                limit=inp.limit,
                as_of=inp.as_of,
                # Due when the output expires before the middle of the next interval: the next
                # sweep (jittered) still finds it fresh, a sweep right after this one does not
                # recompute it.
                horizon=manifest.cadence / 2,
            )
        return DueUsersResult(user_ids=ids)

    @activity.defn(name=COMPUTE_AGENT_BATCH)
    async def compute_agent_batch(self, inp: ComputeBatchInput) -> ComputeBatchResult:
        """Compute the agent for a batch of users in one transaction, heartbeating per user."""
        agent = self._agent(inp.agent_id)
        if TODOIST_CONSENT in agent.manifest.consents:  # due users have granted it
            await self._sync_stale(inp.user_ids)
        with span("agent.compute_batch", agent_id=agent.id, users=len(inp.user_ids)) as traced:
            async with self._deps.sessions.begin() as db:
                batch = await users.active_users(db, user_ids=inp.user_ids)
                histories = await history.load_histories(db, users=batch)
                for done, user in enumerate(batch, start=1):
                    await self._compute(db, agent, user.id, histories[user.id], inp.as_of)
                    activity.heartbeat(done)
            traced.set(computed=len(batch))
        return ComputeBatchResult(computed=len(batch), skipped=len(inp.user_ids) - len(batch))

    @activity.defn(name=LIST_ELIGIBLE_AGENTS)
    async def list_eligible_agents(self, inp: EligibleAgentsInput) -> EligibleAgentsResult:
        """The agents a user has consented to, optionally narrowed to the requested ones."""
        async with self._deps.sessions() as db:
            user = await users.get_user(db, user_id=inp.user_id)
            if user is None or user.status != "active":
                raise ApplicationError("user not found", type=USER_NOT_FOUND, non_retryable=True)
            consents = await users.granted_consents(db, user_id=inp.user_id)
            providers = await integrations.active_providers(db, user_id=inp.user_id)
        for agent_id in inp.agent_ids or []:
            self._agent(agent_id)
        ids = [a.id for a in eligible(self._deps.agents, consents)]
        wanted = set(inp.agent_ids) if inp.agent_ids else set(ids)
        # A provider's history is read only while its consent stands.
        syncable = [
            p
            for p in providers
            if p == "todoist" and self._sync is not None and TODOIST_CONSENT in consents
        ]
        return EligibleAgentsResult(
            agent_ids=[a for a in ids if a in wanted], sync_providers=syncable
        )
