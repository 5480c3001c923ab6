"""GET /api/agents/registry and POST /api/agents/{agent_id}/compute."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities import ActivityDeps
from agents import all_agents
from core.settings import Settings
from store import agent_outputs, users
from tests.api.conftest import Login, serve
from tests.factories import persona_user
from worker import build_worker

FIVE = {"time-of-day", "momentum", "overdue-task", "recent-patterns", "focus-area"}


async def test_the_registry_lists_every_agents_manifest(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me = await persona_user(sessions)
    async with serve(make_app(offline_settings)) as client:
        anonymous = await client.get("/api/agents/registry")
        await login(client, me)
        res = await client.get("/api/agents/registry")
    assert anonymous.status_code == 401
    assert res.status_code == 200
    manifests = {a["manifest"]["id"]: a["manifest"] for a in res.json()}
    assert set(manifests) == FIVE
    hours = {p["key"]: p for p in manifests["time-of-day"]["inferred"]}
    assert (hours["quiet_start"]["minimum"], hours["quiet_start"]["maximum"]) == (0, 23)
    assert manifests["momentum"]["consents"] == ["todoist.read"]


async def test_computing_an_unknown_agent_or_one_without_consent_is_refused(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    async with sessions.begin() as db:
        no_consent = (await users.create_user(db, display_name=None)).id
    async with serve(make_app(offline_settings)) as client:
        anonymous = await client.post("/api/agents/time-of-day/compute")
        await login(client, no_consent)
        unknown = await client.post("/api/agents/no-such-agent/compute")
        refused = await client.post("/api/agents/time-of-day/compute")
    assert anonymous.status_code == 401
    assert unknown.status_code == 404
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    async with sessions() as db:
        found = await agent_outputs.latest_output(db, user_id=no_consent, agent_id="time-of-day")
    assert found is None


async def test_computing_an_agent_runs_the_recompute_and_answers_its_output(
    make_app: Callable[..., FastAPI],
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    dev_client: Client,
    login: Login,
) -> None:
    me, other = await persona_user(sessions), await persona_user(sessions, seed=2)
    deps = ActivityDeps(sessions=sessions, agents=all_agents(), tip_ttl=timedelta(hours=1))
    started = datetime.now(UTC) - timedelta(seconds=1)
    async with (
        build_worker(dev_client, deps, task_queue=app_settings.task_queue),
        serve(make_app(app_settings, dev_client)) as client,
    ):
        await login(client, me)
        res = await client.post("/api/agents/time-of-day/compute")
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["agent_id"] == "time-of-day"
    assert datetime.fromisoformat(body["computed_at"]) >= started
    assert body["snippet"]["agent_id"] == "time-of-day" and body["snippet"]["text"]
    async with sessions() as db:
        stored = await agent_outputs.latest_output(db, user_id=me, agent_id="time-of-day")
        theirs = await agent_outputs.latest_output(db, user_id=other, agent_id="time-of-day")
        others = await agent_outputs.latest_output(db, user_id=me, agent_id="momentum")
    assert stored is not None and stored.model_dump(mode="json") == body
    assert theirs is None and others is None  # that agent, for the caller only
