"""A columnar, cleaned view of a history, shared by every agent.

Built once per (history, now) and cached on the history object: the agents of a sweep all read
the same arrays. Cleaning is done here, once: events stamped after `now` or before 2000 are
dropped, exact duplicates (same task key and instant) are dropped, and local time is computed
with the person's zone rules (DST-correct) by a vectorised lookup of the zone's transitions.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from contracts.agents import UserHistory

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

DAY_S = 86_400.0
HOUR_S = 3_600.0
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
_SAMPLE_S = 7 * DAY_S  # zone offsets change at most a few times a year


def zone(tz: str) -> ZoneInfo:
    """The person's zone; an unknown name falls back to UTC rather than failing an agent."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _offset(z: ZoneInfo, t: float) -> float:
    off = datetime.fromtimestamp(t, UTC).astimezone(z).utcoffset()
    return off.total_seconds() if off is not None else 0.0


@lru_cache(maxsize=4096)
def _transitions(tz: str, first_week: int, last_week: int) -> tuple[F64, F64]:
    """Instants where the zone's offset changes in the range, and the offset from each on."""
    z = zone(tz)
    samples = np.arange(first_week, last_week + 2) * _SAMPLE_S
    offsets = np.array([_offset(z, float(t)) for t in samples])
    starts, values = [samples[0]], [offsets[0]]
    for i in np.nonzero(np.diff(offsets))[0]:
        lo, hi = float(samples[i]), float(samples[i + 1])
        while hi - lo > 1.0:  # bisect to the second of the change
            mid = (lo + hi) / 2
            if _offset(z, mid) == offsets[i]:
                lo = mid
            else:
                hi = mid
        starts.append(np.ceil(hi))
        values.append(offsets[i + 1])
    return np.asarray(starts, dtype=np.float64), np.asarray(values, dtype=np.float64)


def utc_offsets(tz: str, t: F64) -> F64:
    """The zone's UTC offset in seconds at each instant of `t` (epoch seconds)."""
    if t.size == 0:
        return np.zeros(0)
    starts, values = _transitions(tz, int(t.min() // _SAMPLE_S), int(t.max() // _SAMPLE_S))
    return values[np.clip(np.searchsorted(starts, t, side="right") - 1, 0, None)]


@dataclass(frozen=True)
class HistoryFrame:
    """Completions as arrays, in time order. Local times are seconds since the local epoch."""

    tz: str
    now: float
    now_local: float
    t: F64  # UTC epoch seconds
    local: F64  # local wall-clock epoch seconds
    task: I64  # task key codes
    project: I64  # index into project_keys, -1 when none
    project_keys: list[str]  # sorted; may include projects whose events were all dropped
    due_local: F64  # local due (start of the due day when all-day), NaN when none
    due_all_day: B
    priority: I64
    recurring: B

    @property
    def size(self) -> int:
        return int(self.t.size)

    @property
    def hour(self) -> I64:
        return (self.local // HOUR_S).astype(np.int64) % 24

    @property
    def day(self) -> I64:
        """Local calendar day number (days since 1970-01-01)."""
        return (self.local // DAY_S).astype(np.int64)

    @property
    def weekday(self) -> I64:
        """Local weekday, Monday = 0 (1970-01-01 was a Thursday)."""
        return (self.day + 3) % 7

    @property
    def today(self) -> int:
        return int(self.now_local // DAY_S)

    @property
    def lateness_days(self) -> F64:
        """Local days between the due day and the completion day; NaN without a due date."""
        due_day = np.floor(self.due_local / DAY_S)
        return self.day.astype(np.float64) - due_day


def _columns(history: UserHistory) -> tuple[F64, I64, I64, list[str], F64, B, I64, B]:
    """One pass over the completion objects (the only per-object Python work)."""
    tasks: dict[str, int] = {}
    projects: dict[str | None, int] = {None: -1}
    rows = [
        (
            c.completed_at.timestamp(),
            tasks.setdefault(c.task_key, len(tasks)),
            projects.setdefault(c.project_key, len(projects) - 1),
            c.due_at.timestamp() if c.due_at is not None else np.nan,
            c.due_all_day,
            c.priority,
            c.recurring,
        )
        for c in history.completions
    ]
    cols = list(zip(*rows, strict=True)) if rows else [()] * 7
    # Project codes index the sorted keys, so that codes and ties are stable across histories.
    keys = sorted(k for k in projects if k is not None)
    recode = np.full(len(projects), -1, dtype=np.int64)
    for code, k in enumerate(keys):
        recode[projects[k] + 1] = code
    return (
        np.asarray(cols[0], dtype=np.float64),
        np.asarray(cols[1], dtype=np.int64),
        recode[np.asarray(cols[2], dtype=np.int64) + 1],
        keys,
        np.asarray(cols[3], dtype=np.float64),
        np.asarray(cols[4], dtype=bool),
        np.asarray(cols[5], dtype=np.int64),
        np.asarray(cols[6], dtype=bool),
    )


def _clean(t: F64, task: I64, now_s: float) -> I64:
    """Indices of the events to keep, in time order: past, not ancient, no exact duplicate."""
    idx = np.nonzero((t <= now_s) & (t >= EARLIEST))[0]
    idx = idx[np.lexsort((task[idx], t[idx]))]
    if idx.size > 1:
        same = (t[idx][1:] == t[idx][:-1]) & (task[idx][1:] == task[idx][:-1])
        idx = idx[np.concatenate([[True], ~same])]
    return idx


def build_frame(history: UserHistory, now: datetime) -> HistoryFrame:
    """Clean and vectorise a history as of `now`."""
    t, task, project, project_keys, due_t, all_day, priority, recurring = _columns(history)
    now_s = now.timestamp()
    idx = _clean(t, task, now_s)
    t_sel, due_sel = t[idx], due_t[idx]
    has_due = ~np.isnan(due_sel)
    due_local = np.full(due_sel.size, np.nan)
    if has_due.any():
        due_local[has_due] = due_sel[has_due] + utc_offsets(history.tz, due_sel[has_due])
    now_local = now_s + float(utc_offsets(history.tz, np.array([now_s]))[0])
    return HistoryFrame(
        tz=history.tz,
        now=now_s,
        now_local=now_local,
        t=t_sel,
        local=t_sel + utc_offsets(history.tz, t_sel),
        task=task[idx],
        project=project[idx],
        project_keys=project_keys,
        due_local=due_local,
        due_all_day=all_day[idx],
        priority=priority[idx],
        recurring=recurring[idx],
    )


def frame_of(history: UserHistory, now: datetime) -> HistoryFrame:
    """The frame of a history as of `now`, built once and cached on the history object."""
    cached = history.__pydantic_private__.get("_frame") if history.__pydantic_private__ else None
    if cached is not None and cached.now == now.timestamp():
        return cached  # type: ignore[no-any-return]
    frame = build_frame(history, now)
    if history.__pydantic_private__ is not None:
        history.__pydantic_private__["_frame"] = frame
    return frame


def local_datetime(frame: HistoryFrame, local_seconds: float) -> datetime:
    """A local wall-clock instant as a naive datetime (for display)."""
    return datetime(1970, 1, 1) + timedelta(seconds=local_seconds)
