"""time-of-day: when this person gets things done, when they rest, and whether now is that time.

Hours are local and DST-correct (agents/frame.py). Before counting, three kinds of mess are
neutralised: a burst of ticking off counts about as one completion, days spent in another zone
(whose hours fit the person's profile only once shifted) are set aside, and recurring habits are
kept apart from one-off work, because a habit is punctual while one-off work spreads over hours.
"""

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from agents.frame import F64, HOUR_S, I64, B, HistoryFrame, frame_of, zone
from agents.registry import Prefs
from contracts.agents import AgentManifest, InferredParam, Snippet, UserHistory

MIN_COMPLETIONS = 10  # fewer counted completions and no hour is worth naming
MIN_FOR_QUIET = 40  # below this the quiet window is noisier than the cold-start one
PEAK_COUNT = 6  # the top quartile of the day's hours
BURST_WINDOW_S = 300.0
BURST_MIN = 4  # two or three tasks in a row are ordinary; four within ±5 min are a burst
# An hour is quiet when it runs below this share of the typical hour: waking hours at their
# lowest run at about half of it, sleeping hours near zero.
QUIET_FRACTION = 0.35
TRAVEL_GAIN = 4.0  # nats a shift must win over a day and its neighbours to count as travel
TRAVEL_POOL_DAYS = 1  # a trip lasts days: each day borrows evidence from this many each side
TRAVEL_MAX_SHARE = 0.25  # more shifted days than this is a move, not a trip
PRIOR = 0.5  # pseudo-completions per hour, so an empty hour is unlikely rather than impossible


@dataclass(frozen=True)
class Hours:
    """A person's hours: the best one, the top quartile and the quiet window [start, end)."""

    preferred_hour: int
    peak_hours: list[int]
    quiet_start: int
    quiet_end: int

    def is_quiet(self, hour: int) -> bool:
        """Whether an hour falls in the quiet window, which may wrap midnight."""
        return (hour - self.quiet_start) % 24 < (self.quiet_end - self.quiet_start) % 24

    def hours_ahead(self, hour: int) -> int:
        """Hours from `hour` until the preferred hour starts (0: it is that hour)."""
        return (self.preferred_hour - hour) % 24


# Cold start: a nine-to-five day with a lunch break between its two working blocks, asleep 23-07.
COLD_HOURS = Hours(
    preferred_hour=9, peak_hours=[9, 10, 11, 14, 15, 16], quiet_start=23, quiet_end=7
)
COLD_TZ = "UTC"

MANIFEST = AgentManifest(
    id="time-of-day",
    version="0.2.0",
    ttl=timedelta(hours=1),
    cadence=timedelta(hours=1),
    inputs=["task_completions"],
    consents=["todoist.read"],
    min_history=0,
    inferred=[
        *(
            InferredParam(key=k, cold_start_default=v, minimum=0, maximum=23)
            for k, v in asdict(COLD_HOURS).items()
        ),
        InferredParam(key="tz", cold_start_default=COLD_TZ),
    ],
)

_HOURS = np.arange(24)
_SHIFTS = (_HOURS[:, None] - _HOURS[None, :]) % 24  # [h, s]: the hour h reads as, shifted by s
_STARTS, _LENGTHS = np.meshgrid(_HOURS, np.arange(1, 24), indexing="ij")


@dataclass(frozen=True)
class HourCounts:
    """Cleaned completions per local hour, one-off work and recurring habits apart."""

    one_off: F64
    habit: F64

    @property
    def total(self) -> float:
        return float(self.one_off.sum() + self.habit.sum())

    @property
    def both(self) -> F64:
        return self.one_off + self.habit


def burst_weights(t: F64) -> F64:
    """A weight per completion (in time order) so that a burst of ticking off counts as one."""
    near = np.searchsorted(t, t + BURST_WINDOW_S, "right") - np.searchsorted(
        t, t - BURST_WINDOW_S, "left"
    )
    return np.where(near >= BURST_MIN, 1.0 / near, 1.0)


def _active_day_index(day: I64) -> I64:
    """Rank of each completion's local day among the days with any (days arrive in order)."""
    new = np.ones(day.size, dtype=bool)
    new[1:] = day[1:] != day[:-1]
    return np.cumsum(new) - 1


def _pooled(rows: F64, radius: int) -> F64:
    """Each row summed with its `radius` neighbours on each side."""
    sums = np.concatenate([np.zeros((1, rows.shape[1])), np.cumsum(rows, axis=0)])
    idx = np.arange(rows.shape[0])
    pooled: F64 = sums[np.minimum(idx + radius + 1, idx.size)] - sums[np.maximum(idx - radius, 0)]
    return pooled


def travel_days(days: F64) -> B:
    """Active days (rows of per-hour counts) whose hours fit the profile better once shifted."""
    counts = days.sum(axis=0)
    log_p = np.log((counts + PRIOR) / (counts.sum() + 24 * PRIOR))
    # fit[day, s]: log-likelihood of the day shifted back by s hours. einsum rather than a BLAS
    # product: BLAS threads for a matrix this thin cost more than the arithmetic on a busy host.
    fit = np.einsum("dh,hs->ds", days, log_p[_SHIFTS])
    pooled = _pooled(fit, TRAVEL_POOL_DAYS)
    shifted: B = (pooled.max(axis=1) - pooled[:, 0] > TRAVEL_GAIN) & (fit.max(axis=1) > fit[:, 0])
    if shifted.sum() > TRAVEL_MAX_SHARE * days.shape[0]:
        return np.zeros_like(shifted)
    return shifted


def _counts(index: I64, weight: F64, size: int) -> F64:
    counts: F64 = np.bincount(index, weight, minlength=size).astype(np.float64, copy=False)
    return counts


def hour_counts(frame: HistoryFrame) -> HourCounts:
    """Completions per local hour: bursts counted about once, travel days set aside."""
    if frame.size == 0:
        return HourCounts(one_off=np.zeros(24), habit=np.zeros(24))
    hour = frame.hour
    weight = burst_weights(frame.t)
    day = _active_day_index(frame.day)
    days = _counts(day * 24 + hour, weight, (int(day[-1]) + 1) * 24)
    weight = np.where(travel_days(days.reshape(-1, 24))[day], 0.0, weight)
    one_off = _counts(hour, np.where(frame.recurring, 0.0, weight), 24)
    habit = _counts(hour, np.where(frame.recurring, weight, 0.0), 24)
    return HourCounts(one_off=one_off, habit=habit)


def expected_by_hour(counts: HourCounts) -> F64:
    """Completions per hour with one-off work smoothed over its neighbours; habits as counted."""
    one = counts.one_off
    return 0.5 * one + 0.25 * (np.roll(one, 1) + np.roll(one, -1)) + counts.habit


def preferred_hour(expected: F64) -> int:
    """The hour with the most completions expected."""
    return int(np.argmax(expected))


def peak_hours(expected: F64) -> list[int]:
    """The top-quartile hours, in clock order."""
    return sorted(int(h) for h in np.argsort(-expected, kind="stable")[:PEAK_COUNT])


def quiet_window(counts: F64) -> tuple[int, int]:
    """[start, end) of the hours reliably without activity, wrapping midnight; start == end: none.

    The window is the run of hours with the largest total shortfall below the quiet threshold,
    so a quiet hour with a few stray completions does not split it and a slow waking hour next
    to it, well above the threshold, does not join it.
    """
    # The median hour, unless most hours are empty (a person who only works at set times).
    level = max(float(np.median(counts)), 0.5 * float(counts.mean()))
    shortfall = np.tile(QUIET_FRACTION * level - counts, 2)
    sums = np.concatenate([[0.0], np.cumsum(shortfall)])
    totals = sums[_STARTS + _LENGTHS] - sums[_STARTS]
    best = np.unravel_index(int(np.argmax(totals)), totals.shape)
    if totals[best] <= 0:
        return 0, 0
    start, length = int(_STARTS[best]), int(_LENGTHS[best])
    return start, (start + length) % 24


def inferred_hours(counts: HourCounts) -> Hours:
    """Hours from cleaned counts; each part stays at its cold start while the counts are thin."""
    hours = COLD_HOURS
    if counts.total >= MIN_COMPLETIONS:
        expected = expected_by_hour(counts)
        hours = replace(
            hours, preferred_hour=preferred_hour(expected), peak_hours=peak_hours(expected)
        )
    if counts.total >= MIN_FOR_QUIET:
        start, end = quiet_window(counts.both)
        hours = replace(hours, quiet_start=start, quiet_end=end)
    return hours


def infer(history: UserHistory, now: datetime) -> dict[str, Any]:
    """The person's hours and zone; cold-start defaults where the history is too thin."""
    hours = inferred_hours(hour_counts(frame_of(history, now)))
    # The zone is the identity provider's, normalised as the frame reads it (unknown -> UTC).
    return asdict(hours) | {"tz": zone(history.tz).key}


def _hour(value: Any, fallback: int) -> int:
    try:
        return int(value) % 24
    except (TypeError, ValueError, OverflowError):
        return fallback


def with_prefs(hours: Hours, prefs: Prefs) -> Hours:
    """Hours overridden by the preferences that are present and readable."""
    peaks = prefs.get("peak_hours")
    readable = sorted({_hour(h, -1) for h in peaks} - {-1}) if isinstance(peaks, list) else []
    return Hours(
        preferred_hour=_hour(prefs.get("preferred_hour"), hours.preferred_hour),
        peak_hours=readable or hours.peak_hours,
        quiet_start=_hour(prefs.get("quiet_start"), hours.quiet_start),
        quiet_end=_hour(prefs.get("quiet_end"), hours.quiet_end),
    )


def salience(hours: Hours, hour: int) -> float:
    """Highest just before the best hour, lower around peak hours, zero in quiet hours."""
    ahead = hours.hours_ahead(hour)
    if hours.is_quiet(hour):
        return 0.0
    if 1 <= ahead <= 3:
        return round(1.0 - 0.15 * (ahead - 1), 3)
    if ahead == 0:
        return 0.8
    if (hour + 1) % 24 in hours.peak_hours:
        return 0.6
    return 0.5 if hour in hours.peak_hours else 0.2


def message(hours: Hours, hour: int) -> str:
    """What to tell the person at this local hour."""
    best, ahead = hours.preferred_hour, hours.hours_ahead(hour)
    if hours.is_quiet(hour):
        return f"These are your quiet hours until {hours.quiet_end:02d}:00. Nothing is urgent."
    if ahead == 0:
        return f"This is your best hour: you finish the most around {best:02d}:00."
    if ahead <= 3:
        return f"Your best hour, {best:02d}:00, is {ahead} h away. Line up what matters."
    if hour in hours.peak_hours:
        return "This is one of your productive hours: a good time for a real task."
    return f"Your best hour is {best:02d}:00. Save something that matters for it."


def compute(history: UserHistory, prefs: Prefs, now: datetime) -> Snippet | None:
    """A snippet about the hour coming up, most salient just before the person's best hour."""
    frame = frame_of(history, now)
    counts = hour_counts(frame)
    if counts.total < MIN_COMPLETIONS:
        return None
    hours = with_prefs(inferred_hours(counts), prefs)
    hour = int(frame.now_local // HOUR_S) % 24
    return Snippet(
        agent_id=MANIFEST.id,
        agent_version=MANIFEST.version,
        text=message(hours, hour),
        facts={
            **asdict(hours),
            "local_hour": hour,
            "hours_ahead": hours.hours_ahead(hour),
            "in_quiet_hours": hours.is_quiet(hour),
            "share_at_hour": round(float(counts.both[hours.preferred_hour]) / counts.total, 3),
            "completions_counted": round(counts.total, 1),
        },
        salience=salience(hours, hour),
        expires_at=now + MANIFEST.ttl,
    )
