"""Local clock arithmetic shared by the agents: UTC instants to the person's wall clock."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from contracts.agents import TaskCompletion


def zone(tz: str) -> ZoneInfo:
    """The person's zone; an unknown name falls back to UTC rather than failing the agent."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_hours(
    completions: list[TaskCompletion], tz: str, now: datetime
) -> npt.NDArray[np.float64]:
    """Fractional local hours of distinct past completions (DST-correct, duplicates dropped)."""
    z = zone(tz)
    seen: set[tuple[str, datetime]] = set()
    hours: list[float] = []
    for c in completions:
        key = (c.task_key, c.completed_at)
        if c.completed_at > now or key in seen:
            continue
        seen.add(key)
        local = c.completed_at.astimezone(z)
        hours.append(local.hour + local.minute / 60.0)
    return np.asarray(hours, dtype=np.float64)
