"""Sign-in with a one-time dev login token, and sign-out."""

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status

from api.deps import DbDep, StateDep, cookie_name
from contracts.auth import DevLoginCreate, SessionRead
from store import sessions

router = APIRouter(tags=["auth"])


@router.post("/api/auth/dev-login", response_model=SessionRead)
async def dev_login(
    body: DevLoginCreate, request: Request, response: Response, state: StateDep, db: DbDep
) -> SessionRead:
    """Exchange a one-time login token for a fresh server-side session."""
    now = datetime.now(UTC)
    user_id = await sessions.redeem_login_token(db, token=body.token, now=now)
    if user_id is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this login link is used or expired")
    name = cookie_name(state)
    # A new session id at every login: a cookie planted before login never authenticates.
    old = request.cookies.get(name)
    if old:
        await sessions.end_session(db, sid=old)
    absolute = timedelta(days=state.settings.session_absolute_days)
    sid = await sessions.create_session(db, user_id=user_id, now=now, absolute=absolute)
    response.set_cookie(
        name,
        sid,
        max_age=int(absolute.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookies,
    )
    return SessionRead(user_id=user_id)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, state: StateDep, db: DbDep) -> Response:
    """End the server-side session: a copied cookie stops working too."""
    name = cookie_name(state)
    sid = request.cookies.get(name)
    if sid:
        await sessions.end_session(db, sid=sid)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(name, path="/", secure=state.settings.secure_cookies, httponly=True)
    return response
