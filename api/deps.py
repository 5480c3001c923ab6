"""Dependencies as Annotated aliases: DbDep, StateDep, CurrentUser, Admin."""

import hmac
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from api.state import AppState
from core.settings import Settings
from store import sessions
from store.models import User
from store.users import ADMIN_STATUS

COOKIE_NAME = "oo_sid"
SECURE_COOKIE_NAME = "__Host-oo_sid"


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.oo
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_db(state: StateDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed when the handler returns."""
    async with state.sessions.begin() as db:
        yield db


DbDep = Annotated[AsyncSession, Depends(get_db)]


def session_cookie_name(settings: Settings) -> str:
    return SECURE_COOKIE_NAME if settings.secure_cookies else COOKIE_NAME


def cookie_name(state: AppState) -> str:
    return session_cookie_name(state.settings)


async def session_principal(request: Request, state: AppState) -> User | None:
    """The users row behind the request's session cookie, if the session is live.

    Its own short transaction: a handler that then waits on a workflow holds no connection.
    """
    sid = request.cookies.get(cookie_name(state))
    if not sid:
        return None
    async with state.sessions.begin() as db:
        return await sessions.principal_for_session(
            db,
            sid=sid,
            now=datetime.now(UTC),
            idle=state.settings.session_idle,
            absolute=state.settings.session_absolute,
        )


async def current_user(request: Request, state: StateDep) -> User:
    """The signed-in, active user."""
    user = await session_principal(request, state)
    if user is None or user.status != "active":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in to see your tip")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def _bearer_is_admin(request: Request, state: AppState) -> bool:
    expected = state.settings.admin_token.get_secret_value()
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


async def require_admin(request: Request, state: StateDep) -> None:
    """`Authorization: Bearer <admin token>`, or an admin session (POST /api/auth/token)."""
    if _bearer_is_admin(request, state):
        return
    principal = await session_principal(request, state)
    if principal is None or principal.status != ADMIN_STATUS:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "admin sign-in required",
            headers={"WWW-Authenticate": "Bearer"},
        )


Admin = Annotated[None, Depends(require_admin)]
