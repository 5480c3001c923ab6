from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from agents import momentum
from contracts.agents import Snippet, TaskCompletion, UserHistory
from sim.personas import make_garbage_history, make_persona

NOW = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)  # a Monday
WEEK = [4, 5, 3, 6, 4, 5, 3]  # Monday first: an uneven but steady week


def history(
    days: int, count: Callable[[int, int], int], *, bursts: tuple[int, ...] = ()
) -> UserHistory:
    """`count(back, weekday)` completions ten minutes apart on each of the last `days` days
    (back 1 = yesterday), and a burst of ten completions in two minutes on each `bursts` day."""
    items = []
    for back in range(days, 0, -1):
        day = (NOW - timedelta(days=back)).replace(hour=9, minute=0)
        items += [
            TaskCompletion(task_key=f"{back}-{i}", completed_at=day + timedelta(minutes=10 * i))
            for i in range(count(back, day.weekday()))
        ]
        if back in bursts:
            items += [
                TaskCompletion(
                    task_key=f"{back}-b{i}",
                    completed_at=day.replace(hour=20) + timedelta(seconds=12 * i),
                )
                for i in range(10)
            ]
    return UserHistory(completions=items)


def z_of(snippet: Snippet) -> float:
    z = snippet.facts["z"]
    assert isinstance(z, float)
    return z


def steady(back: int, weekday: int) -> int:
    return WEEK[weekday]


def test_a_clean_step_up_is_up_with_the_level_since_the_step() -> None:
    stepped = history(70, lambda back, wd: WEEK[wd] * (2 if back <= 35 else 1))
    assert momentum.infer(stepped, NOW) == {
        "engagement_trend": "up",
        "baseline_completions_per_day": round(2 * float(np.mean(WEEK)), 3),
        "stdev": round(2 * float(np.std(WEEK)), 3),
    }


def test_a_clean_step_down_is_down() -> None:
    stepped = history(70, lambda back, wd: WEEK[wd] * (2 if back > 30 else 1))
    inferred = momentum.infer(stepped, NOW)
    assert inferred["engagement_trend"] == "down"
    assert inferred["baseline_completions_per_day"] == round(float(np.mean(WEEK)), 3)


def test_a_steady_person_is_flat_at_their_level() -> None:
    assert momentum.infer(history(70, steady), NOW) == {
        "engagement_trend": "flat",
        "baseline_completions_per_day": round(float(np.mean(WEEK)), 3),
        "stdev": round(float(np.std(WEEK)), 3),
    }


def test_a_vacation_is_not_a_drop_and_is_left_out_of_the_level() -> None:
    away = range(9, 20)  # eleven days of nothing, ending a week ago
    inferred = momentum.infer(history(70, lambda b, wd: 0 if b in away else WEEK[wd]), NOW)
    assert inferred["engagement_trend"] == "flat"
    # The level is the mean of the last 28 days that were not time away.
    days = [b for b in range(1, 71) if b not in away][:28]
    weekday = [(NOW - timedelta(days=b)).weekday() for b in days]
    assert inferred["baseline_completions_per_day"] == round(
        float(np.mean([WEEK[w] for w in weekday])), 3
    )


def test_bursts_of_ticking_off_are_not_a_rise() -> None:
    # A backlog ticked off in two minutes, five times in the last three weeks: one sitting each.
    bursty = history(70, steady, bursts=(2, 5, 9, 14, 18))
    inferred = momentum.infer(bursty, NOW)
    assert inferred["engagement_trend"] == "flat"
    assert inferred["baseline_completions_per_day"] == round(float(np.mean(WEEK)) + 5 / 28, 3)


def test_a_busy_week_is_told_in_standard_errors() -> None:
    busy = history(70, lambda back, wd: WEEK[wd] * (2 if back <= 7 else 1))
    snippet = momentum.compute(busy, {}, NOW)
    assert snippet is not None
    mean, stdev = float(np.mean(WEEK)), float(np.std(WEEK))
    assert snippet.facts["mean"] == round(mean, 3) and snippet.facts["stdev"] == round(stdev, 3)
    assert snippet.facts["z"] == round(mean / (stdev / np.sqrt(7)), 2)
    assert snippet.text == "You've finished 100% more than usual this week."
    assert snippet.salience == 1.0
    assert snippet.expires_at == NOW + momentum.MANIFEST.ttl


def test_salience_grows_with_the_size_of_the_change() -> None:
    def week_of(extra: int) -> UserHistory:
        return history(70, lambda back, wd: WEEK[wd] + (extra if back <= 7 else 0))

    small, large = (momentum.compute(week_of(e), {}, NOW) for e in (1, 2))
    assert small is not None and large is not None
    assert 0 < small.salience < large.salience
    assert z_of(small) < z_of(large)


def test_a_lighter_week_is_said_gently() -> None:
    light = history(70, lambda back, wd: WEEK[wd] // (3 if back <= 7 else 1))
    snippet = momentum.compute(light, {}, NOW)
    assert snippet is not None and z_of(snippet) < 0
    assert snippet.text.startswith("A lighter week")


def test_an_ordinary_week_says_nothing() -> None:
    assert momentum.compute(history(70, steady), {}, NOW) is None


def test_a_week_away_says_nothing() -> None:
    assert momentum.compute(history(70, lambda b, wd: 0 if b <= 8 else WEEK[wd]), {}, NOW) is None


def test_stored_preferences_set_the_usual_level() -> None:
    busy = history(70, lambda back, wd: WEEK[wd] * (2 if back <= 7 else 1))
    prefs = {"baseline_completions_per_day": 8.0, "stdev": 2.0, "engagement_trend": "up"}
    snippet = momentum.compute(busy, prefs, NOW)
    # 60/7 a day this week against 8 ± 2/√7 is nothing special: no snippet.
    assert snippet is None
    snippet = momentum.compute(busy, {**prefs, "baseline_completions_per_day": 6.0}, NOW)
    assert snippet is not None and snippet.facts["mean"] == 6.0
    assert snippet.facts["engagement_trend"] == "up"


def test_no_history_gives_the_cold_start_defaults_and_nothing_to_say() -> None:
    assert momentum.infer(UserHistory(), NOW) == {
        "engagement_trend": "flat",
        "baseline_completions_per_day": 0.0,
        "stdev": 0.0,
    }
    assert momentum.compute(UserHistory(), {}, NOW) is None


def test_garbage_history_does_not_crash() -> None:
    garbage = make_garbage_history(3, end=NOW)
    assert momentum.infer(garbage, NOW)["engagement_trend"] == "flat"
    assert momentum.compute(garbage, {}, NOW) is None


SEEDS = range(20_000, 20_100)  # not the evaluation's seeds


@pytest.fixture(scope="module")
def recovered() -> list[tuple[str, str, float, float]]:
    """(true trend, inferred trend, true level, inferred level) for 100 personas of 60 days."""
    rows: list[tuple[str, str, float, float]] = []
    for seed in SEEDS:
        persona = make_persona(seed, days=60, end=NOW)
        inferred = momentum.infer(persona.history, NOW)
        rows.append(
            (
                persona.truth.engagement_trend,
                inferred["engagement_trend"],
                persona.truth.baseline_completions_per_day,
                inferred["baseline_completions_per_day"],
            )
        )
    return rows


def test_personas_real_changes_are_found_in_the_right_direction(
    recovered: list[tuple[str, str, float, float]],
) -> None:
    changed = [inferred == truth for truth, inferred, _, _ in recovered if truth != "flat"]
    assert len(changed) >= 40 and np.mean(changed) >= 0.90


def test_personas_without_a_change_read_flat(
    recovered: list[tuple[str, str, float, float]],
) -> None:
    flat = [inferred == "flat" for truth, inferred, _, _ in recovered if truth == "flat"]
    assert len(flat) >= 25 and np.mean(flat) >= 0.85


def test_personas_current_level_is_within_a_quarter(
    recovered: list[tuple[str, str, float, float]],
) -> None:
    close = [abs(level - truth) <= 0.25 * truth for _, _, truth, level in recovered]
    assert np.mean(close) >= 0.90
