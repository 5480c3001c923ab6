"""Connecting and disconnecting Todoist against the fake Todoist (and the fake OpenID provider
for sign-in) on loopback; Temporal is the real dev server or a closed port (RELIABILITY B1, B3,
B8, C1, F4, G2)."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus

from activities import ActivityDeps, OAuthClientConfig
from agents import all_agents
from contracts.temporal import recompute_workflow_id, token_refresh_workflow_id
from core.crypto import KeyRing
from core.settings import Settings
from core.vault import TokenVault
from store import integrations, users
from store.integrations import Tokens
from store.models import TaskCompletion, TipDecision
from tests.api.conftest import (
    MASTER_KEYS,
    Login,
    at_provider,
    query_of,
    serve,
    sign_in,
    with_providers,
)
from tests.factories import raw_database_bytes
from tests.fakes.oidc import FakeOIDC
from tests.fakes.todoist import FakeTodoist
from worker import build_worker
from workflows.token_refresh import TokenRefreshWorkflow

VAULT = TokenVault(KeyRing.parse(MASTER_KEYS))
CALLBACK = "http://127.0.0.1:8000/integrations/todoist/callback"


async def tokens_of(
    sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID
) -> Tokens | None:
    async with sessions() as db:
        return await integrations.load_tokens(db, user_id=user_id, provider="todoist", vault=VAULT)


async def user_with_todoist(
    sessions: async_sessionmaker[AsyncSession], token: str | None = None
) -> uuid.UUID:
    """A user whose Todoist token is stored (as a connect leaves it)."""
    async with sessions.begin() as db:
        user = await users.create_user(db, display_name=None)
        if token is not None:
            await integrations.save_tokens(
                db,
                user_id=user.id,
                provider="todoist",
                vault=VAULT,
                access_token=token,
                refresh_token=None,
                expires_at=None,
                scopes="data:read",
            )
    return user.id


def worker_deps(sessions: async_sessionmaker[AsyncSession], todoist: FakeTodoist) -> ActivityDeps:
    client = OAuthClientConfig(
        client_id=todoist.client_id,
        client_secret=SecretStr(todoist.client_secret),
        revoke_url=f"{todoist.api_base}/revoke",
        revoke_auth="client_secret_basic",
    )
    return ActivityDeps(
        sessions=sessions,
        agents=all_agents(),
        tip_ttl=timedelta(hours=1),
        vault=VAULT,
        oauth_clients={"todoist": client},
        todoist_api_base=todoist.api_base,
        hash_salt=b"integration-test-salt",
    )


async def connect(client: httpx.AsyncClient) -> httpx.Response:
    """The browser's way through connecting Todoist; the app's answer to the callback."""
    start = await client.get("/integrations/todoist/connect")
    assert start.status_code == 302, start.text
    return await client.get(await at_provider(start.headers["location"]))


# --- B1 -------------------------------------------------------------------------------------------


async def test_connecting_needs_a_signed_in_user(
    make_app: Callable[..., FastAPI], oauth_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        res = await client.get("/integrations/todoist/connect")
    assert res.status_code == 401


async def test_connect_sends_state_pkce_s256_and_todoist_scopes(
    make_app: Callable[..., FastAPI], oauth_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        await sign_in(client)
        first = await client.get("/integrations/todoist/connect", headers={"host": "evil.example"})
        second = await client.get("/integrations/todoist/connect")
    a, b = query_of(first.headers["location"]), query_of(second.headers["location"])
    assert first.headers["location"].startswith(oauth_settings.todoist_authorize_url + "?")
    for q in (a, b):
        assert q["scope"] == "data:read"
        assert q["code_challenge_method"] == "S256"
        assert q["redirect_uri"] == CALLBACK
        assert "nonce" not in q
    assert a["state"] != b["state"] and a["code_challenge"] != b["code_challenge"]


# --- the whole path: login → connect → tokens sealed → workflows → disconnect revokes ------------


async def test_login_then_connect_stores_the_token_encrypted_and_disconnect_revokes_it(
    make_app: Callable[..., FastAPI],
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    dev_client: Client,
    idp: FakeOIDC,
    todoist: FakeTodoist,
) -> None:
    settings = with_providers(app_settings, idp, todoist)
    todoist.authorize_as = account = todoist.account(timezone="Europe/Paris")
    home = account.project("Home")
    now = datetime.now(UTC)
    for day in range(1, 21):  # three weeks of ticking things off at breakfast
        account.complete(f"Water plants {day}", at=now - timedelta(days=day, hours=2), project=home)
    before = set(todoist.tokens)
    async with (
        build_worker(dev_client, worker_deps(sessions, todoist), task_queue=settings.task_queue),
        serve(make_app(settings, dev_client)) as client,
    ):
        await sign_in(client)
        user_id = uuid.UUID((await client.get("/api/auth/session")).json()["user_id"])
        done = await connect(client)
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/?todoist=connected"
        (issued,) = set(todoist.tokens) - before
        assert todoist.tokens[issued] is account
        token_form = todoist.calls_to("/oauth/access_token")[0].body
        assert token_form["client_secret"] == todoist.client_secret  # client_secret_post
        assert "authorization" not in todoist.calls_to("/oauth/access_token")[0].headers

        stored = await tokens_of(sessions, user_id)
        assert stored is not None and stored.access_token.get_secret_value() == issued
        assert (stored.status, stored.refresh_token, stored.expires_at) == ("active", None, None)
        views = await raw_database_bytes(sessions, database_url)
        everything = b"".join(views)
        assert user_id.hex.encode() in everything or str(user_id).encode() in everything
        for raw in views:  # the file (SQLite), or the rows and a pg_dump (PostgreSQL)
            assert issued.encode() not in raw

        # The recompute was started without the callback waiting for it: it syncs, computes.
        recompute = dev_client.get_workflow_handle(recompute_workflow_id(user_id))
        await recompute.result()
        async with sessions() as db:
            synced = await db.scalar(select(func.count()).where(TaskCompletion.user_id == user_id))
        assert synced == 20

        # The page asks for a tip: decided from the synced history by the real agents.
        tip = await client.get("/api/tip")
        assert tip.status_code == 200, tip.text
        assert tip.json()["status"] in {"tip", "nothing"}
        async with sessions() as db:
            decision = (
                await db.scalars(select(TipDecision).where(TipDecision.user_id == user_id))
            ).one()
        assert "time-of-day" in {c["agent_id"] for c in decision.candidates}

        # D2: every workflow of the user is keyed by opaque ids only.
        email = idp.identity.email
        async for wf in dev_client.list_workflows(f"OoUserId = '{user_id}'"):
            assert email not in wf.id and idp.identity.subject not in wf.id
            assert wf.search_attributes.get("OoUserId") == [str(user_id)]
        refresh = dev_client.get_workflow_handle_for(
            TokenRefreshWorkflow.run, token_refresh_workflow_id(user_id, "todoist")
        )
        assert (await refresh.describe()).status == WorkflowExecutionStatus.RUNNING

        gone = await client.delete("/api/integrations/todoist")
        assert gone.status_code == 202, gone.text
        assert gone.json() == {"provider": "todoist", "status": "revoked"}
        result = await refresh.result()
    assert result.status == "revoked" and result.revoked_at_provider is True
    assert todoist.revoked == [issued]
    assert await tokens_of(sessions, user_id) is None


async def test_with_temporal_down_connecting_still_stores_the_token_and_says_so(
    make_app: Callable[..., FastAPI],
    oauth_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        await sign_in(client)
        user_id = uuid.UUID((await client.get("/api/auth/session")).json()["user_id"])
        done = await connect(client)
    assert done.status_code == 303
    assert done.headers["location"] == "/?todoist=connected_sync_pending"
    stored = await tokens_of(sessions, user_id)
    assert stored is not None and stored.status == "active"


# --- B8 -------------------------------------------------------------------------------------------


async def test_a_refusal_at_todoist_without_state_gets_a_clear_message(
    make_app: Callable[..., FastAPI],
    oauth_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    todoist: FakeTodoist,
) -> None:
    todoist.deny()
    async with serve(make_app(oauth_settings)) as client:
        await sign_in(client)
        user_id = uuid.UUID((await client.get("/api/auth/session")).json()["user_id"])
        start = await client.get("/integrations/todoist/connect")
        back = await at_provider(start.headers["location"])
        res = await client.get(back)
    assert query_of(back) == {"error": "access_denied"}  # as Todoist does: no state
    assert res.status_code == 400
    assert res.json()["title"] == "Todoist was not connected"
    assert "nothing was connected" in res.json()["detail"]
    assert todoist.calls_to("/oauth/access_token") == []
    assert await tokens_of(sessions, user_id) is None


# --- B3: mix-up -----------------------------------------------------------------------------------


async def test_a_state_minted_for_one_provider_is_refused_at_the_other(
    make_app: Callable[..., FastAPI],
    oauth_settings: Settings,
    sessions: Any,
    idp: FakeOIDC,
    todoist: FakeTodoist,
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        await sign_in(client)
        assert idp.token_calls == 1
        # Both flows pending in this browser, each answered by its provider.
        todoist_back = await at_provider(
            (await client.get("/integrations/todoist/connect")).headers["location"]
        )
        oidc_back = await at_provider((await client.get("/auth/login")).headers["location"])
        oidc_state, todoist_state = query_of(oidc_back)["state"], query_of(todoist_back)["state"]
        at_todoist = await client.get(
            "/integrations/todoist/callback",
            params={"code": query_of(oidc_back)["code"], "state": oidc_state},
        )
        at_oidc = await client.get(
            "/auth/callback",
            params={"code": query_of(todoist_back)["code"], "state": todoist_state},
        )
        assert (at_todoist.status_code, at_oidc.status_code) == (400, 400)
        assert todoist.calls_to("/oauth/access_token") == []
        assert idp.token_calls == 1
        # Each state still works where it belongs: the refusal was about the provider.
        assert (await client.get(todoist_back)).status_code == 303
        assert (await client.get(oidc_back)).status_code == 303


async def test_a_connect_started_by_another_user_in_this_browser_is_refused(
    make_app: Callable[..., FastAPI],
    oauth_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    todoist: FakeTodoist,
    login: Login,
) -> None:
    other = await user_with_todoist(sessions)
    async with serve(make_app(oauth_settings)) as client:
        await sign_in(client)
        back = await at_provider(
            (await client.get("/integrations/todoist/connect")).headers["location"]
        )
        await login(client, other)  # someone else signs in before the callback
        res = await client.get(back)
    assert res.status_code == 400
    assert todoist.calls_to("/oauth/access_token") == []
    assert await tokens_of(sessions, other) is None


# --- disconnect: F4 and G2 ------------------------------------------------------------------------


async def test_disconnect_is_404_for_unknown_providers_and_other_users_integrations(
    make_app: Callable[..., FastAPI],
    oauth_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    owner = await user_with_todoist(sessions, token="tdt-owner-token")
    caller = await user_with_todoist(sessions)
    async with serve(make_app(oauth_settings)) as client:
        await login(client, caller)
        theirs = await client.delete("/api/integrations/todoist")
        never = await client.delete("/api/integrations/google")
        unknown = await client.delete("/api/integrations/dropbox")
        anonymous = await client.post("/auth/logout")
        assert anonymous.status_code == 204
        signed_out = await client.delete("/api/integrations/todoist")
    assert (theirs.status_code, never.status_code, unknown.status_code) == (404, 404, 404)
    assert theirs.json() == never.json() == unknown.json()
    assert signed_out.status_code == 401
    stored = await tokens_of(sessions, owner)
    assert stored is not None and stored.status == "active"


async def test_disconnect_with_temporal_down_stops_using_the_token_and_asks_to_retry(
    make_app: Callable[..., FastAPI],
    oauth_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    user_id = await user_with_todoist(sessions, token="tdt-some-token")
    async with serve(make_app(oauth_settings)) as client:
        await login(client, user_id)
        res = await client.delete("/api/integrations/todoist")
    assert res.status_code == 503 and int(res.headers["retry-after"]) > 0
    stored = await tokens_of(sessions, user_id)
    assert stored is not None and stored.status == "revoked"


async def test_disconnect_without_a_token_workflow_starts_one_that_revokes(
    make_app: Callable[..., FastAPI],
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    dev_client: Client,
    idp: FakeOIDC,
    todoist: FakeTodoist,
    login: Login,
) -> None:
    """A token stored while Temporal was down has no workflow yet: disconnecting still revokes."""
    settings = with_providers(app_settings, idp, todoist)
    todoist.account(token="tdt-connected-while-temporal-was-down")
    user_id = await user_with_todoist(sessions, token="tdt-connected-while-temporal-was-down")
    async with (
        build_worker(dev_client, worker_deps(sessions, todoist), task_queue=settings.task_queue),
        serve(make_app(settings, dev_client)) as client,
    ):
        await login(client, user_id)
        res = await client.delete("/api/integrations/todoist")
        assert res.status_code == 202, res.text
        refresh = dev_client.get_workflow_handle_for(
            TokenRefreshWorkflow.run, token_refresh_workflow_id(user_id, "todoist")
        )
        result = await refresh.result()
    assert result.status == "revoked" and result.revoked_at_provider is True
    assert todoist.revoked == ["tdt-connected-while-temporal-was-down"]
    assert await tokens_of(sessions, user_id) is None
