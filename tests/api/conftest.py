"""An app per test, driven through httpx's ASGI transport with its lifespan running."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api import create_app
from core.crypto import new_key_spec
from core.settings import Settings
from store import sessions as session_store
from tests.fakes.oidc import FakeOIDC, fake_oidc
from tests.fakes.todoist import FakeTodoist, fake_todoist

ClientFactory = Callable[..., Any]
# The `login` fixture: signs the client in as a user (through a one-time dev-login token).
Login = Callable[[httpx.AsyncClient, Any], Awaitable[httpx.Response]]
PUBLIC_URL = "http://127.0.0.1:8000"
ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef"
MASTER_KEYS = new_key_spec("master-test")
UI_ORIGIN = "http://127.0.0.1:8233"


@asynccontextmanager
async def serve(app: FastAPI, *, base_url: str = PUBLIC_URL) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as c:
            yield c


def query_of(url: str) -> dict[str, str]:
    """The query of a URL, one value per name."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def relative(url: str) -> str:
    """Path and query of an absolute URL: how the app under test is addressed."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def at_provider(authorize_url: str) -> str:
    """Visit a fake provider's authorize URL (it auto-approves): where it sends the browser back."""
    async with httpx.AsyncClient(trust_env=False, timeout=10) as browser:
        res = await browser.get(authorize_url)
    assert res.status_code == 302, res.text
    return relative(res.headers["location"])


async def sign_in(client: httpx.AsyncClient, *, next_path: str | None = None) -> httpx.Response:
    """The whole OpenID Connect login as a browser does it; the app's answer to the callback."""
    params = {} if next_path is None else {"next": next_path}
    start = await client.get("/auth/login", params=params)
    assert start.status_code == 302, start.text
    return await client.get(await at_provider(start.headers["location"]))


def with_providers(settings: Settings, idp: FakeOIDC, todoist: FakeTodoist) -> Settings:
    """Settings pointing the login and the Todoist integration at the fakes."""
    return settings.model_copy(
        update={
            "oidc_discovery_url": idp.discovery_url,
            "oidc_client_id": idp.client_id,
            "oidc_client_secret": SecretStr(idp.client_secret),
            "todoist_client_id": todoist.client_id,
            "todoist_client_secret": SecretStr(todoist.client_secret),
            "todoist_authorize_url": todoist.authorize_url,
            "todoist_token_url": todoist.token_url,
            "todoist_api_base": todoist.api_base,
            "master_keys": SecretStr(MASTER_KEYS),
            "admin_token": SecretStr(ADMIN_TOKEN),
            "hash_salt": SecretStr("salt-for-tests"),
            "temporal_ui_url": UI_ORIGIN,
        }
    )


@pytest.fixture
async def idp() -> AsyncIterator[FakeOIDC]:
    async with fake_oidc() as fake:
        yield fake


@pytest.fixture
async def todoist() -> AsyncIterator[FakeTodoist]:
    async with fake_todoist() as fake:
        yield fake


@pytest.fixture
def app_settings(settings: Settings, task_queue: str) -> Settings:
    return settings.model_copy(
        update={"public_url": "http://127.0.0.1:8000", "task_queue": task_queue}
    )


@pytest.fixture
def offline_settings(app_settings: Settings, free_port: int) -> Settings:
    """Settings whose Temporal address is a closed loopback port."""
    return app_settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port}"})


@pytest.fixture
def oauth_settings(offline_settings: Settings, idp: FakeOIDC, todoist: FakeTodoist) -> Settings:
    """Login and Todoist at the fakes; Temporal unreachable."""
    return with_providers(offline_settings, idp, todoist)


@pytest.fixture
def login(sessions: async_sessionmaker[AsyncSession]) -> Login:
    async def do(client: httpx.AsyncClient, user_id: Any) -> httpx.Response:
        async with sessions.begin() as db:
            token = await session_store.create_login_token(
                db, user_id=user_id, now=datetime.now(UTC), ttl=timedelta(minutes=5)
            )
        return await client.post("/api/auth/dev-login", json={"token": token})

    return do


@pytest.fixture
def make_app() -> Callable[..., FastAPI]:
    def build(settings: Settings, client: Client | None = None) -> FastAPI:
        return create_app(settings, temporal_client=client)

    return build
