from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pytest

from agents import time_of_day
from agents.frame import build_frame
from contracts.agents import TaskCompletion, UserHistory
from sim.evaluate import circular_distance, jaccard, window_hours
from sim.personas import make_garbage_history, make_persona

NOW = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)
START = datetime(2026, 4, 1)  # local wall clock of day 0 in the hand-built histories
COLD = {
    "preferred_hour": 9,
    "peak_hours": [9, 10, 11, 14, 15, 16],
    "quiet_start": 23,
    "quiet_end": 7,
    "tz": "UTC",
}
# One completion an hour from 07:00 to 22:59, three at 09:00 and two at 16:00: 20 a day.
DAY_7_TO_23 = {h: 1 for h in range(7, 23)} | {9: 3, 16: 2}


def at(tz: str, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """The UTC instant of a local wall-clock time, `day` days after START."""
    local = START + timedelta(days=day, hours=hour, minutes=minute, seconds=second)
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def daily(
    tz: str, days: range, per_hour: dict[int, int], *, tag: str = "t"
) -> list[TaskCompletion]:
    """`per_hour[h]` completions (at most four, 15 minutes apart) at each local hour of each day."""
    return [
        TaskCompletion(task_key=f"{tag}{d}-{h}-{k}", completed_at=at(tz, d, h, 10 + 15 * k))
        for d in days
        for h, n in per_hour.items()
        for k in range(n)
    ]


def infer(completions: list[TaskCompletion], tz: str = "UTC") -> dict[str, object]:
    return time_of_day.infer(UserHistory(tz=tz, completions=completions), NOW)


def test_quiet_window_wraps_midnight_despite_stray_completions() -> None:
    stray = [TaskCompletion(task_key=f"s{d}", completed_at=at("UTC", d, 2, 40)) for d in (3, 9, 20)]
    inferred = infer(daily("UTC", range(30), DAY_7_TO_23) + stray)
    assert (inferred["quiet_start"], inferred["quiet_end"]) == (23, 7)
    assert inferred["preferred_hour"] == 9
    assert inferred["peak_hours"] == [8, 9, 10, 15, 16, 17]


def test_quiet_window_that_does_not_wrap() -> None:
    late_riser = {h: 1 for h in (*range(9, 24), 0)} | {11: 3}
    inferred = infer(daily("UTC", range(30), late_riser))
    assert (inferred["quiet_start"], inferred["quiet_end"]) == (1, 9)
    assert inferred["preferred_hour"] == 11


def test_a_slow_waking_hour_does_not_join_the_quiet_window() -> None:
    # 07:00 is half as busy as the other waking hours: below the mean, but not asleep.
    slow_morning = {h: 2 for h in range(7, 23)} | {7: 1}
    inferred = infer(daily("UTC", range(30), slow_morning))
    assert (inferred["quiet_start"], inferred["quiet_end"]) == (23, 7)


def test_a_burst_of_ticking_off_counts_as_one_and_makes_no_peak() -> None:
    base = {h: 1 for h in range(8, 21)} | {9: 2, 10: 4, 11: 2, 13: 2, 14: 3, 15: 2}
    bursts = [
        TaskCompletion(task_key=f"b{d}-{j}", completed_at=at("UTC", d, 18, 0, 20 * j))
        for d in range(0, 20, 2)
        for j in range(12)
    ]
    history = UserHistory(completions=daily("UTC", range(20), base) + bursts)
    # Counted one by one, the bursts would outnumber the real best hour.
    assert int(np.bincount(build_frame(history, NOW).hour).argmax()) == 18
    inferred = time_of_day.infer(history, NOW)
    assert inferred["preferred_hour"] == 10
    assert inferred["peak_hours"] == [9, 10, 11, 13, 14, 15]


def test_a_travel_week_moves_nothing() -> None:
    home = daily("Europe/Paris", range(35), DAY_7_TO_23)
    trip = range(14, 21)
    away = [c for c in home if int(c.task_key[1:].split("-")[0]) not in trip]
    # The same days lived in New York: six hours earlier on the Paris clock of the frame.
    travelling = away + daily("America/New_York", trip, DAY_7_TO_23, tag="ny")
    at_home = infer(away, "Europe/Paris")
    assert infer(travelling, "Europe/Paris") == at_home
    assert at_home == {
        "preferred_hour": 9,
        "peak_hours": [8, 9, 10, 15, 16, 17],
        "quiet_start": 23,
        "quiet_end": 7,
        "tz": "Europe/Paris",
    }
    frame = build_frame(UserHistory(tz="Europe/Paris", completions=travelling), NOW)
    # Set aside: the trip's days but its first afternoon, which reads as an ordinary Paris
    # afternoon (14 completions), and its last evening, which lands on the first night home (5).
    assert time_of_day.hour_counts(frame).total == len(away) + 14 + 5


def test_local_hour_is_kept_across_dst() -> None:
    # 08:30 Paris every day from February to May: UTC 07:30 before the March change, 06:30 after.
    items = [
        TaskCompletion(
            task_key=f"k{d}",
            completed_at=(datetime(2026, 2, 1, 8, 30) + timedelta(days=d))
            .replace(tzinfo=ZoneInfo("Europe/Paris"))
            .astimezone(UTC),
        )
        for d in range(120)
    ]
    assert infer(items, "Europe/Paris")["preferred_hour"] == 8
    # Read in UTC the same person looks split between 07:00 (56 days) and 06:00 (64 days).
    assert infer(items, "UTC")["preferred_hour"] == 6


def test_snippet_is_most_salient_just_before_the_preferred_hour_and_silent_at_night() -> None:
    history = UserHistory(completions=daily("UTC", range(30), DAY_7_TO_23))
    now = datetime(2026, 5, 20, tzinfo=UTC)
    by_hour = {h: time_of_day.compute(history, {}, now + timedelta(hours=h)) for h in range(24)}
    snippets = {h: s for h, s in by_hour.items() if s is not None}
    assert len(snippets) == 24
    assert max(snippets, key=lambda h: snippets[h].salience) == 8
    saliences = [snippets[h].salience for h in (6, 7, 8, 9, 12, 14, 17)]
    assert saliences == [0.0, 0.85, 1.0, 0.8, 0.2, 0.6, 0.5]
    assert snippets[3].salience == 0.0 and snippets[3].facts["in_quiet_hours"] is True
    assert "quiet" in snippets[3].text and "09:00" in snippets[8].text
    assert all("your" in s.text.lower() for s in snippets.values())
    assert snippets[8].facts["preferred_hour"] == 9 and snippets[8].facts["hours_ahead"] == 1
    assert snippets[8].expires_at == now + timedelta(hours=8) + time_of_day.MANIFEST.ttl


def test_user_preferences_override_the_inferred_hours() -> None:
    history = UserHistory(completions=daily("UTC", range(30), DAY_7_TO_23))
    prefs = {"preferred_hour": 14, "quiet_start": "22", "quiet_end": 6, "peak_hours": "bad"}
    snippet = time_of_day.compute(history, prefs, NOW.replace(hour=13))
    assert snippet is not None
    assert (snippet.facts["preferred_hour"], snippet.facts["quiet_start"]) == (14, 22)
    assert snippet.facts["peak_hours"] == [8, 9, 10, 15, 16, 17]
    assert snippet.salience == 1.0


def test_a_short_history_infers_the_hour_but_keeps_the_cold_start_quiet_window() -> None:
    inferred = infer(daily("UTC", range(4), {13: 3, 14: 1, 15: 1}))
    assert inferred["preferred_hour"] == 13
    assert (inferred["quiet_start"], inferred["quiet_end"]) == (23, 7)


def test_no_history_means_nothing_to_say_and_cold_start_defaults() -> None:
    empty = UserHistory()
    assert time_of_day.compute(empty, {}, NOW) is None
    assert time_of_day.infer(empty, NOW) == COLD
    assert {p.key: p.cold_start_default for p in time_of_day.MANIFEST.inferred} == COLD


@pytest.mark.parametrize("seed", range(5))
def test_garbage_history_gives_cold_start_and_no_snippet(seed: int) -> None:
    garbage = make_garbage_history(seed, end=NOW)
    assert time_of_day.compute(garbage, {"preferred_hour": None}, NOW) is None
    assert time_of_day.infer(garbage, NOW) == COLD


def test_duplicates_and_future_events_are_ignored() -> None:
    one = TaskCompletion(task_key="same", completed_at=NOW - timedelta(hours=3))
    future = [
        TaskCompletion(task_key=f"f{i}", completed_at=NOW + timedelta(days=1, minutes=i))
        for i in range(50)
    ]
    history = UserHistory(completions=[one] * 40 + future)
    # One distinct past completion is below the minimum: nothing to say, no crash.
    assert time_of_day.compute(history, {}, NOW) is None


@pytest.fixture(scope="module")
def persona_scores() -> npt.NDArray[np.float64]:
    """Per persona: preferred hour within ±1 h, peak-hours Jaccard, quiet window IoU ≥ 0.7."""
    rows = []
    for seed in range(100):
        persona = make_persona(seed, end=NOW)
        got, truth = time_of_day.infer(persona.history, persona.end), persona.truth
        window = window_hours(got["quiet_start"], got["quiet_end"])
        rows.append(
            (
                circular_distance(got["preferred_hour"], truth.preferred_hour) <= 1,
                jaccard(set(got["peak_hours"]), set(truth.peak_hours)),
                jaccard(window, set(truth.quiet_hours)) >= 0.7,
            )
        )
    return np.asarray(rows, dtype=np.float64)


def test_preferred_hour_of_personas_is_recovered(persona_scores: npt.NDArray[np.float64]) -> None:
    assert persona_scores[:, 0].mean() >= 0.90


def test_peak_hours_of_personas_are_recovered(persona_scores: npt.NDArray[np.float64]) -> None:
    assert persona_scores[:, 1].mean() >= 0.70


def test_quiet_window_of_personas_is_recovered(persona_scores: npt.NDArray[np.float64]) -> None:
    assert persona_scores[:, 2].mean() >= 0.85
