"""recent-patterns: the weekly and daily rhythm of the last weeks, told only when it is strong.

Weekly: sittings per complete local day over the last twelve weeks (a burst of ticking off counts
once; time away, a run of empty days the surrounding rate makes improbable, is left out), fitted
as a level per seven-day block times a factor per weekday, so that a change of engagement or a
short week does not read as a rhythm. A weekday (or the weekend) is different when its count is
far from what its blocks predict without weekday factors, in standard errors scaled by the
observed dispersion. Strength is 1 - min(mean/peak, trough/mean) of the weekday factors: 0 for a
flat week, 0.78 for weekends at a sixth of a weekday.

Daily: the strength of the three-hour-smoothed local hour profile over the recent window,
1 - mean/peak, with the peak taken at its lower bound so that chance does not make one: about
0.33 for someone spread evenly over a sixteen-hour waking day, near 1 for one habitual hour.
`daily_cycle` is a bool, True when that strength exceeds 0.5 on at least 30 completions; the
strength itself is in the facts. Hints only when a cycle's strength exceeds 0.5, weekly first.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from agents.cleaning import WEEK, burst_followers, weekday_factors
from agents.cleaning import away_days as _away_days
from agents.frame import F64, I64, B, HistoryFrame, frame_of
from agents.registry import Prefs
from contracts.agents import AgentManifest, InferredParam, Snippet, UserHistory

LOOKBACK_COMPLETIONS = 30
LOOKBACK_BOUNDS = (14, 91)  # at least two of each weekday, at most a quarter
WINDOW_DAYS = 91  # the most any window here reads
CYCLE_DAYS = 84  # twelve weeks: enough of each weekday to tell a rhythm from noise
MIN_CYCLE_DAYS = 21
DAILY_DAYS = 28
MIN_DAILY_COMPLETIONS = 30  # fewer, and there is no hour profile to speak of
CYCLE_Z = 3.0  # eight contrasts (each weekday, the weekend): about 2 % false alarms together
MIN_STRENGTH = 0.25  # a significant but slight rhythm is not a cycle worth naming
HINT_STRENGTH = 0.5
FIT_ROUNDS = 6
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

MANIFEST = AgentManifest(
    id="recent-patterns",
    version="0.1.0",
    ttl=timedelta(hours=24),
    cadence=timedelta(hours=24),
    inputs=["task_completions"],
    consents=["todoist.read"],
    min_history=0,
    inferred=[
        InferredParam(
            key="lookback_days",
            cold_start_default=28,
            minimum=LOOKBACK_BOUNDS[0],
            maximum=LOOKBACK_BOUNDS[1],
        ),
        InferredParam(key="weekly_cycle", cold_start_default=False),
        InferredParam(key="daily_cycle", cold_start_default=False),
    ],
)


@dataclass(frozen=True)
class Recent:
    """Sittings of the last complete local days: days back (1 = yesterday) and local hour."""

    today: int
    back: I64
    hour: I64


@dataclass(frozen=True)
class Weekly:
    """Weekday factors (mean 1), the most significant contrast (a weekday, or 7 for the
    weekend) and its score in standard errors, and the strength."""

    factors: F64
    contrast: int
    z: float
    strength: float

    @property
    def cycle(self) -> bool:
        return abs(self.z) >= CYCLE_Z and self.strength >= MIN_STRENGTH


@dataclass(frozen=True)
class Daily:
    """The peak local hour of the recent hour profile and its strength, 1 - mean/peak."""

    peak_hour: int
    strength: float
    completions: int

    @property
    def cycle(self) -> bool:
        return self.completions >= MIN_DAILY_COMPLETIONS and self.strength > HINT_STRENGTH


def recent_sittings(frame: HistoryFrame) -> Recent:
    """Sittings of the last 91 complete local days (a burst counts once), as days back and hours."""
    day = frame.day
    keep = (day < frame.today) & (day >= frame.today - WINDOW_DAYS)
    sitting = ~burst_followers(frame.t[keep])
    return Recent(
        today=frame.today, back=(frame.today - day[keep])[sitting], hour=frame.hour[keep][sitting]
    )


def lookback_days(recent: Recent) -> int:
    """Whole weeks back from yesterday that hold at least 30 sittings, within bounds."""
    held = np.cumsum(np.bincount(recent.back, minlength=WINDOW_DAYS + 1)[1:])
    enough = np.nonzero(held >= LOOKBACK_COMPLETIONS)[0]
    days = int(enough[0]) + 1 if enough.size else LOOKBACK_BOUNDS[1]
    return int(np.clip(math.ceil(days / WEEK) * WEEK, *LOOKBACK_BOUNDS))


def away_days(count: F64, weekday: I64) -> B:
    """Days in runs of nothing that the weekday-adjusted rate around them makes improbable."""
    return _away_days(count, weekday_factors(count, weekday)[weekday])


def daily_counts(recent: Recent, days: int) -> tuple[F64, I64]:
    """Sittings per complete local day over the last `days`, from the first active one on."""
    back = recent.back[recent.back <= days]
    if back.size == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    span = int(back.max())
    count = np.bincount(span - back, minlength=span).astype(np.float64)
    return count, (recent.today - span + np.arange(span, dtype=np.int64) + 3) % WEEK


def fit_week(c: F64, wd: I64, block: I64) -> tuple[F64, F64]:
    """Weekday factors (mean 1) and fitted counts of level-per-block x factor-per-weekday."""
    block_total = np.bincount(block, weights=c)
    factors = np.ones(WEEK)
    for _ in range(FIT_ROUNDS):  # iterative proportional fitting, the Poisson MLE
        level = block_total / np.maximum(np.bincount(block, weights=factors[wd]), 1e-9)
        exposure = np.bincount(wd, weights=level[block], minlength=WEEK)
        factors = np.bincount(wd, weights=c, minlength=WEEK) / np.maximum(exposure, 1e-9)
        factors = factors / max(float(factors[exposure > 0].mean()), 1e-9)
    level = block_total / np.maximum(np.bincount(block, weights=factors[wd]), 1e-9)
    return factors, level[block] * factors[wd]


def contrast_scores(c: F64, wd: I64, block: I64, dispersion: float) -> F64:
    """Each weekday's and the weekend's count against its blocks' means, in standard errors."""
    null = (np.bincount(block, weights=c) / np.maximum(np.bincount(block), 1))[block]
    observed = np.bincount(wd, weights=c, minlength=WEEK)
    expected = np.bincount(wd, weights=null, minlength=WEEK)
    obs = np.append(observed, observed[5:].sum())
    exp = np.append(expected, expected[5:].sum())
    # A day is part of its block's mean, so it strays by less: 1 - share of the block.
    var = dispersion * exp * (1 - np.append(np.ones(WEEK), 2) / WEEK)
    scores: F64 = np.where(var > 0, (obs - exp) / np.sqrt(np.maximum(var, 1e-12)), 0.0)
    return scores


def weekly_profile(count: F64, weekday: I64) -> Weekly:
    """Weekday factors under a level per seven-day block, and the most significant contrast."""
    clean = ~away_days(count, weekday)
    block = ((count.size - 1 - np.arange(count.size)) // WEEK)[clean]
    c, wd = count[clean], weekday[clean]
    if c.size < MIN_CYCLE_DAYS or c.sum() <= 0:
        return Weekly(factors=np.ones(WEEK), contrast=0, z=0.0, strength=0.0)
    factors, fitted = fit_week(c, wd, block)
    pearson = float(np.sum((c - fitted) ** 2 / np.maximum(fitted, 1e-9)))
    dof = max(c.size - int(block.max()) - WEEK, 1)  # days less block levels and weekday factors
    scores = contrast_scores(c, wd, block, max(pearson / dof, 0.5))
    contrast = int(np.argmax(np.abs(scores)))
    seen = factors[np.bincount(wd, minlength=WEEK) > 0]
    strength = 1 - min(1 / float(seen.max()), float(seen.min()))
    return Weekly(
        factors=factors,
        contrast=contrast,
        z=float(scores[contrast]),
        strength=float(np.clip(strength, 0.0, 1.0)),
    )


def daily_profile(recent: Recent, days: int) -> Daily:
    """The peak of the three-hour-smoothed local hour profile over the last `days`."""
    hours = recent.hour[recent.back <= days]
    counts = np.bincount(hours, minlength=24).astype(np.float64)
    smooth = counts + np.roll(counts, 1) + np.roll(counts, -1)
    peak = int(np.argmax(smooth))
    # The peak's lower bound (two Poisson standard errors): the highest of 24 windows is high by
    # chance, so that a thin history spread evenly does not read as a rhythm.
    floor = max(float(smooth[peak] - 2 * np.sqrt(smooth[peak])), float(smooth.mean()), 1e-9)
    strength = 1 - float(smooth.mean()) / floor
    return Daily(peak_hour=peak, strength=strength, completions=int(hours.size))


def infer(history: UserHistory, now: datetime) -> dict[str, Any]:
    """Lookback, weekly and daily cycles; the cold-start defaults without recent history."""
    recent = recent_sittings(frame_of(history, now))
    if recent.back.size == 0:
        return {p.key: p.cold_start_default for p in MANIFEST.inferred}
    lookback = lookback_days(recent)
    return {
        "lookback_days": lookback,
        "weekly_cycle": weekly_profile(*daily_counts(recent, CYCLE_DAYS)).cycle,
        "daily_cycle": daily_profile(recent, max(lookback, DAILY_DAYS)).cycle,
    }


def _weekly_hint(weekly: Weekly, today: int) -> tuple[str, dict[str, Any], bool]:
    """The text and facts of the most significant weekly contrast, and whether it is today's."""
    f = weekly.factors
    if weekly.contrast == WEEK:
        days, share = [5, 6], round(float(f[5:].mean()) * 100)
        text = f"Weekends are your {'busy' if weekly.z > 0 else 'quiet'} days"
        text += f": about {share}% of an average day."
    else:
        days, day = [weekly.contrast], DAY_NAMES[weekly.contrast]
        factor = float(f[days[0]])
        text = (
            f"{day}s are your strongest day: about {factor:.1f} times an average day."
            if weekly.z > 0
            else f"{day}s are your quietest day: about {round(factor * 100)}% of an average day."
        )
    facts: dict[str, Any] = {
        "cycle": "weekly",
        "days": [DAY_NAMES[d] for d in days],
        "factors": [round(float(x), 2) for x in f],
        "strength": round(weekly.strength, 3),
        "z": round(weekly.z, 2),
    }
    return text, facts, today in days


def _snippet(text: str, facts: dict[str, Any], salience: float, now: datetime) -> Snippet:
    return Snippet(
        agent_id=MANIFEST.id,
        agent_version=MANIFEST.version,
        text=text,
        facts=facts,
        salience=round(min(1.0, max(0.0, salience)), 3),
        expires_at=now + MANIFEST.ttl,
    )


def compute(history: UserHistory, prefs: Prefs, now: datetime) -> Snippet | None:
    """A weekly (else daily) rhythm hint when its strength exceeds 0.5; None otherwise."""
    recent = recent_sittings(frame_of(history, now))
    weekly = weekly_profile(*daily_counts(recent, CYCLE_DAYS))
    if prefs.get("weekly_cycle", weekly.cycle) and weekly.strength > HINT_STRENGTH:
        today = (recent.today + 3) % WEEK
        text, facts, about_today = _weekly_hint(weekly, today)
        # Most useful on the day itself; otherwise a standing observation.
        return _snippet(text, facts, weekly.strength * (1.0 if about_today else 0.5), now)
    lookback = int(prefs.get("lookback_days") or lookback_days(recent))
    daily = daily_profile(recent, max(lookback, DAILY_DAYS))
    enough = daily.completions >= MIN_DAILY_COMPLETIONS
    if prefs.get("daily_cycle", daily.cycle) and enough and daily.strength > HINT_STRENGTH:
        facts = {
            "cycle": "daily",
            "peak_hour": daily.peak_hour,
            "strength": round(daily.strength, 3),
            "lookback_days": max(lookback, DAILY_DAYS),
        }
        text = f"Lately most of your work lands around {daily.peak_hour:02d}:00."
        # time-of-day owns the hour; this is the recent echo of it, so it speaks softly.
        return _snippet(text, facts, 0.5 * daily.strength, now)
    return None
