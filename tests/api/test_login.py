"""OpenID Connect login against a fake provider on loopback (RELIABILITY A1, A2, A3, A6, B1, B2,
B4, B8, C6): authlib's real HTTP code talks to the fake; the app runs through ASGITransport."""

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from store.models import Identity, Session, User
from store.sessions import hash_secret
from tests.api.conftest import (
    at_provider,
    query_of,
    serve,
    sign_in,
    with_providers,
)
from tests.fakes.oidc import FakeOIDC, fake_oidc
from tests.fakes.todoist import FakeTodoist

CALLBACK = "http://127.0.0.1:8000/auth/callback"
HOST = "127.0.0.1"  # the domain httpx files the app's host-only cookies under


async def whoami(client: httpx.AsyncClient, sid: str | None = None) -> httpx.Response:
    """GET /api/auth/session, optionally with another session cookie than the jar's."""
    # An explicit Cookie header replaces the jar's.
    headers = {} if sid is None else {"cookie": f"oo_sid={sid}"}
    return await client.get("/api/auth/session", headers=headers)


async def all_rows(sessions: async_sessionmaker[AsyncSession], model: Any) -> list[Any]:
    async with sessions() as db:
        return list((await db.scalars(select(model))).all())


# --- B1: the authorization request ---------------------------------------------------------------


async def test_each_login_carries_its_own_state_nonce_and_pkce_s256(
    make_app: Callable[..., FastAPI], oauth_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        first = await client.get("/auth/login")
        second = await client.get("/auth/login")
    assert first.status_code == second.status_code == 302
    a, b = query_of(first.headers["location"]), query_of(second.headers["location"])
    for q in (a, b):
        assert q["code_challenge_method"] == "S256"
        assert q["response_type"] == "code"
        assert len(q["state"]) >= 20 and len(q["nonce"]) >= 16 and len(q["code_challenge"]) == 43
        assert q["scope"].split() == ["openid", "email", "profile"]
    for name in ("state", "nonce", "code_challenge"):
        assert a[name] != b[name], name


async def test_the_redirect_uri_is_the_configured_constant_whatever_the_host_headers(
    make_app: Callable[..., FastAPI], oauth_settings: Settings, sessions: Any
) -> None:
    spoofed = {
        "host": "evil.example",
        "x-forwarded-host": "evil.example",
        "x-forwarded-proto": "https",
        "forwarded": "host=evil.example;proto=https",
    }
    async with serve(make_app(oauth_settings)) as client:
        res = await client.get("/auth/login", headers=spoofed)
    assert query_of(res.headers["location"])["redirect_uri"] == CALLBACK


# --- A1, A2, A3: the session ----------------------------------------------------------------------


async def test_login_sets_an_opaque_server_side_session_cookie(
    make_app: Callable[..., FastAPI],
    oauth_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        done = await sign_in(client, next_path="/somewhere?x=1")
        me = await whoami(client)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/somewhere?x=1"
    cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith("oo_sid="))
    sid = cookie.split(";")[0].removeprefix("oo_sid=")
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= attributes
    assert "secure" not in attributes  # an http public URL (dev)
    assert not any(a.startswith("domain") for a in attributes)
    assert me.status_code == 200
    user_id = me.json()["user_id"]
    assert len(sid) >= 40 and user_id.replace("-", "") not in sid.replace("-", "")
    rows = await all_rows(sessions, Session)
    assert [r.token_hash for r in rows] == [hash_secret(sid)]
    assert all(sid not in str(value) for r in rows for value in vars(r).values())


async def test_an_https_public_url_gives_secure_host_prefixed_cookies(
    make_app: Callable[..., FastAPI], oauth_settings: Settings, sessions: Any
) -> None:
    settings = oauth_settings.model_copy(update={"public_url": "https://oo.example"})
    async with serve(make_app(settings), base_url="https://oo.example") as client:
        start = await client.get("/auth/login")
        done = await client.get(await at_provider(start.headers["location"]))
        me = await client.get("/api/auth/session")
    assert query_of(start.headers["location"])["redirect_uri"] == "https://oo.example/auth/callback"
    state_cookie = start.headers["set-cookie"].lower()
    assert state_cookie.startswith("__host-oo_oauth=") and "secure" in state_cookie
    session_cookie = next(
        c for c in done.headers.get_list("set-cookie") if c.startswith("__Host-oo_sid=")
    )
    attributes = {a.strip().lower() for a in session_cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= attributes
    assert not any(a.startswith("domain") for a in attributes)
    assert me.status_code == 200


async def test_login_issues_a_new_session_id_and_the_pre_login_one_is_dead(
    make_app: Callable[..., FastAPI], oauth_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        await sign_in(client)
        before = client.cookies["oo_sid"]
        assert (await whoami(client)).status_code == 200
        await sign_in(client)
        after = client.cookies["oo_sid"]
        assert after != before
        assert (await whoami(client, before)).status_code == 401
        assert (await whoami(client, after)).status_code == 200
        # A session id planted before login is never adopted.
        client.cookies.set("oo_sid", "planted-by-someone-else-0123456789abcdef", domain=HOST)
        await sign_in(client)
        assert client.cookies["oo_sid"] != "planted-by-someone-else-0123456789abcdef"
        assert (await whoami(client, "planted-by-someone-else-0123456789abcdef")).status_code == 401


async def test_logout_deletes_the_session_so_a_copied_cookie_is_refused(
    make_app: Callable[..., FastAPI],
    oauth_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        await sign_in(client)
        copied = client.cookies["oo_sid"]
        assert (await whoami(client, copied)).status_code == 200
        assert (await client.post("/auth/logout")).status_code == 204
        assert (await whoami(client, copied)).status_code == 401
    assert await all_rows(sessions, Session) == []


# --- A6: the identity -----------------------------------------------------------------------------


async def test_the_identity_is_issuer_and_subject_never_the_email(
    make_app: Callable[..., FastAPI],
    oauth_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    idp: FakeOIDC,
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        idp.login_as("sub-first", "same@example.com")
        await sign_in(client)
        first = (await whoami(client)).json()["user_id"]
        idp.login_as("sub-second", "same@example.com")  # another account, same email
        await sign_in(client)
        second = (await whoami(client)).json()["user_id"]
        idp.login_as("sub-first", "renamed@example.com")  # same account, new email
        await sign_in(client)
        again = (await whoami(client)).json()["user_id"]
    assert first != second
    assert again == first
    identities = await all_rows(sessions, Identity)
    assert sorted((i.subject, i.email) for i in identities) == [
        ("sub-first", "renamed@example.com"),
        ("sub-second", "same@example.com"),
    ]
    assert {i.issuer for i in identities} == {idp.issuer}


async def test_the_same_subject_at_another_issuer_is_another_user(
    make_app: Callable[..., FastAPI],
    oauth_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    todoist: FakeTodoist,
) -> None:
    users = []
    async with fake_oidc() as other:
        other.login_as("sub-1", "person@example.com")
        for settings in (oauth_settings, with_providers(oauth_settings, other, todoist)):
            async with serve(make_app(settings)) as client:
                assert (await sign_in(client)).status_code == 303
                users.append((await whoami(client)).json()["user_id"])
    assert users[0] != users[1]
    assert len(await all_rows(sessions, User)) == 2


# --- B2: state ------------------------------------------------------------------------------------


async def test_a_callback_without_state_or_with_an_unknown_state_makes_no_token_request(
    make_app: Callable[..., FastAPI], oauth_settings: Settings, sessions: Any, idp: FakeOIDC
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        start = await client.get("/auth/login")
        back = await at_provider(start.headers["location"])
        code = query_of(back)["code"]
        missing = await client.get("/auth/callback", params={"code": code})
        unknown = await client.get("/auth/callback", params={"code": code, "state": "x" * 30})
        nothing = await client.get("/auth/callback")
    for res in (missing, unknown, nothing):
        assert res.status_code == 400, res.text
        assert res.headers["content-type"] == "application/problem+json"
        assert "oo_sid" not in res.headers.get("set-cookie", "")
    assert idp.token_calls == 0


async def test_a_replayed_callback_is_refused_without_a_token_request(
    make_app: Callable[..., FastAPI], oauth_settings: Settings, sessions: Any, idp: FakeOIDC
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        start = await client.get("/auth/login")
        pending_cookie = client.cookies["oo_oauth"]  # the state cookie as it was before use
        back = await at_provider(start.headers["location"])
        assert (await client.get(back)).status_code == 303
        assert idp.token_calls == 1
        replay = await client.get(back)
        # The same callback with a copy of the old state cookie (still validly signed).
        client.cookies.set("oo_oauth", pending_cookie, domain=HOST)
        replay_with_copy = await client.get(back)
    assert (replay.status_code, replay_with_copy.status_code) == (400, 400)
    assert idp.token_calls == 1


async def test_a_stale_login_from_another_tab_gets_a_clear_message(
    make_app: Callable[..., FastAPI], oauth_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        tab_one = await client.get("/auth/login")
        tab_two = await client.get("/auth/login")  # authlib keeps only the newest pending login
        stale = await client.get(await at_provider(tab_one.headers["location"]))
        fresh = await client.get(await at_provider(tab_two.headers["location"]))
    assert stale.status_code == 400
    assert stale.json()["title"] == "Sign-in expired"
    assert "another tab" in stale.json()["detail"]
    assert fresh.status_code == 303


# --- B4: where login goes next --------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
async def test_after_login_only_same_origin_paths_are_followed(
    make_app: Callable[..., FastAPI], oauth_settings: Settings, sessions: Any, next_path: str
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        done = await sign_in(client, next_path=next_path)
    assert done.status_code == 303
    assert done.headers["location"] == "/"


async def test_a_same_origin_next_path_is_kept(
    make_app: Callable[..., FastAPI], oauth_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        done = await sign_in(client, next_path="/integrations/todoist/connect")
    assert done.headers["location"] == "/integrations/todoist/connect"


# --- B8: provider errors --------------------------------------------------------------------------


async def test_a_denied_sign_in_tells_the_person_and_requests_no_token(
    make_app: Callable[..., FastAPI], oauth_settings: Settings, sessions: Any, idp: FakeOIDC
) -> None:
    idp.deny(times=2)
    async with serve(make_app(oauth_settings)) as client:
        start = await client.get("/auth/login")
        back = await at_provider(start.headers["location"])
        as_api = await client.get(back)
        start = await client.get("/auth/login")
        back = await at_provider(start.headers["location"])
        as_browser = await client.get(back, headers={"accept": "text/html,*/*;q=0.8"})
    assert query_of(back)["error"] == "access_denied"
    assert as_api.status_code == 400
    assert as_api.json()["title"] == "Sign-in was cancelled"
    assert "nothing changed" in as_api.json()["detail"]
    assert as_browser.status_code == 400
    assert as_browser.headers["content-type"].startswith("text/html")
    assert "Sign-in was cancelled" in as_browser.text
    assert idp.token_calls == 0


async def test_a_provider_error_is_never_echoed_as_markup(
    make_app: Callable[..., FastAPI], oauth_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(oauth_settings)) as client:
        res = await client.get(
            "/auth/callback",
            params={"error": "<script>alert(1)</script>"},
            headers={"accept": "text/html"},
        )
    assert res.status_code == 400
    assert "<script>" not in res.text


async def test_sign_in_without_a_configured_provider_says_so(
    make_app: Callable[..., FastAPI], offline_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(offline_settings)) as client:
        res = await client.get("/auth/login")
    assert res.status_code == 503
    assert res.json()["title"] == "Sign-in is not available"


# --- C6: authlib's debug logging ------------------------------------------------------------------


async def test_the_pkce_verifier_never_reaches_the_logs(
    make_app: Callable[..., FastAPI],
    oauth_settings: Settings,
    sessions: Any,
    idp: FakeOIDC,
    caplog: pytest.LogCaptureFixture,
) -> None:
    logging.getLogger("authlib").setLevel(logging.NOTSET)  # as a fresh process has it
    caplog.set_level(logging.DEBUG)
    async with serve(make_app(oauth_settings)) as client:
        assert (await sign_in(client)).status_code == 303
    verifier = idp.calls_to("/token")[0].body["code_verifier"]
    assert len(verifier) >= 43
    assert logging.getLogger("authlib").getEffectiveLevel() >= logging.INFO
    assert not any(verifier in record.getMessage() for record in caplog.records)
