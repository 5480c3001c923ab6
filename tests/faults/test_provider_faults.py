"""Todoist failing under a running recompute: 429 waits its Retry-After, 5xx backs off, a hang
times out; then the sync completes with every completion stored exactly once.

The activity level (tests/activities/test_todoist.py) checks how each answer is translated
(error type, retryable, `next_retry_delay`); here the real dev server runs the retries.
"""

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities.todoist import new_todoist_http
from agents import all_agents
from contracts.compute import RecomputeInput
from contracts.temporal import SYNC_TODOIST_HISTORY, recompute_workflow_id
from store.models import AgentOutput, TaskCompletion
from tests.factories import count_rows
from tests.faults.builders import COMPLETED_PATH, COMPLETIONS, sync_deps, todoist_user
from tests.faults.checks import activity_runs
from tests.faults.gates import GatedTodoist
from worker import build_worker
from workflows.calls import DATABASE_RETRY
from workflows.client import start_recompute

RETRY_AFTER_S = 2
HTTP_TIMEOUT_S = 1.0
# Slack for a retry's hand-offs (Temporal, the token read) on a busy 2-core machine.
SLACK_S = 3.0
API = "/api/v1"


@pytest.fixture
async def todoist() -> AsyncIterator[GatedTodoist]:
    async with GatedTodoist() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # The production client with a short read timeout, so that a hang costs a second.
    client = new_todoist_http(timeout_s=HTTP_TIMEOUT_S)
    yield client
    await client.aclose()


def retry_gaps(stamps: list[tuple[float, str]], after: str) -> list[float]:
    """Seconds from each `after` stamp to the next attempt's first request (`/user`)."""
    gaps = []
    for i, (at, what) in enumerate(stamps):
        if what == after:
            later = [t for t, w in stamps[i + 1 :] if w == f"{API}/user"]
            gaps.append(later[0] - at if later else float("inf"))
    return gaps


def inject(todoist: GatedTodoist, fault: str) -> None:
    """The fault hits the second page of completed items: the first is stored already."""
    path = f"{API}{COMPLETED_PATH}"
    if fault == "hang":
        todoist.gate(COMPLETED_PATH, nth=2)  # never opened: answered only at teardown
        return
    todoist.slow(0.0, path=path)  # faults apply in order, one a request: the first passes
    if fault == "429":
        todoist.fail_with(429, retry_after=RETRY_AFTER_S, path=path)
    else:
        todoist.fail_with(503, times=2, path=path)


@pytest.mark.parametrize("fault", ["429", "503", "hang"])
async def test_a_recompute_rides_out_provider_faults(
    sqlite_sessions: async_sessionmaker[AsyncSession],
    dev_client: Client,
    task_queue: str,
    todoist: GatedTodoist,
    http: httpx.AsyncClient,
    fault: str,
) -> None:
    user_id = await todoist_user(sqlite_sessions, todoist, token="tok-faults")
    inject(todoist, fault)
    deps = sync_deps(sqlite_sessions, todoist, http=http)
    started = time.monotonic()
    async with build_worker(dev_client, deps, task_queue=task_queue):
        await start_recompute(dev_client, RecomputeInput(user_id=user_id), task_queue=task_queue)
    elapsed = time.monotonic() - started
    handle = dev_client.get_workflow_handle(recompute_workflow_id(user_id))
    [sync] = await activity_runs(handle, SYNC_TODOIST_HISTORY)
    first = DATABASE_RETRY.initial_interval.total_seconds()
    if fault == "429":
        gaps = retry_gaps(todoist.stamps, "429")
        assert len(gaps) == 1 and RETRY_AFTER_S <= gaps[0] < RETRY_AFTER_S + SLACK_S
        assert sync.attempt == 2  # after Retry-After, not after the 0.2 s backoff
    elif fault == "503":
        gaps = retry_gaps(todoist.stamps, "503")
        backoff = [first, first * DATABASE_RETRY.backoff_coefficient]
        assert len(gaps) == 2
        assert all(b <= g < b + SLACK_S for g, b in zip(gaps, backoff, strict=True))
        assert sync.attempt == 3
    else:
        # From the held request (the second to the completed items) to the retry.
        gaps = retry_gaps(todoist.stamps, f"{API}{COMPLETED_PATH}")[1:2]
        assert HTTP_TIMEOUT_S <= gaps[0] < HTTP_TIMEOUT_S + first + SLACK_S
        assert sync.attempt == 2
    waits = ", ".join(f"{g:.2f}" for g in gaps)
    print(f"\nTodoist {fault}: retried after {waits} s; attempt {sync.attempt}; {elapsed:.2f} s")
    assert sync.completed
    assert await count_rows(sqlite_sessions, TaskCompletion) == COMPLETIONS
    assert await count_rows(sqlite_sessions, AgentOutput) == len(all_agents())
