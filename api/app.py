"""create_app(): the FastAPI application with its lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from temporalio.client import Client

from api.csrf import CrossSiteGuard
from api.errors import install_error_handlers
from api.routes import auth, health, page, tips
from api.state import AppState
from core.settings import Settings, get_settings
from store.db import create_engine, create_sessionmaker


def create_app(
    settings: Settings | None = None, *, temporal_client: Client | None = None
) -> FastAPI:
    """The app; the engine is created at start-up and Temporal is connected on first use."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        app.state.oo = AppState(
            settings=settings,
            engine=engine,
            sessions=create_sessionmaker(engine),
            client=temporal_client,
        )
        yield
        await engine.dispose()

    app = FastAPI(title="oO", version="0.1.0", lifespan=lifespan)
    app.add_middleware(CrossSiteGuard, allowed_origin=settings.public_url)
    install_error_handlers(app)
    for router in (health.router, auth.router, tips.router, page.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=page.WEB_DIR), name="static")
    return app
