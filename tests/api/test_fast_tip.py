"""GET /api/tip's plain case, answered before routing, is the route's own answer."""

from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.deps import session_cookie_name
from core.settings import Settings
from tests.api.conftest import Login, serve
from tests.factories import persona_user, stored_tip


class Counting:
    """A reader wrapper counting the plain answers it gave (or failing, when told to)."""

    def __init__(self, reader: Any, *, fail: bool = False) -> None:
        self.reader = reader
        self.fail = fail
        self.answered = 0

    async def answer(self, **kwargs: Any) -> bytes | None:
        if self.fail:
            raise RuntimeError("the read connection is gone")
        body: bytes | None = await self.reader.answer(**kwargs)
        self.answered += body is not None
        return body

    def close(self) -> None:
        self.reader.close()


async def both_paths(
    app: FastAPI, client: httpx.AsyncClient, **request: Any
) -> tuple[Counting, httpx.Response, httpx.Response]:
    """GET /api/tip through the fast path (counted), then through the route alone."""
    state = app.state.oo
    reader = state.tip_reader
    counting = state.tip_reader = Counting(reader)
    try:
        fast = await client.get("/api/tip", **request)
        state.tip_reader = None  # the route alone
        general = await client.get("/api/tip", **request)
    finally:
        state.tip_reader = reader  # closed with the app
    return counting, fast, general


async def test_the_fast_answer_is_byte_for_byte_the_routes_answer(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    user_id = await persona_user(sessions)
    await stored_tip(sessions, user_id, "Stored «tip».")
    app = make_app(offline_settings)
    async with serve(app) as client:
        await login(client, user_id)
        counting, fast, general = await both_paths(app, client)
    assert counting.answered == 1
    assert fast.status_code == general.status_code == 200
    assert fast.content == general.content
    assert sorted(fast.headers.multi_items()) == sorted(general.headers.multi_items())
    assert fast.headers["cache-control"] == "private, no-cache"
    assert fast.headers["x-frame-options"] == "DENY"


async def test_with_several_cookie_headers_the_last_session_answers_on_both_paths(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    """As Starlette reads cookies (every Cookie header, a later one winning), so the fast
    path: a proxy may split cookies over several headers."""
    first, last = await persona_user(sessions), await persona_user(sessions)
    await stored_tip(sessions, first, "First's tip.")
    await stored_tip(sessions, last, "Last's tip.")
    app = make_app(offline_settings)
    name = session_cookie_name(offline_settings)
    async with serve(app) as client:
        sids = []
        for user_id in (first, last):
            await login(client, user_id)
            sids.append(client.cookies[name])
            client.cookies.clear()
        headers = [("cookie", "theme=dark"), *(("cookie", f"{name}={sid}") for sid in sids)]
        counting, fast, general = await both_paths(app, client, headers=headers)
    assert counting.answered == 1
    assert fast.json()["tip"]["text"] == general.json()["tip"]["text"] == "Last's tip."


async def test_anything_else_goes_on_to_the_route(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    user_id = await persona_user(sessions)
    await stored_tip(sessions, user_id, "Stored «tip».")
    app = make_app(offline_settings)
    async with serve(app) as client:
        signed_out = await client.get("/api/tip")
        await login(client, user_id)
        state = app.state.oo
        state.tip_reader = Counting(state.tip_reader, fail=True)
        failing = await client.get("/api/tip")
        posted = await client.post("/api/tip", json={})
    # No cookie: the route's 401 problem. A failing read: the route's full answer.
    assert signed_out.status_code == 401
    assert signed_out.headers["content-type"] == "application/problem+json"
    assert failing.status_code == 200 and failing.json()["tip"]["text"] == "Stored «tip»."
    assert posted.status_code == 405
