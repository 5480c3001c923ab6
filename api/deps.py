"""Dependencies as Annotated aliases: DbDep, StateDep, CurrentUser."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from api.state import AppState
from store import sessions
from store.models import User

COOKIE_NAME = "oo_sid"
SECURE_COOKIE_NAME = "__Host-oo_sid"


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.oo
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_db(state: StateDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed when the handler returns."""
    async with state.sessions.begin() as db:
        yield db


DbDep = Annotated[AsyncSession, Depends(get_db)]


def cookie_name(state: AppState) -> str:
    return SECURE_COOKIE_NAME if state.settings.secure_cookies else COOKIE_NAME


async def current_user(request: Request, state: StateDep) -> User:
    """The signed-in user, from the server-side session named by the cookie.

    Its own short transaction: a handler that then waits on a workflow holds no connection.
    """
    sid = request.cookies.get(cookie_name(state))
    user = None
    if sid:
        async with state.sessions.begin() as db:
            user = await sessions.user_for_session(
                db,
                sid=sid,
                now=datetime.now(UTC),
                idle=timedelta(days=state.settings.session_idle_days),
            )
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in to see your tip")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
