"""momentum: whether this person's level of getting things done has changed, and this week's pace.

The series is sittings per complete local day, from the first active day to yesterday. Two kinds
of mess come out before any statistics: a burst (five or more completions, each within three
minutes of the last: ticking off a backlog) counts as one sitting, and a run of empty days that
the surrounding rate makes improbable is time away (a vacation), not a level. The trend is one
change point: the split that best fits two Poisson levels with weekday exposure (so a weekly
rhythm is not read as a change), kept when its likelihood ratio, scaled by the observed
dispersion, pays BIC's price of 2·log(days) and the level moved by at least 15 %. The baseline
is the 28-day mean since the change (or of the last 28 clean days when there is none).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

import numpy as np

from agents.cleaning import WEEK, away_days, burst_followers, weekday_factors
from agents.frame import F64, I64, B, HistoryFrame, frame_of
from agents.registry import Prefs
from contracts.agents import AgentManifest, InferredParam, Snippet, UserHistory

Trend = Literal["up", "down", "flat"]

MIN_DAYS = 7  # clean days before a level means anything
SEGMENT_DAYS = 14  # a level needs two weeks on each side of a change, else it is an episode
WINDOW_DAYS = 28  # the rolling mean behind the baseline
CHANGE_PARAMS = 2  # a change costs two parameters under BIC: where it is and the new level
CHANGE_RATIO = 1.15  # smaller changes of level are drift, however significant
Z_NOTABLE = 2.0

MANIFEST = AgentManifest(
    id="momentum",
    version="0.1.0",
    ttl=timedelta(hours=6),
    cadence=timedelta(hours=6),
    inputs=["task_completions"],
    consents=["todoist.read"],
    min_history=0,
    inferred=[
        InferredParam(
            key="engagement_trend", cold_start_default="flat", choices=list(get_args(Trend))
        ),
        InferredParam(key="baseline_completions_per_day", cold_start_default=0.0, minimum=0.0),
        InferredParam(key="stdev", cold_start_default=0.0, minimum=0.0),
    ],
)


@dataclass(frozen=True)
class Series:
    """Complete local days in order: sittings, weekday (Monday = 0), and time away."""

    count: F64
    weekday: I64
    away: B

    def head(self, days: int) -> "Series":
        return Series(self.count[:days], self.weekday[:days], self.away[:days])


@dataclass(frozen=True)
class Level:
    """The current level (since the last change), its day-to-day spread, and the trend."""

    trend: Trend
    mean: float
    stdev: float


def series_of(frame: HistoryFrame) -> Series:
    """Sittings per complete local day from the first active day to yesterday."""
    day = frame.day
    day = day[~burst_followers(frame.t) & (day < frame.today)]
    if day.size == 0:
        return Series(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))
    first = int(day.min())
    count = np.bincount(day - first, minlength=frame.today - first).astype(np.float64)
    weekday = (first + np.arange(count.size, dtype=np.int64) + 3) % WEEK
    return Series(count, weekday, away_days(count, weekday_factors(count, weekday)[weekday]))


def _xlogx(x: F64, exposure: F64) -> F64:
    """x·log(x / exposure), 0 where x is: a Poisson segment's log-likelihood at its MLE, but for
    terms that cancel between one level and two."""
    pos = x > 0
    return np.where(pos, x * np.log(np.where(pos, x, 1.0) / np.maximum(exposure, 1e-12)), 0.0)


def change_point(count: F64, exposure: F64) -> tuple[int, float, float]:
    """The best single split of a Poisson series: its index, quasi-likelihood ratio, level ratio."""
    n = count.size
    if n < 2 * SEGMENT_DAYS:
        return 0, 0.0, 1.0
    c, w = np.cumsum(count), np.cumsum(exposure)
    k = np.arange(SEGMENT_DAYS, n - SEGMENT_DAYS + 1)
    c1, w1 = c[k - 1], w[k - 1]
    c2, w2 = c[-1] - c1, w[-1] - w1
    gain = _xlogx(c1, w1) + _xlogx(c2, w2) - _xlogx(c[-1:], w[-1:])
    best = int(np.argmax(gain))
    before, after = c1[best] / w1[best], c2[best] / w2[best]
    fitted = np.where(np.arange(n) < k[best], before, after) * exposure
    pearson = np.sum((count - fitted) ** 2 / np.maximum(fitted, 1e-9))
    # Scaled by dispersion: bursts, habits and weekly misfit make days more or less than Poisson.
    dispersion = max(float(pearson) / max(n - 2 - WEEK, 1), 0.5)
    ratio = after / before if before > 0 else math.inf
    return int(k[best]), 2.0 * float(gain[best]) / dispersion, float(ratio)


def assess(series: Series) -> Level | None:
    """The trend and the 28-day level since the last change; None below a week of clean days."""
    count, weekday = series.count[~series.away], series.weekday[~series.away]
    if count.size < MIN_DAYS:
        return None
    split, lr, ratio = change_point(count, weekday_factors(count, weekday)[weekday])
    trend: Trend = "flat"
    fold = max(ratio, 1 / ratio) if ratio > 0 else math.inf
    # BIC: a change is kept only when it pays for its parameters, 2·log(n) of likelihood ratio.
    if lr >= CHANGE_PARAMS * math.log(count.size) and fold >= CHANGE_RATIO:
        trend = "up" if ratio > 1 else "down"
        count = count[split:]
    recent = count[-WINDOW_DAYS:]
    return Level(trend=trend, mean=float(recent.mean()), stdev=float(recent.std()))


def infer(history: UserHistory, now: datetime) -> dict[str, Any]:
    """Trend, current level and spread; the cold-start defaults below a week of clean days."""
    level = assess(series_of(frame_of(history, now)))
    if level is None:
        return {p.key: p.cold_start_default for p in MANIFEST.inferred}
    return {
        "engagement_trend": level.trend,
        "baseline_completions_per_day": round(level.mean, 3),
        "stdev": round(level.stdev, 3),
    }


def _positive(value: Any, fallback: float) -> float:
    """A stored preference when it is a positive number (0.0 is the cold-start default)."""
    return float(value) if isinstance(value, int | float) and value > 0 else fallback


def compute(history: UserHistory, prefs: Prefs, now: datetime) -> Snippet | None:
    """This week against the usual level, in standard errors; None when unremarkable."""
    series = series_of(frame_of(history, now))
    if series.count.size < WEEK + MIN_DAYS or series.away[-WEEK:].any():
        return None  # too new, or away this week: time off is not a lighter week
    usual = assess(series.head(series.count.size - WEEK))
    if usual is None:
        return None
    mean = _positive(prefs.get("baseline_completions_per_day"), usual.mean)
    stdev = _positive(prefs.get("stdev"), usual.stdev)
    if mean <= 0:
        return None
    week = float(series.count[-WEEK:].mean())
    z = (week - mean) / (stdev / math.sqrt(WEEK)) if stdev > 0 else 0.0
    if abs(z) < Z_NOTABLE:
        return None
    change = round(abs(week / mean - 1) * 100)
    text = (
        f"You've finished {change}% more than usual this week."
        if z > 0
        else f"A lighter week: you've finished {change}% less than usual."
    )
    return Snippet(
        agent_id=MANIFEST.id,
        agent_version=MANIFEST.version,
        text=text,
        facts={
            "z": round(z, 2),
            "mean": round(mean, 3),
            "stdev": round(stdev, 3),
            "week_per_day": round(week, 3),
            "engagement_trend": str(prefs.get("engagement_trend", usual.trend)),
        },
        salience=round(min(1.0, abs(z) / 5.0), 3),
        expires_at=now + MANIFEST.ttl,
    )
