from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from store import sessions as store
from store import users
from store.models import Session
from tests.api.conftest import ADMIN_TOKEN, Login, serve
from tests.factories import persona_user

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


async def test_a_login_token_works_once_and_sets_a_safe_session_cookie(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    user_id = await persona_user(sessions)
    async with sessions.begin() as db:
        token = await store.create_login_token(
            db, user_id=user_id, now=datetime.now(UTC), ttl=timedelta(minutes=5)
        )
    async with serve(make_app(offline_settings)) as client:
        first = await client.post("/api/auth/dev-login", json={"token": token})
        again = await client.post("/api/auth/dev-login", json={"token": token})
    assert first.status_code == 200 and first.json() == {"user_id": str(user_id)}
    cookie = first.headers["set-cookie"].lower()
    assert cookie.startswith("oo_sid=")
    for attribute in ("httponly", "samesite=lax", "path=/"):
        assert attribute in cookie
    assert again.status_code == 401


async def test_login_rotates_the_session_and_logout_ends_it_server_side(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    user_id = await persona_user(sessions)
    async with serve(make_app(offline_settings)) as client:
        await login(client, user_id)
        first_sid = client.cookies["oo_sid"]
        await login(client, user_id)
        second_sid = client.cookies["oo_sid"]
        assert first_sid != second_sid
        client.cookies.set("oo_sid", first_sid)
        assert (await client.get("/api/tip")).status_code == 401  # the pre-login id is dead
        client.cookies.set("oo_sid", second_sid)
        assert (await client.post("/auth/logout")).status_code == 204
        client.cookies.set("oo_sid", second_sid)  # a copied cookie after logout
        assert (await client.get("/api/tip")).status_code == 401


async def test_cross_site_and_non_json_writes_are_refused(
    make_app: Callable[..., FastAPI], offline_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(offline_settings)) as client:
        form = await client.post(
            "/api/auth/dev-login",
            content=b"token=x" * 3,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        plain = await client.post(
            "/api/auth/dev-login", content=b"{}", headers={"content-type": "text/plain"}
        )
        foreign = await client.post(
            "/api/auth/dev-login",
            json={"token": "x" * 20},
            headers={"origin": "https://evil.example"},
        )
        cross = await client.post(
            "/api/auth/dev-login",
            json={"token": "x" * 20},
            headers={"sec-fetch-site": "cross-site"},
        )
    assert (form.status_code, plain.status_code) == (415, 415)
    assert (foreign.status_code, cross.status_code) == (403, 403)


async def test_validation_errors_do_not_echo_the_request(
    make_app: Callable[..., FastAPI], offline_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(offline_settings)) as client:
        res = await client.post("/api/auth/dev-login", json={"token": "canary-secret"})
    assert res.status_code == 422
    assert "canary-secret" not in res.text
    assert res.json()["detail"].startswith("body.token")


# --- A4: idle and absolute timeouts, enforced by the server (rows written with old times) -------


async def session_at(
    sessions: async_sessionmaker[AsyncSession],
    user_id: Any,
    *,
    created_ago: timedelta,
    seen_ago: timedelta,
    absolute: timedelta = timedelta(days=90),
) -> str:
    """A session created and last seen in the past, as if the clock had moved on since."""
    now = datetime.now(UTC)
    async with sessions.begin() as db:
        sid = await store.create_session(
            db, user_id=user_id, now=now - created_ago, absolute=absolute
        )
        row = await db.get(Session, store.hash_secret(sid))
        assert row is not None
        row.last_seen_at = now - seen_ago
    return sid


async def status_with(client: httpx.AsyncClient, sid: str) -> int:
    return (await client.get("/api/auth/session", headers={"cookie": f"oo_sid={sid}"})).status_code


async def test_idle_sessions_end_after_the_configured_idle_time(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert offline_settings.session_idle_days == 14
    user_id = await persona_user(sessions)
    idle = await session_at(sessions, user_id, created_ago=DAY * 20, seen_ago=DAY * 14 + MINUTE)
    active = await session_at(sessions, user_id, created_ago=DAY * 20, seen_ago=DAY * 14 - MINUTE)
    async with serve(make_app(offline_settings)) as client:
        assert await status_with(client, idle) == 401
        assert await status_with(client, active) == 200
        assert await status_with(client, active) == 200  # its idle clock was reset
    async with sessions() as db:
        assert not await store.session_exists(db, sid=idle)  # expired rows are deleted
        row = await db.get(Session, store.hash_secret(active))
    assert row is not None and datetime.now(UTC) - row.last_seen_at < MINUTE


async def test_sessions_end_at_the_absolute_limit_however_active(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    user_id = await persona_user(sessions)
    old = await session_at(sessions, user_id, created_ago=DAY * 90 + MINUTE, seen_ago=MINUTE)
    young = await session_at(sessions, user_id, created_ago=DAY * 89, seen_ago=MINUTE)
    # Created under a 365-day limit: the limit configured now (90 days) still applies.
    lenient = await session_at(
        sessions, user_id, created_ago=DAY * 100, seen_ago=MINUTE, absolute=DAY * 365
    )
    async with serve(make_app(offline_settings)) as client:
        assert await status_with(client, old) == 401
        assert await status_with(client, young) == 200
        assert await status_with(client, lenient) == 401


async def test_shorter_configured_timeouts_take_effect(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    user_id = await persona_user(sessions)
    sid = await session_at(sessions, user_id, created_ago=DAY * 3, seen_ago=DAY * 2)
    strict = offline_settings.model_copy(update={"session_idle_days": 1})
    async with serve(make_app(strict)) as client:
        assert await status_with(client, sid) == 401


# --- the admin token ------------------------------------------------------------------------------


async def test_the_admin_token_opens_an_admin_session_that_is_not_a_user(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    settings = offline_settings.model_copy(update={"admin_token": SecretStr(ADMIN_TOKEN)})
    async with serve(make_app(settings)) as client:
        wrong = await client.post("/api/auth/token", json={"token": ADMIN_TOKEN[:-1] + "x"})
        longer = await client.post("/api/auth/token", json={"token": ADMIN_TOKEN + "x"})
        assert "oo_sid" not in client.cookies
        ok = await client.post("/api/auth/token", json={"token": ADMIN_TOKEN})
        sid = client.cookies["oo_sid"]
        me = await client.get("/api/auth/session")
        tip = await client.get("/api/tip")
        await client.post("/auth/logout")
    assert (wrong.status_code, longer.status_code) == (401, 401)
    assert ok.status_code == 200 and ok.json() == {"role": "admin"}
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert (me.status_code, tip.status_code) == (401, 401)  # no person's data
    async with sessions() as db:
        assert not await store.session_exists(db, sid=sid)
        assert await users.count_users(db) == 0  # the admin principal is not a person


async def test_a_validation_error_on_the_admin_token_does_not_echo_it(
    make_app: Callable[..., FastAPI], offline_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(offline_settings)) as client:
        res = await client.post("/api/auth/token", json={"token": "canary-" + "x" * 600})
    assert res.status_code == 422 and "canary-" not in res.text
