import base64
import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from api.routes.page import WEB_DIR
from core.settings import Settings
from tests.api.conftest import serve

# The page's own assets: everything in web/ that a browser downloads.
ASSETS = sorted(p for p in WEB_DIR.iterdir() if p.is_file() and p.suffix != ".py")
BUDGET_BYTES = 50 * 1024


async def test_the_page_and_its_assets_are_served(
    make_app: Callable[..., FastAPI], offline_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(offline_settings)) as client:
        page = await client.get("/")
        script = await client.get("/static/app.js")
        style = await client.get("/static/style.css")
        health = await client.get("/healthz")
    assert page.status_code == 200 and 'id="tip"' in page.text
    assert page.headers["cache-control"] == "no-cache"
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page.text
    assert "/api/tip" in script.text
    assert "background: #000" in style.text
    assert health.json() == {"status": "ok"}


async def test_the_service_worker_is_served_from_the_root_and_always_revalidated(
    make_app: Callable[..., FastAPI], offline_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(offline_settings)) as client:
        res = await client.get("/sw.js")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/javascript")
    assert res.headers["cache-control"] == "no-cache"
    assert "/api/tip" in res.text


async def test_the_manifest_makes_an_installable_black_app(
    make_app: Callable[..., FastAPI], offline_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(offline_settings)) as client:
        res = await client.get("/manifest.webmanifest")
        manifest = json.loads(res.text)
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("application/manifest+json")
    assert manifest["name"] == "oO" and manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["theme_color"] == manifest["background_color"] == "#000000"
    # The icon travels inside the manifest (nothing to fetch, nothing to package).
    assert {i["purpose"] for i in manifest["icons"]} == {"any", "maskable"}
    for icon in manifest["icons"]:
        prefix, _, data = icon["src"].partition(",")
        assert prefix == "data:image/svg+xml;base64" and icon["type"] == "image/svg+xml"
        assert base64.b64decode(data).startswith(b"<svg ")


def test_the_page_weighs_at_most_50_kb() -> None:
    sizes = {p.name: p.stat().st_size for p in ASSETS}
    assert {"index.html", "style.css", "app.js", "sw.js", "manifest.webmanifest"} <= set(sizes)
    total = sum(sizes.values())
    print(f"\nthe page's own assets: {total:,} bytes uncompressed (budget {BUDGET_BYTES:,})")
    assert total <= BUDGET_BYTES, sizes


def test_the_page_asks_nothing_of_any_other_origin() -> None:
    for path in ASSETS:
        text = path.read_text()
        assert re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", text) == [], path.name
        assert "@import" not in text and "@font-face" not in text, path.name


def _service_worker_assets() -> list[str]:
    match = re.search(r"const ASSETS = (\[.*?\]);", (WEB_DIR / "sw.js").read_text())
    assert match
    return [str(a) for a in json.loads(match.group(1))]


async def test_every_file_the_service_worker_caches_exists(
    make_app: Callable[..., FastAPI], offline_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(offline_settings)) as client:
        answers = {path: (await client.get(path)).status_code for path in _service_worker_assets()}
    assert answers and set(answers.values()) == {200}, answers
