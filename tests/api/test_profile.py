"""GET /api/profile and PATCH /api/profile/consents (RELIABILITY F4: only the caller's data)."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agents import all_agents
from agents.registry import eligible
from core.settings import Settings
from store import integrations, users
from store.models import AgentOutput, Context, TaskCompletion, UserPreference
from tests.api.conftest import Login, serve
from tests.factories import count_rows, store_tokens

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


async def a_user(sessions: async_sessionmaker[AsyncSession], tag: str) -> uuid.UUID:
    """A user with Todoist history, an agent output, preferences of both sources, a context."""
    async with sessions.begin() as db:
        user = await users.create_user(
            db, display_name=f"name-{tag}", tz="Europe/Paris", consents=("todoist.read",)
        )
        db.add(TaskCompletion(user_id=user.id, source="todoist", task_key=tag, completed_at=NOW))
        db.add(
            AgentOutput(
                user_id=user.id,
                agent_id="momentum",
                agent_version="1",
                snippet={"text": tag},
                computed_at=NOW,
                expires_at=NOW + timedelta(days=1),
            )
        )
        db.add_all(
            [
                UserPreference(
                    user_id=user.id, scope="momentum", key="trend", value=tag, source="inferred"
                ),
                UserPreference(
                    user_id=user.id, scope="time-of-day", key="quiet_start", value=22, source="user"
                ),
                Context(user_id=user.id, kind="travel", value={"where": tag}),
            ]
        )
    return user.id


async def test_the_profile_holds_the_callers_data_and_nobody_elses(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me, other = await a_user(sessions, "mine"), await a_user(sessions, "theirs")
    async with serve(make_app(offline_settings)) as client:
        anonymous = await client.get("/api/profile")
        await login(client, me)
        res = await client.get("/api/profile")
    assert anonymous.status_code == 401
    assert res.status_code == 200
    body = res.json()
    assert body["user_id"] == str(me) and body["tz"] == "Europe/Paris"
    assert body["consents"] == {"todoist.read": True}
    assert body["preferences"] == {
        "momentum": {"trend": {"value": "mine", "source": "inferred"}},
        "time-of-day": {"quiet_start": {"value": 22, "source": "user"}},
    }
    assert [c["value"] for c in body["contexts"]] == [{"where": "mine"}]
    assert "theirs" not in res.text and str(other) not in res.text


async def test_revoking_todoist_stops_its_use_and_erases_what_came_from_it(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me, other = await a_user(sessions, "mine"), await a_user(sessions, "theirs")
    async with serve(make_app(offline_settings)) as client:
        await login(client, me)
        res = await client.patch("/api/profile/consents", json={"todoist.read": False})
        profile = (await client.get("/api/profile")).json()
    assert res.status_code == 200 and res.json() == {"consents": {"todoist.read": False}}
    async with sessions() as db:
        granted = await users.granted_consents(db, user_id=me)
    assert not any("todoist.read" in a.manifest.consents for a in eligible(all_agents(), granted))
    assert await count_rows(sessions, TaskCompletion, TaskCompletion.user_id == me) == 0
    assert await count_rows(sessions, AgentOutput, AgentOutput.user_id == me) == 0
    # The user's own preference stays; the inferred one of a Todoist agent goes.
    assert profile["preferences"] == {
        "time-of-day": {"quiet_start": {"value": 22, "source": "user"}}
    }
    for model in (TaskCompletion, AgentOutput):
        assert await count_rows(sessions, model, model.user_id == other) == 1


async def test_unknown_consent_names_are_refused_and_change_nothing(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me = await a_user(sessions, "mine")
    async with serve(make_app(offline_settings)) as client:
        await login(client, me)
        res = await client.patch(
            "/api/profile/consents", json={"todoist.read": False, "<script>x": True}
        )
        not_bool = await client.patch("/api/profile/consents", json={"todoist.read": "maybe"})
        # A key of a free mapping is the caller's input too: never echoed in the location.
        canary = await client.patch("/api/profile/consents", json={"CANARY-KEY-7f3": "maybe"})
    assert res.status_code == 422 and "<script>" not in res.text
    assert canary.status_code == 422 and "CANARY" not in canary.text
    assert "body" in canary.json()["detail"]
    assert res.headers["content-type"].startswith("application/problem+json")
    assert not_bool.status_code == 422
    assert await count_rows(sessions, TaskCompletion, TaskCompletion.user_id == me) == 1
    async with sessions() as db:
        assert await users.granted_consents(db, user_id=me) == {"todoist.read"}


async def test_the_profile_says_which_integrations_are_connected_and_in_what_state(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me, other = await a_user(sessions, "mine"), await a_user(sessions, "theirs")
    await store_tokens(sessions, user_id=me, provider="todoist", access="tok-mine")
    await store_tokens(sessions, user_id=me, provider="google", access="g-mine")
    await store_tokens(sessions, user_id=other, provider="todoist", access="tok-theirs")
    async with sessions.begin() as db:
        await integrations.set_status(
            db, user_id=me, provider="google", status="reconnect_required"
        )
    async with serve(make_app(offline_settings)) as client:
        await login(client, other)
        theirs = (await client.get("/api/profile")).json()
        await login(client, me)
        mine = (await client.get("/api/profile")).json()
    assert mine["integrations"] == {"todoist": "active", "google": "reconnect_required"}
    assert theirs["integrations"] == {"todoist": "active"}
    assert "tok-" not in str(mine) + str(theirs)
