"""TodoistClient against the fake Todoist over real loopback HTTP."""

import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.todoist import (
    RETRY_AFTER_CAP,
    TodoistClient,
    new_todoist_http,
    parse_due,
    parse_time,
    retry_after,
    user_zone,
)
from contracts.errors import (
    PROVIDER_BAD_REQUEST,
    PROVIDER_RATE_LIMITED,
    PROVIDER_UNAUTHORIZED,
    PROVIDER_UNAVAILABLE,
)
from tests.fakes.todoist import FakeTodoist, all_day, fake_todoist, fixed, floating

TOKEN = "tdt-secret-7f3a9c1e5b2d4086"
JOINED = datetime(2025, 1, 6, 8, 30, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTodoist]:
    async with fake_todoist() as f:
        yield f


@pytest.fixture
async def client(fake: FakeTodoist) -> AsyncIterator[TodoistClient]:
    async with new_todoist_http(timeout_s=0.5) as http:
        yield TodoistClient(http, api_base=fake.api_base)


async def test_active_tasks_follow_the_cursor_with_identical_parameters(
    fake: FakeTodoist, client: TodoistClient
) -> None:
    acct = fake.account(token=TOKEN)
    for i in range(450):
        acct.task(f"task {i}")
    tasks = await client.active_tasks(TOKEN)
    assert [t["id"] for t in tasks] == [t["id"] for t in acct.tasks]
    calls = fake.calls_to("/api/v1/tasks")
    assert len(calls) == 3 and "cursor" not in calls[0].query
    assert all(c.query["limit"] == "200" for c in calls)
    assert all(c.query.get("cursor") for c in calls[1:])


async def test_pages_that_repeat_items_are_deduplicated_by_id(
    fake: FakeTodoist, client: TodoistClient
) -> None:
    acct = fake.account(token=TOKEN)
    for i in range(5):
        acct.project(f"project {i}")
    fake.overlap_pages = True
    for i in range(400):
        acct.task(f"task {i}")
    tasks = await client.active_tasks(TOKEN)
    projects = await client.projects(TOKEN)
    assert len(fake.calls_to("/api/v1/tasks")) == 3  # 200, then 199 + 1 new, then the rest
    assert len(tasks) == len({t["id"] for t in tasks}) == 400
    assert len(projects) == 6


async def test_completed_items_are_walked_in_windows_of_at_most_three_months(
    fake: FakeTodoist, client: TodoistClient
) -> None:
    acct = fake.account(token=TOKEN, joined_at=JOINED)
    until = JOINED + timedelta(days=400)
    ats = [JOINED + timedelta(days=d, hours=3) for d in range(0, 400, 9)]
    # One completion exactly on a window boundary: both windows hold it, it is read once.
    ats.append(JOINED + timedelta(days=89))
    for at in ats:
        acct.complete("done", at=at)
    items = [
        i async for page in client.completed_pages(TOKEN, since=JOINED, until=until) for i in page
    ]
    assert sorted(parse_time(i["completed_at"]) for i in items) == sorted(ats)
    calls = fake.calls_to("/api/v1/tasks/completed/by_completion_date")
    windows = [(parse_time(c.query["since"]), parse_time(c.query["until"])) for c in calls]
    assert len(windows) == 5 and windows[0][0] == JOINED and windows[-1][1] == until
    assert all(c.query["since"].endswith("Z") and c.query["until"].endswith("Z") for c in calls)
    assert all(b - a <= timedelta(days=89) for a, b in windows)


async def test_completion_events_stop_at_since(fake: FakeTodoist, client: TodoistClient) -> None:
    acct = fake.account(token=TOKEN)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    task = acct.recurring(
        "Stretch",
        due=all_day(date(2026, 3, 2)),
        completions=[now - timedelta(hours=h) for h in range(0, 1000, 4)],
    )
    since = now - timedelta(hours=150)
    events = [e async for p in client.completion_event_pages(TOKEN, since=since) for e in p]
    assert len(events) == 38 and {e["object_id"] for e in events} == {task["id"]}
    calls = fake.calls_to("/api/v1/activities")
    assert len(calls) == 1 and calls[0].query["object_event_types"] == '["item:completed"]'
    assert calls[0].query["limit"] == "100"


async def test_429_retries_after_the_providers_delay(
    fake: FakeTodoist, client: TodoistClient
) -> None:
    fake.account(token=TOKEN)
    fake.fail_with(429, retry_after=66)
    with pytest.raises(ApplicationError) as caught:
        await client.user(TOKEN)
    err = caught.value
    assert err.type == PROVIDER_RATE_LIMITED and not err.non_retryable
    assert err.next_retry_delay == timedelta(seconds=66)
    assert (await client.user(TOKEN))["tz_info"]["timezone"] == "UTC"


def test_retry_after_reads_the_header_then_error_extra_and_caps() -> None:
    req = httpx.Request("GET", "https://api.todoist.com/api/v1/user")
    extra = {"error": "Too many", "error_extra": {"retry_after": 12}, "http_code": 429}
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    date_header = {"Retry-After": "Thu, 01 Jan 2026 12:00:30 GMT"}
    assert retry_after(httpx.Response(429, json=extra, request=req)) == timedelta(seconds=12)
    assert retry_after(httpx.Response(429, headers=date_header, request=req), now=now) == (
        timedelta(seconds=30)
    )
    assert retry_after(httpx.Response(429, headers={"Retry-After": "99999"}, request=req)) == (
        RETRY_AFTER_CAP
    )
    assert retry_after(httpx.Response(429, text="<html>", request=req)) is None


@pytest.mark.parametrize("status", [401, 403])
async def test_unauthorized_is_not_retried(
    fake: FakeTodoist, client: TodoistClient, status: int
) -> None:
    fake.account(token=TOKEN)
    fake.fail_with(status)
    with pytest.raises(ApplicationError) as caught:
        await client.projects(TOKEN)
    assert caught.value.type == PROVIDER_UNAUTHORIZED and caught.value.non_retryable


async def test_revoked_token_is_unauthorized(fake: FakeTodoist, client: TodoistClient) -> None:
    with pytest.raises(ApplicationError) as caught:
        await client.user("tdt-never-issued")
    assert caught.value.type == PROVIDER_UNAUTHORIZED and caught.value.non_retryable


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retried(
    fake: FakeTodoist, client: TodoistClient, status: int
) -> None:
    fake.account(token=TOKEN)
    fake.fail_with(status)
    with pytest.raises(ApplicationError) as caught:
        await client.active_tasks(TOKEN)
    assert caught.value.type == PROVIDER_UNAVAILABLE and not caught.value.non_retryable


async def test_slow_answers_time_out_as_retryable(fake: FakeTodoist, client: TodoistClient) -> None:
    fake.account(token=TOKEN)
    fake.slow(3.0)
    with pytest.raises(ApplicationError) as caught:
        await client.user(TOKEN)
    assert caught.value.type == PROVIDER_UNAVAILABLE and not caught.value.non_retryable


async def test_other_client_errors_are_not_retried(
    fake: FakeTodoist, client: TodoistClient
) -> None:
    fake.account(token=TOKEN)
    fake.fail_with(400)
    with pytest.raises(ApplicationError) as caught:
        await client.active_tasks(TOKEN)
    assert caught.value.type == PROVIDER_BAD_REQUEST and caught.value.non_retryable
    assert "INVALID_ARGUMENT_VALUE" in str(caught.value)


async def test_the_token_is_in_no_error_and_no_log(
    fake: FakeTodoist, client: TodoistClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.account(token=TOKEN)
    for status in (429, 401, 404, 500):
        fake.fail_with(status, retry_after=5 if status == 429 else None)
    fake.slow(3.0)
    errors: list[BaseException] = []
    for _ in range(5):
        with pytest.raises(ApplicationError) as caught:
            await client.user(TOKEN)
        chain: BaseException | None = caught.value
        while chain is not None:
            errors.append(chain)
            chain = chain.__cause__ or chain.__context__
    assert len(errors) >= 5
    text = " ".join(f"{e!s} {e!r} {getattr(e, 'details', '')}" for e in errors)
    assert TOKEN not in text
    assert caplog.records and TOKEN not in caplog.text


def test_due_forms_map_to_utc_in_the_persons_zone() -> None:
    day = all_day(date(2026, 1, 15))
    local = floating(datetime(2026, 7, 1, 18, 30))
    pinned = fixed(datetime(2026, 7, 1, 16, 0, tzinfo=UTC), timezone="America/New_York")
    assert parse_due(day, BERLIN) == (datetime(2026, 1, 14, 23, 0, tzinfo=UTC), True)
    assert parse_due(local, BERLIN) == (datetime(2026, 7, 1, 16, 30, tzinfo=UTC), False)
    assert parse_due(pinned, BERLIN) == (datetime(2026, 7, 1, 16, 0, tzinfo=UTC), False)
    assert parse_due(None, BERLIN) == (None, True)
    assert parse_time("2026-01-10T09:00:00Z") == parse_time("2026-01-10T09:00:00.000000Z")


def test_user_zone_accepts_iana_names_and_offsets() -> None:
    assert user_zone({"tz_info": {"timezone": "Europe/Berlin"}}) == BERLIN
    offset = user_zone({"tz_info": {"timezone": "UTC+05:30"}})
    assert offset.utcoffset(None) == timedelta(hours=5, minutes=30)
    assert user_zone({"tz_info": {"timezone": "Mars/Olympus"}}) == UTC
    assert user_zone({}) == UTC
