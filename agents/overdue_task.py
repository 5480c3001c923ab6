"""overdue-task: the one overdue open task that matters, judged by how late this person runs."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from agents.clustering import fence
from agents.frame import DAY_S, F64, HistoryFrame, frame_of, utc_offsets
from agents.registry import Prefs
from contracts.agents import ActiveTask, AgentManifest, InferredParam, Snippet, UserHistory

DEFAULT_TOLERANCE = 1.0
MAX_TOLERANCE = 30.0
# A project is real when at least this share of its dated completions is done by the due day
# (its median lateness is at most 0). Comparing a project's median with the person's global
# median (the first cut) fails whenever slipping projects dominate: the global median then sits
# days late and slipping projects "beat" it; a fixed bar does not move with the mix.
REAL_SHARE = 0.5
STALE_DAYS = 28  # overdue this long (beyond tolerance) the task is abandoned, not pending

MANIFEST = AgentManifest(
    id="overdue-task",
    version="0.1.0",
    ttl=timedelta(hours=1),
    cadence=timedelta(hours=1),
    inputs=["task_completions", "active_tasks"],
    consents=["todoist.read"],
    min_history=0,
    inferred=[
        InferredParam(
            key="lateness_tolerance_days",
            cold_start_default=DEFAULT_TOLERANCE,
            minimum=0.0,
            maximum=MAX_TOLERANCE,
        ),
        InferredParam(key="project_realness", cold_start_default={}),
    ],
)


def tolerance(frame: HistoryFrame) -> float:
    """Median lateness in local days of completions that had a due date, within [0, 30].

    Finishing early tolerates no lateness (so never below 0); past a month, due dates are
    wishes rather than deadlines and the number stops meaning anything.
    """
    late = frame.lateness_days
    late = late[~np.isnan(late)]
    if not late.size:
        return DEFAULT_TOLERANCE
    return float(np.clip(np.median(late), 0.0, MAX_TOLERANCE))


def realness(frame: HistoryFrame) -> dict[str, bool]:
    """Per project seen: real when most of its dated completions are done by the due day.

    One pseudo-observation, split evenly, keeps a project with no dated completions real (the
    benefit of the doubt) and lets a single observation decide only when there is nothing else.
    """
    late = frame.lateness_days
    dated = ~np.isnan(late) & (frame.project >= 0)
    n_projects = len(frame.project_keys)
    total = np.bincount(frame.project[dated], minlength=n_projects)
    on_time = np.bincount(frame.project[dated & (late <= 0)], minlength=n_projects)
    share = (on_time + 0.5) / (total + 1.0)
    return {k: bool(s >= REAL_SHARE) for k, s in zip(frame.project_keys, share, strict=True)}


def infer(history: UserHistory, now: datetime) -> dict[str, Any]:
    """lateness_tolerance_days and project_realness from completed tasks."""
    frame = frame_of(history, now)
    return {"lateness_tolerance_days": tolerance(frame), "project_realness": realness(frame)}


def days_overdue(tasks: list[ActiveTask], frame: HistoryFrame) -> F64:
    """Whole local days since each task's due day (NaN when undated); 0 means due today."""
    due = np.array([t.due_at.timestamp() if t.due_at else np.nan for t in tasks], dtype=float)
    out = np.full(due.size, np.nan)
    dated = ~np.isnan(due)
    if dated.any():
        local = due[dated] + utc_offsets(frame.tz, due[dated])
        out[dated] = frame.today - np.floor(local / DAY_S)
    return out


def pick(tasks: list[ActiveTask], overdue: F64, tol: float, real: Mapping[str, bool]) -> int | None:
    """Beyond tolerance, not stale, in a real project; then by priority, days late and key."""
    best: tuple[int, float, str] | None = None
    chosen = None
    for i, task in enumerate(tasks):
        days = float(overdue[i])
        if np.isnan(days) or days < 1 or days <= tol or days > tol + STALE_DAYS:
            continue
        if task.project_key is not None and not real.get(task.project_key, True):
            continue
        rank = (-task.priority, -days, task.task_key)
        if best is None or rank < best:
            best, chosen = rank, i
    return chosen


def salience(days: float, tol: float, priority: int) -> float:
    """Grows with days beyond tolerance (a week saturates) and with priority."""
    beyond = min(1.0, (days - tol) / 7.0)
    return round(min(1.0, 0.3 + 0.35 * beyond + 0.35 * (priority - 1) / 3), 3)


def compute(history: UserHistory, prefs: Prefs, now: datetime) -> Snippet | None:
    """A todo snippet about the one overdue task that matters, or None."""
    tasks = history.active_tasks
    if not tasks:
        return None
    frame = frame_of(history, now)
    tol_pref = prefs.get("lateness_tolerance_days")
    tol = float(tol_pref) if isinstance(tol_pref, int | float) else tolerance(frame)
    real_pref = prefs.get("project_realness")
    real = real_pref if isinstance(real_pref, Mapping) else realness(frame)
    overdue = days_overdue(tasks, frame)
    i = pick(tasks, overdue, tol, real)
    if i is None:
        return None
    task, days = tasks[i], int(overdue[i])
    return Snippet(
        agent_id=MANIFEST.id,
        agent_version=MANIFEST.version,
        text=f"Overdue {days} day{'s' if days != 1 else ''}: {fence(task.content)}",
        kind="todo",
        facts={
            "task_key": task.task_key,
            "days_overdue": days,
            "project_real": bool(real.get(task.project_key, True)) if task.project_key else True,
            "priority": task.priority,
            "tolerance_days": tol,
        },
        salience=salience(days, tol, task.priority),
        expires_at=now + MANIFEST.ttl,
    )
