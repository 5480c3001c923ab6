from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from tests.api.conftest import serve
from tests.factories import persona_user

Login = Callable[[httpx.AsyncClient, Any], Awaitable[httpx.Response]]


async def test_a_login_token_works_once_and_sets_a_safe_session_cookie(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from datetime import UTC, datetime, timedelta

    from store import sessions as store

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
