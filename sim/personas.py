"""Seeded synthetic people: Todoist-shaped histories with known ground truth.

A persona is drawn from a seed: a home time zone, a daily rhythm (wake hour, sleep hour, a
preferred hour and maybe a second peak), a weekly cycle or none, an engagement change or none,
projects that are "real" (done on time) or aspirational (slipping), recurring habits, and the
mess of real life (vacations, travel, bursts of ticking off, duplicates, skewed clocks, tasks
without due dates). The truth is computed from the generating rates, not from the sample.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from contracts.agents import ActiveTask, TaskCompletion, UserHistory

TIMEZONES = (
    "Europe/Paris",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Sydney",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "UTC",
)
AREAS = {
    "work": ("email", "report", "meeting notes", "slides", "review", "client call", "roadmap"),
    "home": ("laundry", "groceries", "clean kitchen", "fix shelf", "water plants", "vacuum"),
    "health": ("run", "gym", "book doctor", "stretch", "meal prep", "dentist"),
    "learning": ("read chapter", "course module", "practice piano", "flashcards", "essay"),
    "finance": ("pay invoice", "tax return", "bank transfer", "budget review", "insurance"),
    "social": ("call mum", "birthday gift", "dinner plans", "reply to Sam", "thank-you note"),
}
VERBS = ("do", "finish", "start", "plan", "sort", "check")
QUIET_RATE = 0.01  # completions in quiet hours are near zero, not zero
Trend = Literal["up", "down", "flat"]


@dataclass(frozen=True)
class ProjectTruth:
    key: str
    area: str
    real: bool
    weight: float
    completions: int


@dataclass(frozen=True)
class Truth:
    """What is true about a persona, for the agents to recover. Hours are local."""

    tz: str
    preferred_hour: int
    peak_hours: list[int]
    quiet_hours: list[int]
    quiet_start: int
    quiet_end: int
    weekly_cycle: bool
    weekly_cycle_days: list[int]  # the weekdays (0 = Monday) that differ, empty when no cycle
    engagement_trend: Trend
    change_day: int | None  # days before `end` at which the level changed
    baseline_completions_per_day: float  # the current level
    lateness_tolerance_days: float | None
    projects: list[ProjectTruth]
    preferred_areas: list[str]  # project keys of the top two projects
    habits: int


@dataclass(frozen=True)
class Persona:
    name: str
    seed: int
    end: datetime
    truth: Truth
    history: UserHistory
    events: dict[str, int] = field(default_factory=dict)  # what mess was injected, by kind


def key(*parts: object) -> str:
    """An opaque key, like a hashed provider id."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def _hour_profile(rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    """Relative completion rate per local hour, and the quiet hours."""
    wake = int(rng.integers(5, 10))
    awake = int(rng.integers(15, 19))
    hours = np.arange(24)
    since_wake = (hours - wake) % 24
    awake_mask = since_wake < awake
    preferred = int((wake + rng.integers(1, awake - 2)) % 24)
    width = float(rng.uniform(1.0, 2.0))

    def bump(center: int, height: float, sigma: float) -> np.ndarray:
        d = np.minimum((hours - center) % 24, (center - hours) % 24)
        return height * np.exp(-0.5 * (d / sigma) ** 2)

    profile = 0.25 + bump(preferred, 1.0, width)
    if rng.random() < 0.5:
        # A second, smaller peak at least four hours away, inside the waking day.
        options = [
            h
            for h in range(24)
            if awake_mask[h] and min((h - preferred) % 24, (preferred - h) % 24) >= 4
        ]
        if options:
            profile += bump(int(rng.choice(options)), float(rng.uniform(0.35, 0.7)), 1.0)
    profile = np.where(awake_mask, profile, QUIET_RATE)
    return profile, [int(h) for h in hours[~awake_mask]]


def _weekly(rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    factors = np.ones(7)
    roll = rng.random()
    if roll < 0.2:
        factors[[5, 6]] = 0.15
        return factors, [5, 6]
    if roll < 0.35:
        day = int(rng.integers(7))
        factors[day] = 2.6
        return factors, [day]
    if roll < 0.5:
        day = int(rng.integers(7))
        factors[day] = 0.1
        return factors, [day]
    return factors, []


def _quiet_bounds(quiet: list[int]) -> tuple[int, int]:
    """First quiet hour and first hour after the window (the window may wrap midnight)."""
    qs = set(quiet)
    start = next(h for h in quiet if (h - 1) % 24 not in qs)
    end = next(h for h in range(24) if h not in qs and (h - 1) % 24 in qs)
    return start, end


def make_persona(
    seed: int,
    *,
    days: int = 60,
    end: datetime | None = None,
    per_day: float | None = None,
    noise: float = 1.0,
) -> Persona:
    """A persona with `days` of history ending at `end`; `noise` scales the injected mess."""
    rng = np.random.default_rng(seed)
    end = (end or datetime(2026, 6, 1, 12, tzinfo=UTC)).astimezone(UTC)
    tz = TIMEZONES[int(rng.integers(len(TIMEZONES)))]
    zone = ZoneInfo(tz)
    profile, quiet = _hour_profile(rng)
    weekly, cycle_days = _weekly(rng)
    level = float(per_day if per_day is not None else rng.uniform(2.5, 8.0))

    # Engagement: a real change of level at a change point, or none.
    trend: Trend = "flat"
    change_day: int | None = None
    ratio = 1.0
    if days >= 28 and rng.random() < 0.6:
        trend = "up" if rng.random() < 0.5 else "down"
        ratio = float(rng.uniform(1.6, 2.2) if trend == "up" else rng.uniform(0.35, 0.6))
        change_day = int(rng.integers(int(days * 0.25), int(days * 0.7) + 1))

    # Projects: weights with a clear top two; each real (on time) or aspirational (slipping).
    n_projects = int(rng.integers(3, 7))
    areas = [str(a) for a in rng.choice(list(AREAS), size=n_projects, replace=False)]
    weights = np.sort(rng.dirichlet(np.full(n_projects, 2.0)))[::-1]
    weights[:2] += 0.15
    weights /= weights.sum()
    real = rng.random(n_projects) < 0.6
    real[0] = True
    if real.all():
        real[-1] = False
    slip = rng.uniform(3.0, 10.0, n_projects)
    pkeys = [key(seed, "project", a) for a in areas]

    habits = [
        (
            key(seed, "habit", i),
            int(rng.choice([h for h in range(24) if h not in quiet])),
            float(rng.uniform(0.6, 0.95)),
        )
        for i in range(int(rng.integers(0, 3)))
    ]

    # Life's mess: a vacation, a trip across time zones, bursts of ticking off.
    vacation: set[int] = set()
    if days >= 40 and rng.random() < 0.3 * noise:
        start = int(rng.integers(10, days - 8))
        vacation = set(range(start, min(days, start + int(rng.integers(5, 12)))))
    travel: set[int] = set()
    travel_shift = 0
    if days >= 30 and rng.random() < 0.2 * noise:
        start = int(rng.integers(8, days - 5))
        travel = set(range(start, min(days, start + int(rng.integers(3, 8)))))
        travel_shift = int(rng.choice([-9, -6, 5, 8]))

    p_hour = profile / profile.sum()
    completions: list[TaskCompletion] = []
    lateness: list[int] = []
    project_counts = np.zeros(n_projects, dtype=int)
    end_local = end.astimezone(zone)
    events = {
        "duplicates": 0,
        "bursts": 0,
        "future": 0,
        "vacation_days": len(vacation),
        "travel_days": len(travel),
    }
    for back in range(days, 0, -1):
        day: date = (end_local - timedelta(days=back)).date()
        if back in vacation:
            continue
        day_level = level * (ratio if change_day is not None and back <= change_day else 1.0)
        day_zone = (
            ZoneInfo(f"Etc/GMT{-travel_shift:+d}") if back in travel and travel_shift else zone
        )
        n = int(rng.poisson(day_level * weekly[day.weekday()]))
        hours = rng.choice(24, size=n, p=p_hour)
        minutes = rng.integers(0, 60, size=n)
        projects = rng.choice(n_projects, size=n, p=weights)
        for i in range(n):
            pj = int(projects[i])
            local = datetime(
                day.year, day.month, day.day, int(hours[i]), int(minutes[i]), tzinfo=day_zone
            )
            due = None
            if rng.random() < 0.7:
                late = (
                    int(rng.choice([-1, 0, 0, 0, 0, 1]))
                    if real[pj]
                    else int(rng.geometric(1 / slip[pj]))
                )
                due_day = day - timedelta(days=late)
                due = datetime(due_day.year, due_day.month, due_day.day, tzinfo=zone)
                lateness.append(late)
            project_counts[pj] += 1
            task = key(seed, back, i)
            completions.append(
                TaskCompletion(
                    task_key=task,
                    project_key=pkeys[pj],
                    completed_at=local.astimezone(UTC),
                    due_at=due.astimezone(UTC) if due else None,
                    priority=int(rng.choice([1, 1, 2, 3, 4])),
                    content=f"{rng.choice(VERBS)} {rng.choice(AREAS[areas[pj]])}",
                )
            )
        for hkey, hour, adherence in habits:
            if rng.random() < adherence:
                local = datetime(
                    day.year, day.month, day.day, hour, int(rng.integers(0, 30)), tzinfo=day_zone
                )
                completions.append(
                    TaskCompletion(
                        task_key=hkey,
                        project_key=pkeys[0],
                        completed_at=local.astimezone(UTC),
                        due_at=datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC),
                        recurring=True,
                        content="daily habit",
                    )
                )
                lateness.append(0)
                project_counts[0] += 1
        if n and rng.random() < 0.04 * noise:
            # Ticking off a backlog: ten or so tasks within five minutes.
            base = datetime(
                day.year,
                day.month,
                day.day,
                int(rng.choice([h for h in range(24) if h not in quiet])),
                0,
                tzinfo=day_zone,
            )
            for j in range(int(rng.integers(8, 13))):
                completions.append(
                    TaskCompletion(
                        task_key=key(seed, back, "burst", j),
                        project_key=pkeys[int(rng.choice(n_projects, p=weights))],
                        completed_at=(
                            base + timedelta(seconds=int(rng.integers(0, 300)))
                        ).astimezone(UTC),
                        content="old task",
                    )
                )
            events["bursts"] += 1

    # Truth from the generating rates: habits add their expected mass to their hour.
    expected = p_hour * level * weekly.mean()
    for _, hour, adherence in habits:
        expected[hour] += adherence
    order = np.argsort(-expected, kind="stable")
    quiet_start, quiet_end = _quiet_bounds(quiet)
    current = level * ratio * weekly.mean() + sum(a for _, _, a in habits)

    # Mess in the record itself: duplicated events, clock skew, missing due dates.
    clean_count = len(completions)
    for idx in (
        rng.choice(clean_count, size=int(clean_count * 0.03 * noise), replace=False)
        if clean_count
        else []
    ):
        completions.append(completions[int(idx)])
        events["duplicates"] += 1
    for _ in range(int(rng.poisson(2 * noise))):
        completions.append(
            TaskCompletion(
                task_key=key(seed, "future", _),
                completed_at=end + timedelta(days=float(rng.uniform(1, 400))),
            )
        )
        events["future"] += 1
    completions.sort(key=lambda c: c.completed_at)

    projects_truth = [
        ProjectTruth(
            key=pkeys[i],
            area=areas[i],
            real=bool(real[i]),
            weight=float(weights[i]),
            completions=int(project_counts[i]),
        )
        for i in range(n_projects)
    ]
    truth = Truth(
        tz=tz,
        preferred_hour=int(order[0]),
        peak_hours=sorted(int(h) for h in order[:6]),
        quiet_hours=sorted(quiet),
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        weekly_cycle=bool(cycle_days),
        weekly_cycle_days=cycle_days,
        engagement_trend=trend,
        change_day=change_day,
        baseline_completions_per_day=round(float(current), 3),
        lateness_tolerance_days=float(np.median(lateness)) if lateness else None,
        projects=projects_truth,
        preferred_areas=[p.key for p in sorted(projects_truth, key=lambda p: -p.completions)[:2]],
        habits=len(habits),
    )
    history = UserHistory(
        tz=tz,
        completions=completions,
        active_tasks=_active_tasks(rng, seed, end, zone, pkeys, areas, real),
    )
    return Persona(
        name=f"persona-{seed}", seed=seed, end=end, truth=truth, history=history, events=events
    )


def _active_tasks(
    rng: np.random.Generator,
    seed: int,
    end: datetime,
    zone: ZoneInfo,
    pkeys: list[str],
    areas: list[str],
    real: np.ndarray,
) -> list[ActiveTask]:
    """Open tasks at `end`: some overdue, some due soon, some undated."""
    today = end.astimezone(zone).date()
    tasks = []
    for i in range(int(rng.integers(3, 15))):
        pj = int(rng.integers(len(pkeys)))
        offset = int(rng.integers(-20, 10))
        due_day = today + timedelta(days=offset)
        tasks.append(
            ActiveTask(
                task_key=key(seed, "open", i),
                project_key=pkeys[pj],
                content=f"{rng.choice(VERBS)} {rng.choice(AREAS[areas[pj]])}",
                due_at=datetime(due_day.year, due_day.month, due_day.day, tzinfo=zone).astimezone(
                    UTC
                )
                if rng.random() < 0.8
                else None,
                priority=int(rng.choice([1, 1, 2, 3, 4])),
            )
        )
    return tasks


def make_garbage_history(seed: int, *, end: datetime) -> UserHistory:
    """A history no agent should choke on: duplicates, future and ancient stamps, no due dates."""
    rng = np.random.default_rng(seed)
    one = TaskCompletion(task_key="dup", completed_at=end - timedelta(hours=5))
    items = [one] * 50
    items += [
        TaskCompletion(
            task_key=f"f{i}", completed_at=end + timedelta(days=int(rng.integers(1, 3000)))
        )
        for i in range(30)
    ]
    items += [
        TaskCompletion(
            task_key=f"a{i}", completed_at=datetime(1971, 1, 1, tzinfo=UTC) + timedelta(hours=i)
        )
        for i in range(30)
    ]
    items += [
        TaskCompletion(
            task_key=f"z{i}",
            project_key=None,
            completed_at=end - timedelta(minutes=i),
            due_at=end + timedelta(days=900),
        )
        for i in range(5)
    ]
    return UserHistory(
        tz="Not/AZone", completions=items, active_tasks=[ActiveTask(task_key="x", content="")]
    )
