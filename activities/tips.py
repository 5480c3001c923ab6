"""Tip activities: what a tip decision needs, composing a tip, storing the decision."""

from datetime import datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deps import ActivityDeps
from agents.composer import compose
from agents.frame import zone
from agents.registry import eligible
from contracts.errors import USER_NOT_FOUND
from contracts.temporal import COMPOSE_TIP, LOAD_TIP_CONTEXT, STORE_TIP
from contracts.tips import (
    ComposeTipInput,
    StoreTipInput,
    TipContext,
    TipContextInput,
    TipDraft,
    TipOutcome,
)
from core.tracing import span
from store import agent_outputs, tips, users

# Quiet hours and the best hour are the time-of-day agent's inferences (or the user's edits).
TIMING_SCOPE = "time-of-day"


def in_window(hour: int, start: int, end: int) -> bool:
    """Whether a local hour falls in [start, end) on the clock (the window may wrap midnight)."""
    return start != end and (hour - start) % 24 < (end - start) % 24


def next_local_hour(local_now: datetime, hour: int) -> datetime:
    """The next time the local clock shows `hour`:00 (tomorrow if it has passed)."""
    candidate = local_now.replace(hour=hour % 24, minute=0, second=0, microsecond=0)
    return candidate if candidate > local_now else candidate + timedelta(days=1)


def timing(prefs: dict[str, Any], local_now: datetime) -> tuple[bool, datetime]:
    """Whether it is quiet now, and when the next tip is worth offering."""
    start, end = prefs.get("quiet_start"), prefs.get("quiet_end")
    quiet = (
        isinstance(start, int) and isinstance(end, int) and in_window(local_now.hour, start, end)
    )
    if quiet:
        return True, next_local_hour(local_now, int(end))  # type: ignore[arg-type]
    preferred = prefs.get("preferred_hour")
    if isinstance(preferred, int):
        return False, next_local_hour(local_now, preferred)
    return False, local_now + timedelta(hours=1)


class TipActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._deps = deps

    @activity.defn(name=LOAD_TIP_CONTEXT)
    async def load_tip_context(self, inp: TipContextInput) -> TipContext:
        """Eligible agents, fresh snippets, stale agents, today's budget and the local clock."""
        async with self._deps.sessions() as db:
            user = await users.get_user(db, user_id=inp.user_id)
            if user is None or user.status != "active":
                raise ApplicationError("user not found", type=USER_NOT_FOUND, non_retryable=True)
            consents = await users.granted_consents(db, user_id=inp.user_id)
            agent_ids = [a.id for a in eligible(self._deps.agents, consents)]
            fresh = await agent_outputs.fresh_outputs(
                db, user_id=inp.user_id, agent_ids=agent_ids, now=inp.as_of
            )
            prefs = await users.preferences(db, user_id=inp.user_id, scope=TIMING_SCOPE)
            local_now = inp.as_of.astimezone(zone(user.tz))
            midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
            today = await tips.count_tips_since(db, user_id=inp.user_id, since=midnight)
        quiet, next_at = timing(prefs, local_now)
        llm = self._deps.llm
        return TipContext(
            user_id=inp.user_id,
            agent_ids=agent_ids,
            snippets=[s for s in fresh.values() if s is not None],
            stale_agent_ids=[a for a in agent_ids if a not in fresh],
            local_time=f"{local_now:%a %H:%M}",
            quiet_now=quiet,
            tips_left_today=self._deps.tip_daily_budget - today,
            llm_enabled=llm.url is not None,
            llm_budget_ms=int(llm.timeout_s * 1000),
            next_tip_at=next_at,
        )

    @activity.defn(name=COMPOSE_TIP)
    async def compose_tip(self, inp: ComposeTipInput) -> TipDraft:
        """The deterministic composer's tip from the snippets."""
        return compose(inp.snippets, inp.as_of)

    @activity.defn(name=STORE_TIP)
    async def store_tip(self, inp: StoreTipInput) -> TipOutcome:
        """Store the decision, and its tip if there is one, once per workflow run."""
        draft = inp.draft
        with span(
            "tip.store",
            user_id=inp.user_id,
            status=inp.status,
            reason=inp.reason,
            generator=draft.generator if draft else None,
            agent_ids=draft.agent_ids if draft else None,
            candidates=len(inp.candidates),
        ):
            async with self._deps.sessions.begin() as db:
                return await tips.store_outcome(db, inp=inp, ttl=self._deps.tip_ttl)
