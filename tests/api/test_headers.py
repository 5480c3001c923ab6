"""Every answer, from whichever layer gives it, carries the security headers; a person's API
answers are never for a shared cache (api/headers.py)."""

from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI

from api.headers import SECURITY_HEADERS
from core.settings import Settings
from tests.api.conftest import serve


def assert_secured(res: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS:
        assert res.headers.get_list(name.decode()) == [value.decode()], (res.url, name)


async def test_every_layer_answers_with_the_security_headers(
    make_app: Callable[..., FastAPI], offline_settings: Settings, sessions: Any
) -> None:
    settings = offline_settings.model_copy(update={"max_body_bytes": 1024})
    async with serve(make_app(settings)) as client:
        answers = {
            "page": await client.get("/"),
            "asset": await client.get("/static/app.js"),
            "health": await client.get("/healthz"),
            "unknown": await client.get("/no/such/path"),
            "signed out": await client.get("/api/profile"),
            "invalid": await client.post("/api/auth/dev-login", json={"token": 7}),
            "cross-site": await client.post(
                "/api/tip/next", json={}, headers={"Origin": "https://evil.example"}
            ),
            "oversized": await client.post(
                "/api/auth/dev-login", content=b"x" * 4096, headers={"content-type": "text/json"}
            ),
        }
    statuses = {name: res.status_code for name, res in answers.items()}
    assert statuses == {
        "page": 200,
        "asset": 200,
        "health": 200,
        "unknown": 404,
        "signed out": 401,
        "invalid": 422,
        "cross-site": 403,
        "oversized": 413,
    }
    for res in answers.values():
        assert_secured(res)
    # A person's API answers: revalidated by their browser, stored by no shared cache. The
    # page keeps its own policy.
    for name in ("signed out", "invalid", "cross-site", "oversized"):
        assert answers[name].headers["cache-control"] == "private, no-cache", name
    assert answers["page"].headers["cache-control"] == "no-cache"
    assert "cache-control" not in answers["health"].headers
