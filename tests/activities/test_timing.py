from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from activities.tips import in_window, next_local_hour, timing

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("hour", "start", "end", "inside"),
    [
        (23, 22, 7, True),
        (3, 22, 7, True),
        (7, 22, 7, False),
        (12, 22, 7, False),
        (13, 13, 15, True),
        (15, 13, 15, False),
        (5, 5, 5, False),
    ],
)
def test_quiet_windows_may_wrap_midnight(hour: int, start: int, end: int, inside: bool) -> None:
    assert in_window(hour, start, end) is inside


def test_the_next_tip_is_after_quiet_hours_or_at_the_best_hour() -> None:
    night = datetime(2026, 3, 29, 1, 30, tzinfo=PARIS)  # the night of the DST change
    assert timing({"quiet_start": 23, "quiet_end": 7}, night) == (
        True,
        datetime(2026, 3, 29, 7, 0, tzinfo=PARIS),
    )
    afternoon = datetime(2026, 3, 30, 15, 10, tzinfo=PARIS)
    quiet, at = timing({"quiet_start": 23, "quiet_end": 7, "preferred_hour": 9}, afternoon)
    assert not quiet and at == datetime(2026, 3, 31, 9, 0, tzinfo=PARIS)
    assert next_local_hour(afternoon, 16) == datetime(2026, 3, 30, 16, 0, tzinfo=PARIS)
