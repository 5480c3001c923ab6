"""create_app(): the FastAPI application with its lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from temporalio.client import Client

from api import oauth
from api.csrf import CrossSiteGuard, ScopedCORS
from api.errors import install_error_handlers
from api.routes import account, auth, codec, health, integrations, page, profile, tips
from api.state import AppState, StateLedger
from core.crypto import EncryptionCodec, KeyConfigError, KeyRing
from core.settings import Settings, get_settings
from core.vault import TokenVault
from store.db import create_engine, create_sessionmaker


def _ring(name: str, spec: str) -> KeyRing | None:
    """The configured key ring; None when unset (a malformed one fails the start)."""
    try:
        return KeyRing.parse(spec) if spec.strip() else None
    except KeyConfigError as exc:
        raise KeyConfigError(f"{name}: {exc}") from None


def _state(settings: Settings, client: Client | None) -> AppState:
    engine = create_engine(settings.database_url)
    master = _ring("OO_MASTER_KEYS", settings.master_keys.get_secret_value())
    payload = _ring("OO_PAYLOAD_KEYS", settings.payload_keys.get_secret_value())
    return AppState(
        settings=settings,
        engine=engine,
        sessions=create_sessionmaker(engine),
        client=client,
        oauth=oauth.build_oauth(settings),
        vault=None if master is None else TokenVault(master),
        codec=None if payload is None else EncryptionCodec(payload),
        used_states=StateLedger(ttl_s=oauth.STATE_MAX_AGE_S),
    )


def create_app(
    settings: Settings | None = None, *, temporal_client: Client | None = None
) -> FastAPI:
    """The app; the engine is created at start-up and Temporal is connected on first use."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = _state(settings, temporal_client)
        app.state.oo = state
        yield
        await state.close()
        await state.engine.dispose()

    app = FastAPI(title="oO", version="0.1.0", lifespan=lifespan)
    # Pending OAuth authorizations only (state, PKCE verifier, nonce): a short-lived signed
    # cookie. User sessions are server-side (store/sessions.py).
    app.add_middleware(
        SessionMiddleware,
        secret_key=oauth.state_cookie_secret(settings),
        session_cookie=oauth.state_cookie_name(settings),
        max_age=oauth.STATE_MAX_AGE_S,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(
        CrossSiteGuard,
        allowed_origin=settings.public_url,
        trusted={codec.PREFIX: settings.temporal_ui_url},
    )
    app.add_middleware(ScopedCORS, prefix=codec.PREFIX, origin=settings.temporal_ui_url)
    install_error_handlers(app)
    routers = (health, auth, integrations, tips, account, profile, codec, page)
    for module in routers:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=page.WEB_DIR), name="static")
    return app
