"""An app per test, driven through httpx's ASGI transport with its lifespan running."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api import create_app
from core.settings import Settings
from store import sessions as session_store

ClientFactory = Callable[..., Any]


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
            yield c


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
def login(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[httpx.AsyncClient, Any], Awaitable[httpx.Response]]:
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
