"""Sign-in (OpenID Connect, the one-time dev login, the admin token) and sign-out."""

import hmac
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api import oauth
from api.deps import CurrentUser, DbDep, StateDep, cookie_name
from api.errors import FlowError
from api.state import AppState
from contracts.auth import AdminSessionRead, AdminTokenCreate, DevLoginCreate, SessionRead
from store import sessions, users

router = APIRouter(tags=["auth"])
CALLBACK = "/auth/callback"
SIGN_IN = oauth.FlowTexts(
    what="Sign-in",
    denied_title="Sign-in was cancelled",
    denied_detail="You did not allow sign-in at your identity provider, so nothing changed. "
    "You can sign in again from the start page.",
)


async def start_session(
    db: AsyncSession, request: Request, response: Response, state: AppState, user_id: uuid.UUID
) -> None:
    """A new server-side session and its cookie; the request's previous session ends.

    A new id at every login: a cookie planted before login never authenticates.
    """
    name = cookie_name(state)
    old = request.cookies.get(name)
    if old:
        await sessions.end_session(db, sid=old)
    absolute = state.settings.session_absolute
    sid = await sessions.create_session(
        db, user_id=user_id, now=datetime.now(UTC), absolute=absolute
    )
    response.set_cookie(
        name,
        sid,
        max_age=int(absolute.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookies,
    )


@router.get("/auth/login", response_class=RedirectResponse, status_code=302)
async def login(
    request: Request,
    state: StateDep,
    next_path: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    """Go to the identity provider (state, nonce, PKCE S256); come back to `next`."""
    client = oauth.client_for(state.oauth, oauth.OIDC, what="Sign-in")
    request.session[oauth.NEXT_KEY] = oauth.safe_next(next_path)
    redirect_uri = oauth.callback_url(state.settings, CALLBACK)
    return await oauth.start(request, client, redirect_uri=redirect_uri, texts=SIGN_IN)


@router.get(CALLBACK, response_class=RedirectResponse, status_code=303)
async def callback(request: Request, state: StateDep) -> Response:
    """The identity provider's answer: sign in the identity (issuer, subject), never an email."""
    client = oauth.client_for(state.oauth, oauth.OIDC, what="Sign-in")
    token = await oauth.finish(request, client, ledger=state.used_states, texts=SIGN_IN)
    claims = token.get("userinfo") or {}
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not isinstance(issuer, str) or not isinstance(subject, str) or not issuer or not subject:
        raise SIGN_IN.failed("The provider did not say who you are.")
    target = oauth.safe_next(request.session.pop(oauth.NEXT_KEY, None))
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    async with state.sessions.begin() as db:
        user = await users.sign_in_identity(
            db,
            issuer=issuer,
            subject=subject,
            email=claims.get("email"),
            display_name=claims.get("name"),
            tz=claims.get("zoneinfo"),
        )
        if user.status != "active":
            raise FlowError(403, "Sign-in refused", "This account is being deleted.")
        await start_session(db, request, response, state, user.id)
    return response


@router.post("/api/auth/dev-login", response_model=SessionRead)
async def dev_login(
    body: DevLoginCreate, request: Request, response: Response, state: StateDep, db: DbDep
) -> SessionRead:
    """Exchange a one-time login token for a fresh server-side session."""
    user_id = await sessions.redeem_login_token(db, token=body.token, now=datetime.now(UTC))
    if user_id is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this login link is used or expired")
    await start_session(db, request, response, state, user_id)
    return SessionRead(user_id=user_id)


@router.post("/api/auth/token", response_model=AdminSessionRead)
async def admin_login(
    body: AdminTokenCreate, request: Request, response: Response, state: StateDep, db: DbDep
) -> AdminSessionRead:
    """Exchange the admin token for an admin session (automation, the Temporal UI codec)."""
    expected = state.settings.admin_token.get_secret_value()
    # Constant time, and never a match while no admin token is configured.
    if not expected or not hmac.compare_digest(body.token.encode(), expected.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this admin token is not valid")
    admin = await users.admin_principal(db)
    await start_session(db, request, response, state, admin.id)
    return AdminSessionRead()


@router.get("/api/auth/session", response_model=SessionRead)
async def whoami(user: CurrentUser) -> SessionRead:
    """Who is signed in (401 when nobody is)."""
    return SessionRead(user_id=user.id)


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
