"""time-of-day: when this person gets things done, and whether now is that time."""

from datetime import datetime, timedelta
from typing import Any

import numpy as np

from agents.frame import HOUR_S, HistoryFrame, frame_of
from agents.registry import Prefs
from contracts.agents import AgentManifest, InferredParam, Snippet, UserHistory

MIN_COMPLETIONS = 10

MANIFEST = AgentManifest(
    id="time-of-day",
    version="0.1.0",
    ttl=timedelta(hours=1),
    cadence=timedelta(hours=1),
    inputs=["task_completions"],
    consents=["todoist.read"],
    min_history=0,
    inferred=[
        InferredParam(key="preferred_hour", cold_start_default=9),
        InferredParam(key="tz", cold_start_default="UTC"),
    ],
)

# A circular smoothing kernel: a peak split across two adjacent hours still wins.
_KERNEL = np.array([0.25, 0.5, 0.25])


def hour_histogram(frame: HistoryFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Completions per local hour of day, smoothed around the clock."""
    counts = np.bincount(frame.hour, minlength=24).astype(np.float64)
    padded = np.concatenate([counts[-1:], counts, counts[:1]])
    return np.convolve(padded, _KERNEL, mode="valid")


def infer(history: UserHistory, now: datetime) -> dict[str, Any]:
    """preferred_hour from history; below the minimum the cold-start default."""
    frame = frame_of(history, now)
    if frame.size < MIN_COMPLETIONS:
        return {p.key: p.cold_start_default for p in MANIFEST.inferred}
    return {"preferred_hour": int(np.argmax(hour_histogram(frame))), "tz": history.tz}


def compute(history: UserHistory, prefs: Prefs, now: datetime) -> Snippet | None:
    """A snippet about the person's best hour, most salient just before it."""
    frame = frame_of(history, now)
    hist = hour_histogram(frame)
    total = float(hist.sum())
    if total < MIN_COMPLETIONS:
        return None
    preferred = int(prefs.get("preferred_hour", np.argmax(hist)))
    share = float(hist[preferred] / total)
    local_hour = int(frame.now_local // HOUR_S) % 24
    # Hours until the preferred hour starts, around the clock (0 means "it is that hour now").
    ahead = (preferred - local_hour) % 24
    salience = round(min(1.0, 0.3 + 0.7 * max(0.0, 1 - ahead / 3)), 3) if ahead <= 3 else 0.2
    if ahead == 0:
        text = f"This is your hour: you finish most things around {preferred:02d}:00."
    else:
        text = f"Your best hour is {preferred:02d}:00. Save something that matters for it."
    return Snippet(
        agent_id=MANIFEST.id,
        agent_version=MANIFEST.version,
        text=text,
        facts={"preferred_hour": preferred, "share_at_hour": round(share, 3), "hours_ahead": ahead},
        salience=salience,
        expires_at=now + MANIFEST.ttl,
    )
