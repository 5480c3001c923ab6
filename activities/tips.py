"""Tip activities: what a tip is made from, composing it, storing it."""

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deps import ActivityDeps
from agents.composer import compose
from agents.registry import eligible
from contracts.errors import USER_NOT_FOUND
from contracts.temporal import COMPOSE_TIP, LOAD_TIP_CONTEXT, STORE_TIP
from contracts.tips import (
    ComposeTipInput,
    StoreTipInput,
    TipContext,
    TipContextInput,
    TipDraft,
    TipRead,
)
from store import agent_outputs, tips, users


class TipActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._deps = deps

    @activity.defn(name=LOAD_TIP_CONTEXT)
    async def load_tip_context(self, inp: TipContextInput) -> TipContext:
        """The user's eligible agents, their fresh snippets, and which need recomputing."""
        async with self._deps.sessions() as db:
            user = await users.get_user(db, user_id=inp.user_id)
            if user is None or user.status != "active":
                raise ApplicationError("user not found", type=USER_NOT_FOUND, non_retryable=True)
            consents = await users.granted_consents(db, user_id=inp.user_id)
            agent_ids = [a.id for a in eligible(self._deps.agents, consents)]
            fresh = await agent_outputs.fresh_outputs(
                db, user_id=inp.user_id, agent_ids=agent_ids, now=inp.as_of
            )
        return TipContext(
            user_id=inp.user_id,
            agent_ids=agent_ids,
            snippets=[s for s in fresh.values() if s is not None],
            stale_agent_ids=[a for a in agent_ids if a not in fresh],
        )

    @activity.defn(name=COMPOSE_TIP)
    async def compose_tip(self, inp: ComposeTipInput) -> TipDraft:
        """The deterministic composer's tip from the snippets."""
        return compose(inp.snippets, inp.as_of)

    @activity.defn(name=STORE_TIP)
    async def store_tip(self, inp: StoreTipInput) -> TipRead:
        """Store the tip once per workflow run."""
        async with self._deps.sessions.begin() as db:
            return await tips.store_tip(
                db,
                user_id=inp.user_id,
                draft=inp.draft,
                run_id=inp.run_id,
                now=inp.as_of,
                ttl=self._deps.tip_ttl,
            )
