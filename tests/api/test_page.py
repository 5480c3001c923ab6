from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from core.settings import Settings
from tests.api.conftest import serve


async def test_the_page_and_its_assets_are_served(
    make_app: Callable[..., FastAPI], offline_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(offline_settings)) as client:
        page = await client.get("/")
        script = await client.get("/static/app.js")
        style = await client.get("/static/style.css")
        health = await client.get("/healthz")
    assert page.status_code == 200 and 'id="tip"' in page.text
    assert "/api/tip" in script.text
    assert "background: #000" in style.text
    assert health.json() == {"status": "ok"}
