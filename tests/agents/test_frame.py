from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from agents.frame import build_frame, frame_of, utc_offsets
from contracts.agents import TaskCompletion, UserHistory
from sim.personas import make_garbage_history

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "tz", ["Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]
)
def test_vectorised_offsets_match_the_zone_rules_to_the_second(tz: str) -> None:
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(NOW.timestamp() - 2 * 365 * 86400, NOW.timestamp(), 5000))
    # Include the seconds around every transition.
    z = ZoneInfo(tz)
    expected = np.array(
        [datetime.fromtimestamp(x, UTC).astimezone(z).utcoffset().total_seconds() for x in t]  # type: ignore[union-attr]
    )
    assert np.array_equal(utc_offsets(tz, t), expected)


def test_dst_change_keeps_local_hours() -> None:
    # 08:30 in Paris on both sides of the March 2026 change.
    before = datetime(2026, 3, 28, 8, 30, tzinfo=ZoneInfo("Europe/Paris"))
    after = datetime(2026, 3, 30, 8, 30, tzinfo=ZoneInfo("Europe/Paris"))
    history = UserHistory(
        tz="Europe/Paris",
        completions=[
            TaskCompletion(task_key="a", completed_at=before),
            TaskCompletion(task_key="b", completed_at=after),
        ],
    )
    frame = build_frame(history, NOW)
    assert frame.hour.tolist() == [8, 8]
    assert frame.weekday.tolist() == [5, 0]  # Saturday, Monday


def test_cleaning_drops_duplicates_future_and_ancient_events() -> None:
    frame = build_frame(make_garbage_history(3, end=NOW), NOW)
    # 50 copies of one event → 1; 30 future and 30 from 1971 dropped; 5 recent kept.
    assert frame.size == 6
    assert frame.tz == "Not/AZone"
    assert np.all(np.diff(frame.t) >= 0)


def test_a_recurring_task_keeps_every_occurrence() -> None:
    occurrences = [
        TaskCompletion(task_key="habit", completed_at=NOW - timedelta(days=d), recurring=True)
        for d in range(1, 6)
    ]
    assert build_frame(UserHistory(completions=occurrences), NOW).size == 5


def test_lateness_counts_local_days() -> None:
    paris = ZoneInfo("Europe/Paris")
    due = datetime(2026, 5, 10, tzinfo=paris)
    done = datetime(2026, 5, 12, 0, 30, tzinfo=paris)  # 22:30 UTC on the 11th
    history = UserHistory(
        tz="Europe/Paris", completions=[TaskCompletion(task_key="x", completed_at=done, due_at=due)]
    )
    assert build_frame(history, NOW).lateness_days.tolist() == [2.0]


def test_the_frame_is_cached_per_now() -> None:
    history = UserHistory(completions=[TaskCompletion(task_key="x", completed_at=NOW)])
    first = frame_of(history, NOW)
    assert frame_of(history, NOW) is first
    assert frame_of(history, NOW + timedelta(hours=1)) is not first


def test_project_codes_index_sorted_keys() -> None:
    history = UserHistory(
        completions=[
            TaskCompletion(task_key="1", project_key="zeta", completed_at=NOW - timedelta(hours=3)),
            TaskCompletion(task_key="2", project_key=None, completed_at=NOW - timedelta(hours=2)),
            TaskCompletion(
                task_key="3", project_key="alpha", completed_at=NOW - timedelta(hours=1)
            ),
        ]
    )
    frame = build_frame(history, NOW)
    assert frame.project_keys == ["alpha", "zeta"]
    assert frame.project.tolist() == [1, -1, 0]
