"""Oversized request bodies are refused with 413, quickly (RELIABILITY_SECURITY F3)."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from store.models import Context
from tests.api.conftest import Login, serve
from tests.factories import count_rows, persona_user

CONTEXTS = "/api/profile/contexts"
JSON = {"content-type": "application/json"}


def megabyte_of_json() -> bytes:
    body = json.dumps({"add": [{"kind": "focus", "value": {"note": "x" * 190}}] * 5000})
    assert len(body) > 1_000_000
    return body.encode()


async def test_a_megabyte_of_json_is_refused_before_it_is_read(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me = await persona_user(sessions)
    async with serve(make_app(offline_settings)) as client:
        anonymous = await client.patch(CONTEXTS, content=megabyte_of_json(), headers=JSON)
        await login(client, me)
        started = time.monotonic()
        res = await client.patch(CONTEXTS, content=megabyte_of_json(), headers=JSON)
        elapsed = time.monotonic() - started
        small = await client.patch(CONTEXTS, json={"add": [{"kind": "focus"}]})
    for refused in (anonymous, res):
        assert refused.status_code == 413
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["title"] == "request body too large"
    assert elapsed < 2
    assert small.status_code == 200  # under the limit, the request goes through
    assert await count_rows(sessions, Context) == 1


async def test_a_declared_length_over_the_limit_is_answered_without_reading_the_body(
    make_app: Callable[..., FastAPI], offline_settings: Settings, sessions: Any
) -> None:
    async def never_ending() -> AsyncIterator[bytes]:
        await asyncio.Event().wait()  # a body that never arrives
        yield b""

    async with serve(make_app(offline_settings)) as client:
        res = await asyncio.wait_for(
            client.patch(
                CONTEXTS,
                content=never_ending(),
                headers=JSON | {"content-length": str(1 << 20)},
            ),
            timeout=5,
        )
    assert res.status_code == 413
    assert res.headers["connection"] == "close"  # the unread rest cannot precede a next request


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(
    make_app: Callable[..., FastAPI],
    offline_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    me = await persona_user(sessions)
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"add": [{"kind": "focus", "value": {"note": "'
        while True:  # never ends: only a limit counted while streaming stops it
            sent += 4096
            yield b"x" * 4096

    settings = offline_settings.model_copy(update={"max_body_bytes": 8192})
    async with serve(make_app(settings)) as client:
        await login(client, me)
        res = await asyncio.wait_for(
            client.patch(CONTEXTS, content=endless(), headers=JSON), timeout=10
        )
    assert res.status_code == 413
    assert res.headers["connection"] == "close"
    assert res.headers["content-type"] == "application/problem+json"
    assert sent < 64 * 1024
    assert await count_rows(sessions, Context) == 0


async def test_the_temporal_ui_codec_may_send_a_history_page_of_payloads(
    make_app: Callable[..., FastAPI], offline_settings: Settings, sessions: Any
) -> None:
    page = json.dumps({"payloads": [{"data": "QUJD" * 250}] * 200}).encode()
    assert 128 * 1024 < len(page) < 4 * 1024 * 1024
    async with serve(make_app(offline_settings)) as client:
        ordinary = await client.post("/codec/decode", content=page, headers=JSON)
        too_large = await client.post(
            "/codec/decode", content=b" " * (4 * 1024 * 1024 + 1), headers=JSON
        )
    assert ordinary.status_code == 401  # read in full, then refused for want of an admin
    assert too_large.status_code == 413
