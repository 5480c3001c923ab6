"""Tip activities: what a tip decision needs, composing a tip, storing the decision."""

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deps import ActivityDeps
from agents.composer import compose
from agents.frame import zone
from agents.registry import eligible
from contracts.agents import FeedbackEvent, FeedbackKind
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
from store import agent_outputs, contexts, feedback, tips, users

# Quiet hours and the best hour are the time-of-day agent's inferences (or the user's edits).
TIMING_SCOPE = "time-of-day"
# While a person is away, nothing proactive reaches them (like quiet hours).
AWAY = "away"
# How long a dismissed tip's agents stay out of later tips. `done` is not timed: its agents
# are back once they have recomputed after the reaction.
MUTED_FOR: dict[FeedbackKind, timedelta] = {
    "not_now": timedelta(hours=3),
    "not_for_me": timedelta(days=14),
}
# Reactions older than the longest mute no longer matter (outputs are recomputed far sooner).
FEEDBACK_HORIZON = max(MUTED_FOR.values())


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


def muted_agents(
    events: Iterable[FeedbackEvent], computed_at: dict[str, datetime], now: datetime
) -> set[str]:
    """Agents whose snippets a tip decision leaves out after dismissing reactions.

    `computed_at` holds when each unexpired output was computed: after `done`, an agent is
    left out only while its output predates the reaction (an expired one is recomputed).
    """
    muted: set[str] = set()
    for event in events:
        window = MUTED_FOR.get(event.kind)
        if window is not None and now < event.at + window:
            muted.update(event.agent_ids)
        elif event.kind == "done":
            muted.update(
                a for a in event.agent_ids if a in computed_at and computed_at[a] <= event.at
            )
    return muted


async def _muted(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    agent_ids: list[str],
    computed: dict[str, datetime],
    now: datetime,
) -> set[str]:
    """The eligible agents that recent dismissing reactions leave out (`computed`: when each
    fresh output was computed)."""
    events = await feedback.dismissals_since(db, user_id=user_id, since=now - FEEDBACK_HORIZON)
    if not events:
        return set()
    return muted_agents(events, computed, now) & set(agent_ids)


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
            computed = {a: out.computed_at for a, out in fresh.items()}
            muted = await _muted(
                db, user_id=user.id, agent_ids=agent_ids, computed=computed, now=inp.as_of
            )
            prefs = await users.preferences(db, user_id=inp.user_id, scope=TIMING_SCOPE)
            away = await contexts.active_context(db, user_id=user.id, kind=AWAY, at=inp.as_of)
            local_now = inp.as_of.astimezone(zone(user.tz))
            midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
            today = await tips.count_tips_since(db, user_id=inp.user_id, since=midnight)
        next_at: datetime | None
        quiet, next_at = timing(prefs, local_now)
        if away is not None:  # back when the away window ends (an open one: unknown)
            quiet, next_at = True, away.ends_at
        llm = self._deps.llm
        return TipContext(
            user_id=inp.user_id,
            agent_ids=agent_ids,
            snippets=[
                out.snippet
                for a, out in fresh.items()
                if out.snippet is not None and a not in muted
            ],
            stale_agent_ids=[a for a in agent_ids if a not in fresh and a not in muted],
            local_time=f"{local_now:%a %H:%M}",
            quiet_now=quiet,
            tips_left_today=self._deps.tip_daily_budget - today,
            llm_enabled=llm.url is not None,
            llm_budget_ms=int(llm.timeout_s * 1000),
            next_tip_at=next_at,
            muted_agent_ids=sorted(muted),
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
