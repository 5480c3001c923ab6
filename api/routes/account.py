"""The account: delete it (fresh login required) and export everything stored about it."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import select
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.deps import CurrentUser, DbDep, StateDep, cookie_name
from api.state import AppState, TemporalUnavailableError
from contracts.account import AccountExport, DeletionRead
from store import erasure, export
from store.models import Session
from store.sessions import hash_secret
from workflows.client import start_account_deletion

router = APIRouter(tags=["account"])

# Starting the deletion and reading its id: long enough for a busy worker to answer the query.
DELETION_START_TIMEOUT_S = 10.0
NOT_FRESH = "sign in again to delete your account"


async def _signed_in_recently(request: Request, state: AppState) -> bool:
    """Whether the request's session was authenticated within `fresh_login_minutes`."""
    sid = request.cookies.get(cookie_name(state))
    if not sid:
        return False
    async with state.sessions() as db:
        authenticated_at = await db.scalar(
            select(Session.authenticated_at).where(Session.token_hash == hash_secret(sid))
        )
    fresh = timedelta(minutes=state.settings.fresh_login_minutes)
    return authenticated_at is not None and datetime.now(UTC) - authenticated_at <= fresh


async def _finished_deletion(state: AppState, user_id: uuid.UUID) -> uuid.UUID | None:
    """The id of a deletion of this user that already ran (its workflow id cannot be reused)."""
    salt = state.settings.hash_salt.get_secret_value().encode()
    async with state.sessions() as db:
        audit = await erasure.audit_of(db, subject=erasure.subject_hash(salt, user_id))
    return None if audit is None else audit.id


async def _start_deletion(state: AppState, user_id: uuid.UUID) -> uuid.UUID:
    """Start the user's deletion or join the running one; Temporal down is a 503."""
    client = await state.temporal()
    try:
        return await asyncio.wait_for(
            start_account_deletion(
                client,
                user_id=user_id,
                requested_at=datetime.now(UTC),
                task_queue=state.settings.task_queue,
            ),
            DELETION_START_TIMEOUT_S,
        )
    except WorkflowAlreadyStartedError:
        # It finished between the audit look-up and the start: its audit names it.
        if (done := await _finished_deletion(state, user_id)) is not None:
            return done
        raise HTTPException(status.HTTP_409_CONFLICT, "this account is already deleted") from None
    except TimeoutError as exc:
        raise TemporalUnavailableError(type(exc).__name__) from exc


@router.delete(
    "/api/account",
    response_model=DeletionRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        401: {"description": "not signed in"},
        403: {"description": "the login is not fresh: sign in again"},
        503: {"description": "the workflow engine is unreachable (Retry-After)"},
    },
)
async def delete_account(request: Request, user: CurrentUser, state: StateDep) -> DeletionRead:
    """Delete the account and everything about it; a second request gets the same id."""
    if not await _signed_in_recently(request, state):
        raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_FRESH)
    deletion_id = await _finished_deletion(state, user.id) or await _start_deletion(state, user.id)
    return DeletionRead(deletion_id=deletion_id)


@router.get(
    "/api/account/export",
    response_model=AccountExport,
    responses={401: {"description": "not signed in"}},
)
async def export_account(user: CurrentUser, db: DbDep) -> AccountExport:
    """Everything oO stores about the caller, as JSON; tokens are never included."""
    found = await export.export_user(db, user_id=user.id)
    if found is None:  # deleted between the session check and now
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in to see your account")
    return found
