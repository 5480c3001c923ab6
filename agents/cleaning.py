"""History cleaning shared by the day-level agents: bursts collapse, time away is set aside."""

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

WEEK = 7
# Five or more completions, each within 3 minutes of the last, are one sitting (a backlog
# ticked off), not five signs of engagement.
BURST_GAP_S = 180.0
BURST_MIN = 5
NEIGHBOUR_DAYS = 14
AWAY_EXPECTED = 6.0  # a run of empty days this improbable (P < 0.25 %) is time away


def burst_followers(t: F64) -> B:
    """Completions after the first of a burst: five or more, each within 3 min of the last."""
    if t.size == 0:
        return np.zeros(0, dtype=bool)
    starts = np.concatenate([[True], np.diff(t) > BURST_GAP_S])
    cluster = np.cumsum(starts) - 1
    followers: B = ~starts & (np.bincount(cluster)[cluster] >= BURST_MIN)
    return followers


def weekday_factors(count: F64, weekday: I64) -> F64:
    """Each weekday's mean relative to the overall mean, floored so no day is impossible."""
    days = np.bincount(weekday, minlength=WEEK)
    total = np.bincount(weekday, weights=count, minlength=WEEK)
    overall = total.sum() / max(int(days.sum()), 1)
    if overall <= 0:
        return np.ones(WEEK)
    return np.maximum(np.where(days > 0, total / np.maximum(days, 1) / overall, 1.0), 0.02)


def away_days(count: F64, exposure: F64) -> B:
    """Days in runs of nothing that the rate around them makes improbable: time away."""
    n = count.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    edges = np.diff(np.concatenate([[0], (count == 0).astype(np.int8), [0]]))
    start, end = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    c = np.concatenate([[0.0], np.cumsum(count)])
    w = np.concatenate([[0.0], np.cumsum(exposure)])
    lo, hi = np.maximum(start - NEIGHBOUR_DAYS, 0), np.minimum(end + NEIGHBOUR_DAYS, n)
    run = w[end] - w[start]
    rate = (c[hi] - c[lo]) / np.maximum(w[hi] - w[lo] - run, 1e-9)
    away = rate * run >= AWAY_EXPECTED
    marks = np.zeros(n + 1)
    marks[start[away]] = 1.0  # runs are separated by active days, so marks never collide
    marks[end[away]] = -1.0
    return np.cumsum(marks)[:-1] > 0
