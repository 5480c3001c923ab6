"""create_app(): the FastAPI application with its lifespan."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.client import Client

from api import oauth
from api.body_limit import BodyLimit
from api.csrf import CrossSiteGuard, ScopedCORS
from api.deps import session_cookie_name
from api.errors import install_error_handlers
from api.fast_tip import TipFastPath
from api.headers import ResponseHeaders
from api.routes import account, agents, auth, codec, health, integrations, page, profile, tips
from api.state import AppState, StateLedger
from core.crypto import EncryptionCodec, KeyConfigError, KeyRing
from core.settings import Settings, get_settings
from core.vault import TokenVault
from store.db import create_engine, create_sessionmaker
from store.tip_reads import TipReader

# Where the OAuth flows keep their pending state (api/routes/auth.py, integrations.py).
OAUTH_FLOW_PREFIXES = ("/auth/", "/integrations/")


class OnPaths:
    """A middleware applied under some path prefixes only; every other request skips it."""

    def __init__(
        self, app: ASGIApp, /, *, prefixes: tuple[str, ...], middleware: Any, **options: Any
    ) -> None:
        self.app = app
        self.prefixes = prefixes
        self.scoped: ASGIApp = middleware(app, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            await self.scoped(scope, receive, send)
        else:
            await self.app(scope, receive, send)


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
        tip_reader=TipReader(
            engine, idle=settings.session_idle, absolute=settings.session_absolute
        ),
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
        # What start-up loaded (modules, models, the app) lives as long as the process: keep it
        # out of the collector's scans, which otherwise grow with every import.
        gc.freeze()
        yield
        await state.close()
        await state.engine.dispose()

    app = FastAPI(title="oO", version="0.1.0", lifespan=lifespan)
    # Pending OAuth authorizations only (state, PKCE verifier, nonce): a short-lived signed
    # cookie, read and written only by the sign-in and connect flows. User sessions are
    # server-side (store/sessions.py).
    app.add_middleware(
        OnPaths,
        prefixes=OAUTH_FLOW_PREFIXES,
        middleware=SessionMiddleware,
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
    # Outermost: an oversized body is refused before any other layer reads it.
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        wider={codec.PREFIX: codec.MAX_BODY_BYTES},
    )
    # Around everything but the fast path, which sends the same headers itself.
    app.add_middleware(ResponseHeaders)
    # Outermost of all: the plain case of GET /api/tip is answered before any other layer.
    app.add_middleware(TipFastPath, cookie=session_cookie_name(settings))
    install_error_handlers(app)
    # The page's own reads first: a request is matched against the routes in this order.
    routers = (tips, page, health, auth, integrations, account, profile, agents, codec)
    for module in routers:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=page.WEB_DIR), name="static")
    return app
