from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from agents import recent_patterns
from contracts.agents import TaskCompletion, UserHistory
from sim.personas import make_garbage_history, make_persona

NOW = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)  # a Monday
NOISE = [4, 6, 5, 3, 7]  # a five-day wobble: no weekly rhythm in it


def history(
    days: int,
    count: Callable[[int, int], int],
    *,
    hours: tuple[int, ...] = (9,),
    bursts: tuple[int, ...] = (),
) -> UserHistory:
    """`count(back, weekday)` completions on each of the last `days` days (back 1 = yesterday),
    dealt in turn to the `hours` (UTC) across days, ten minutes apart within an hour, and a
    burst of ten completions in two minutes on each `bursts` day."""
    items: list[TaskCompletion] = []
    for back in range(days, 0, -1):
        day = (NOW - timedelta(days=back)).replace(minute=0)
        for i in range(count(back, day.weekday())):
            hour = hours[len(items) % len(hours)]
            at = day.replace(hour=hour) + timedelta(minutes=10 * (i // len(hours)))
            items.append(TaskCompletion(task_key=f"{back}-{i}", completed_at=at))
        if back in bursts:
            at = day.replace(hour=21)
            items += [
                TaskCompletion(task_key=f"{back}-b{i}", completed_at=at + timedelta(seconds=12 * i))
                for i in range(10)
            ]
    return UserHistory(completions=items)


def no_cycle(back: int, weekday: int) -> int:
    return NOISE[back % len(NOISE)]


def weekends_off(back: int, weekday: int) -> int:
    return 1 if weekday >= 5 else 6


def test_weekends_off_is_a_weekly_cycle_told_as_quiet_weekends() -> None:
    person = history(84, weekends_off)
    assert recent_patterns.infer(person, NOW) == {
        "lookback_days": 14,
        "weekly_cycle": True,
        "daily_cycle": True,
    }
    snippet = recent_patterns.compute(person, {}, NOW)
    assert snippet is not None
    assert snippet.text == "Weekends are your quiet days: about 22% of an average day."
    # Weekdays at 6, weekends at 1: factors 6/(32/7) and 1/(32/7); strength 1 - 7/32.
    assert snippet.facts["factors"] == [1.31] * 5 + [0.22] * 2
    assert snippet.facts["strength"] == round(1 - 7 / 32, 3)
    assert snippet.salience == round(0.5 * (1 - 7 / 32), 3)  # a Monday: not about today
    assert snippet.expires_at == NOW + recent_patterns.MANIFEST.ttl


def test_the_strongest_day_is_named_and_most_salient_on_the_day() -> None:
    person = history(84, lambda back, wd: 12 if wd == 0 else 3)
    snippet = recent_patterns.compute(person, {}, NOW)
    assert snippet is not None
    assert snippet.text == "Mondays are your strongest day: about 2.8 times an average day."
    assert snippet.facts["days"] == ["Monday"]
    tuesday = recent_patterns.compute(person, {}, NOW + timedelta(days=1))
    assert tuesday is not None and tuesday.salience < snippet.salience


def test_no_weekly_rhythm_is_no_cycle_and_no_weekly_hint() -> None:
    person = history(84, no_cycle, hours=tuple(range(7, 23)))
    inferred = recent_patterns.infer(person, NOW)
    assert inferred["weekly_cycle"] is False
    assert inferred["daily_cycle"] is False  # spread over sixteen hours: strength 1/3
    assert recent_patterns.compute(person, {}, NOW) is None


def test_a_vacation_is_not_a_weekly_cycle() -> None:
    person = history(84, lambda back, wd: 0 if 20 <= back < 31 else no_cycle(back, wd))
    assert recent_patterns.infer(person, NOW)["weekly_cycle"] is False


def test_bursts_of_ticking_off_on_one_weekday_are_not_a_cycle() -> None:
    wednesdays = tuple(b for b in range(1, 85) if (NOW - timedelta(days=b)).weekday() == 2)
    person = history(84, no_cycle, bursts=wednesdays[::2])  # every other Wednesday
    assert recent_patterns.infer(person, NOW)["weekly_cycle"] is False


def test_a_rhythm_too_slight_to_name_is_no_cycle() -> None:
    # Weekends at 85 % of a weekday: significant at forty a day, but strength only 0.11.
    person = history(84, lambda back, wd: 34 if wd >= 5 else 40, hours=tuple(range(7, 23)))
    assert recent_patterns.infer(person, NOW)["weekly_cycle"] is False


def test_time_away_is_told_apart_from_quiet_weekends() -> None:
    weekday = np.arange(56) % 7  # Monday first
    count = np.where(weekday >= 5, 0.0, 5.0)
    count[28:33] = 0.0  # a week off, Monday to Friday: nine empty days with both weekends
    away = recent_patterns.away_days(count, weekday)
    assert np.flatnonzero(away).tolist() == list(range(26, 35))


def test_a_slight_rhythm_is_a_cycle_but_not_worth_a_hint() -> None:
    # Weekends at 60 % of a weekday: real (strength 0.32) but below the 0.5 needed for a hint.
    person = history(84, lambda back, wd: 6 if wd >= 5 else 10, hours=tuple(range(7, 23)))
    inferred = recent_patterns.infer(person, NOW)
    assert inferred["weekly_cycle"] is True and inferred["daily_cycle"] is False
    assert recent_patterns.compute(person, {}, NOW) is None


def test_one_habitual_hour_is_a_daily_cycle_hinted_when_there_is_no_weekly_one() -> None:
    person = history(84, no_cycle, hours=(19,))
    assert recent_patterns.infer(person, NOW)["daily_cycle"] is True
    snippet = recent_patterns.compute(person, {}, NOW)
    assert snippet is not None
    assert snippet.text == "Lately most of your work lands around 19:00."
    assert snippet.facts["lookback_days"] == 28


def test_a_thin_even_spread_is_not_a_daily_cycle() -> None:
    # Forty completions at hours drawn evenly from sixteen: the busiest hour is busy by chance.
    hours = np.random.default_rng(4).integers(7, 23, size=40)
    items = [
        TaskCompletion(
            task_key=f"k{i}", completed_at=(NOW - timedelta(days=1 + i % 20)).replace(hour=int(h))
        )
        for i, h in enumerate(hours)
    ]
    assert recent_patterns.infer(UserHistory(completions=items), NOW)["daily_cycle"] is False


def test_lookback_holds_thirty_completions_in_whole_weeks_within_bounds() -> None:
    def lookback(per_day: int, every: int = 1) -> object:
        person = history(120, lambda back, wd: per_day if back % every == 0 else 0)
        return recent_patterns.infer(person, NOW)["lookback_days"]

    assert lookback(5) == 14  # six days hold 30; never under two weeks
    assert lookback(1) == 35  # thirty days, rounded up to whole weeks
    assert lookback(1, every=5) == 91  # 30 completions would take 150 days: capped


def test_stored_preferences_are_honoured() -> None:
    person = history(84, weekends_off)
    assert (
        recent_patterns.compute(person, {"weekly_cycle": False, "daily_cycle": False}, NOW) is None
    )
    daily = recent_patterns.compute(person, {"weekly_cycle": False, "lookback_days": 63}, NOW)
    assert daily is not None and daily.facts["lookback_days"] == 63


def test_no_history_gives_the_cold_start_defaults_and_nothing_to_say() -> None:
    assert recent_patterns.infer(UserHistory(), NOW) == {
        "lookback_days": 28,
        "weekly_cycle": False,
        "daily_cycle": False,
    }
    assert recent_patterns.compute(UserHistory(), {}, NOW) is None


def test_garbage_history_does_not_crash() -> None:
    garbage = make_garbage_history(3, end=NOW)
    assert recent_patterns.infer(garbage, NOW)["weekly_cycle"] is False
    assert recent_patterns.compute(garbage, {}, NOW) is None


@pytest.mark.parametrize("days", [60, 180])
def test_personas_weekly_cycles_are_found_with_few_false_alarms(days: int) -> None:
    truth, found = [], []
    for seed in range(30_000, 30_080):  # not the evaluation's seeds
        persona = make_persona(seed, days=days, end=NOW)
        truth.append(persona.truth.weekly_cycle)
        found.append(recent_patterns.infer(persona.history, NOW)["weekly_cycle"])
    t, f = np.array(truth), np.array(found)
    assert t.sum() >= 30
    assert (t & f).sum() / f.sum() >= 0.90  # precision
    assert (t & f).sum() / t.sum() >= 0.90  # recall
