"""Seeded synthetic people: Todoist-shaped completion histories with known ground truth."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from contracts.agents import TaskCompletion, UserHistory

TIMEZONES = ("Europe/Paris", "America/New_York", "Asia/Tokyo", "Europe/London", "UTC")
PROJECTS = ("work", "home", "health", "learning")


@dataclass(frozen=True)
class Truth:
    """What is true about a persona, for the agents to recover."""

    tz: str
    preferred_hour: int


@dataclass(frozen=True)
class Persona:
    name: str
    truth: Truth
    history: UserHistory


def _key(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def make_persona(seed: int, *, days: int = 60, end: datetime, per_day: float = 4.0) -> Persona:
    """A persona whose completions cluster around a preferred local hour."""
    rng = np.random.default_rng(seed)
    tz = TIMEZONES[int(rng.integers(len(TIMEZONES)))]
    preferred = int(rng.integers(7, 21))
    zone = ZoneInfo(tz)
    end_local = end.astimezone(zone)
    completions = []
    for day in range(days, 0, -1):
        date = (end_local - timedelta(days=day)).date()
        for n in range(int(rng.poisson(per_day))):
            hour = float(np.clip(rng.normal(preferred + 0.5, 1.2), 0, 23.99))
            local = datetime(date.year, date.month, date.day, tzinfo=zone) + timedelta(hours=hour)
            project = PROJECTS[int(rng.integers(len(PROJECTS)))]
            completions.append(
                TaskCompletion(
                    task_key=_key(seed, day, n),
                    project_key=_key(seed, project),
                    completed_at=local.astimezone(ZoneInfo("UTC")),
                    priority=int(rng.integers(1, 5)),
                )
            )
    completions.sort(key=lambda c: c.completed_at)
    return Persona(
        name=f"persona-{seed}",
        truth=Truth(tz=tz, preferred_hour=preferred),
        history=UserHistory(tz=tz, completions=completions),
    )
