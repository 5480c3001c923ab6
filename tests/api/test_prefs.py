"""PATCH /api/profile/prefs/{scope}: the person's own values of an agent's declared params."""

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from store import users
from store.models import UserPreference
from tests.api.conftest import Login, serve
from tests.factories import persona_user

QUIET = "/api/profile/prefs/time-of-day"
Row = tuple[str, str, str, str]


async def rows(sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID) -> set[Row]:
    """The user's preferences as (scope, key, value as JSON, source)."""
    async with sessions() as db:
        found = await db.scalars(select(UserPreference).where(UserPreference.user_id == user_id))
        return {row(p.scope, p.key, p.value, p.source) for p in found}


def row(scope: str, key: str, value: Any, source: str) -> Row:
    return scope, key, json.dumps(value, sort_keys=True), source


async def with_inferred(sessions: async_sessionmaker[AsyncSession], seed: int) -> uuid.UUID:
    """A user whose time-of-day agent inferred a quiet window."""
    user_id = await persona_user(sessions, seed=seed)
    async with sessions.begin() as db:
        await users.write_inferred(
            db, user_id=user_id, scope="time-of-day", values={"quiet_start": 23, "quiet_end": 6}
        )
    return user_id


async def test_quiet_hours_are_the_users_own_and_null_gives_the_inference_back(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me = await with_inferred(sessions, 1)
    async with serve(make_app(offline_settings)) as client:
        anonymous = await client.patch(QUIET, json={"quiet_start": 22})
        await login(client, me)
        res = await client.patch(QUIET, json={"quiet_start": 22, "quiet_end": 7})
        profile = (await client.get("/api/profile")).json()
        async with sessions.begin() as db:  # the agent's next inference cannot overwrite it
            await users.write_inferred(
                db, user_id=me, scope="time-of-day", values={"quiet_start": 1, "quiet_end": 5}
            )
        reset = await client.patch(QUIET, json={"quiet_start": None})
    assert anonymous.status_code == 401
    assert res.status_code == 200, res.text
    assert res.json() == {
        "scope": "time-of-day",
        "preferences": {
            "quiet_start": {"value": 22, "source": "user"},
            "quiet_end": {"value": 7, "source": "user"},
        },
    }
    assert profile["preferences"]["time-of-day"] == res.json()["preferences"]
    # null drops the user's value; the other one stays the user's.
    assert reset.json()["preferences"] == {"quiet_end": {"value": 7, "source": "user"}}
    async with sessions.begin() as db:
        effective = await users.write_inferred(
            db, user_id=me, scope="time-of-day", values={"quiet_start": 0, "quiet_end": 5}
        )
    assert effective == {"quiet_start": 0, "quiet_end": 7}


@pytest.mark.parametrize(
    ("scope", "body", "status"),
    [
        ("no-such-agent", {"quiet_start": 22}, 404),
        ("time-of-day", {"loudness": 3}, 422),
        ("time-of-day", {"quiet_start": 24}, 422),
        ("time-of-day", {"quiet_start": -1}, 422),
        ("time-of-day", {"quiet_start": "22"}, 422),
        ("time-of-day", {"quiet_start": 7.5}, 422),
        ("time-of-day", {"quiet_start": True}, 422),
        ("time-of-day", {"peak_hours": [9, 30]}, 422),
        ("time-of-day", {"quiet_start": 22, "quiet_end": [7]}, 422),
        ("momentum", {"engagement_trend": "sideways"}, 422),
        ("momentum", {"stdev": -1.0}, 422),
        ("recent-patterns", {"lookback_days": 10**30}, 422),
        ("recent-patterns", {"weekly_cycle": 1}, 422),
        ("focus-area", {"preferred_areas": "work"}, 422),
        ("overdue-task", {"project_realness": {"p": [1]}}, 422),
    ],
)
async def test_unknown_scopes_keys_and_values_change_nothing(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
    scope: str,
    body: dict[str, Any],
    status: int,
) -> None:
    me = await with_inferred(sessions, 1)
    before = await rows(sessions, me)
    async with serve(make_app(offline_settings)) as client:
        await login(client, me)
        res = await client.patch(f"/api/profile/prefs/{scope}", json=body)
    assert res.status_code == status
    assert res.headers["content-type"] == "application/problem+json"
    assert await rows(sessions, me) == before


async def test_a_refused_value_is_never_echoed(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me = await with_inferred(sessions, 1)
    canary = "CANARY-91c2-prefs"
    async with serve(make_app(offline_settings)) as client:
        await login(client, me)
        bad_value = await client.patch(QUIET, json={"quiet_start": canary})
        bad_key = await client.patch(QUIET, json={canary: 1})
        not_object = await client.patch(QUIET, json=[canary])
    for res in (bad_value, bad_key, not_object):
        assert res.status_code == 422
        assert canary not in res.text


async def test_values_of_every_declared_type_are_kept(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me = await persona_user(sessions)
    edits: dict[str, dict[str, Any]] = {
        "momentum": {"engagement_trend": "up", "stdev": 1, "baseline_completions_per_day": 2.5},
        "recent-patterns": {"lookback_days": 28, "weekly_cycle": True},
        "focus-area": {"preferred_areas": ["work", "home"]},
        "overdue-task": {"project_realness": {"p1": True}, "lateness_tolerance_days": 2},
        "time-of-day": {"peak_hours": [9, 10], "tz": "Europe/Paris"},
    }
    async with serve(make_app(offline_settings)) as client:
        await login(client, me)
        answers = {
            s: await client.patch(f"/api/profile/prefs/{s}", json=b) for s, b in edits.items()
        }
    assert {s: r.status_code for s, r in answers.items()} == dict.fromkeys(edits, 200)
    assert await rows(sessions, me) == {
        row(scope, key, value, "user")
        for scope, body in edits.items()
        for key, value in body.items()
    }


async def test_an_edit_touches_the_callers_preferences_only(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me, other = await with_inferred(sessions, 1), await with_inferred(sessions, 2)
    theirs = await rows(sessions, other)
    async with serve(make_app(offline_settings)) as client:
        await login(client, me)
        assert (await client.patch(QUIET, json={"quiet_start": 21})).status_code == 200
        assert (await client.patch(QUIET, json={"quiet_end": None})).status_code == 200
    assert await rows(sessions, other) == theirs
    assert row("time-of-day", "quiet_start", 21, "user") in await rows(sessions, me)
