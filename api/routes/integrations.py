"""Connect Todoist (OAuth, tokens into the vault) and disconnect any provider."""

import asyncio
import logging
import uuid
from typing import cast, get_args

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import RedirectResponse
from temporalio.client import Client
from temporalio.service import RPCError

from api import oauth
from api.deps import CurrentUser, StateDep
from api.errors import FlowError
from api.state import AppState, TemporalUnavailableError
from contracts.compute import RecomputeInput
from contracts.integrations import ConnectOutcome, IntegrationRead
from contracts.tokens import Provider
from core.vault import TokenVault
from store import integrations, users
from workflows.client import (
    disconnect_token,
    start_recompute,
    start_token_refresh,
)

TODOIST_CONSENT = "todoist.read"

router = APIRouter(tags=["integrations"])
log = logging.getLogger(__name__)

CALLBACK = "/integrations/todoist/callback"
PROVIDERS: tuple[str, ...] = get_args(Provider)
# The connect flow is bound to the user who started it (the state cookie is per browser).
CONNECT_USER_KEY = "oo_connect_user"
TEMPORAL_CALL_TIMEOUT_S = 5.0
# Fire and forget: the person is back on the page long before a first recompute ends.
RECOMPUTE_PATIENCE_S = 600.0
CONNECT_TODOIST = oauth.FlowTexts(
    what="Connecting Todoist",
    denied_title="Todoist was not connected",
    denied_detail="You did not allow oO to read your Todoist, so nothing was connected. "
    "You can connect it again any time.",
)


def _vault(state: AppState) -> TokenVault:
    if state.vault is None:
        raise FlowError(
            503, "Connecting Todoist is not available", "The token vault is not configured."
        )
    return state.vault


@router.get("/integrations/todoist/connect", response_class=RedirectResponse, status_code=302)
async def connect_todoist(request: Request, user: CurrentUser, state: StateDep) -> Response:
    """Go to Todoist to allow reading tasks (state and PKCE S256, scope `data:read`)."""
    client = oauth.client_for(state.oauth, oauth.TODOIST, what="Connecting Todoist")
    _vault(state)
    request.session[CONNECT_USER_KEY] = str(user.id)
    redirect_uri = oauth.callback_url(state.settings, CALLBACK)
    return await oauth.start(request, client, redirect_uri=redirect_uri, texts=CONNECT_TODOIST)


@router.get(CALLBACK, response_class=RedirectResponse, status_code=303)
async def todoist_callback(request: Request, user: CurrentUser, state: StateDep) -> Response:
    """Todoist's answer: store the token encrypted, then start its workflow and a first sync."""
    client = oauth.client_for(state.oauth, oauth.TODOIST, what="Connecting Todoist")
    vault = _vault(state)
    # A provider error first (it carries no state); then: was the flow started by this user?
    started_by = request.session.get(CONNECT_USER_KEY)
    if "error" not in request.query_params and started_by != str(user.id):
        raise CONNECT_TODOIST.expired()
    token = await oauth.finish(request, client, ledger=state.used_states, texts=CONNECT_TODOIST)
    request.session.pop(CONNECT_USER_KEY, None)
    async with state.sessions.begin() as db:
        await integrations.save_tokens(
            db,
            user_id=user.id,
            provider="todoist",
            vault=vault,
            access_token=token["access_token"],
            refresh_token=None,  # Todoist tokens live until revoked
            expires_at=None,
            scopes=oauth.TODOIST_SCOPES,
        )
        # Authorising oO at Todoist is the person's consent to read it.
        await users.set_consent(db, user_id=user.id, name=TODOIST_CONSENT, granted=True)
    started = await _start_sync(state, user.id)
    outcome: ConnectOutcome = "connected" if started else "connected_sync_pending"
    return RedirectResponse(f"/?todoist={outcome}", status_code=status.HTTP_303_SEE_OTHER)


async def _start_sync(state: AppState, user_id: uuid.UUID) -> bool:
    """Start the token's workflow and, without waiting for it, a first recompute."""
    try:
        client = await state.temporal()
        await asyncio.wait_for(
            start_token_refresh(
                client, user_id=user_id, provider="todoist", task_queue=state.settings.task_queue
            ),
            TEMPORAL_CALL_TIMEOUT_S,
        )
    except (TemporalUnavailableError, TimeoutError, RPCError) as exc:
        log.warning("todoist connected, workflows not started: %s", type(exc).__name__)
        return False
    recompute = start_recompute(
        client, RecomputeInput(user_id=user_id), task_queue=state.settings.task_queue
    )
    state.spawn(asyncio.wait_for(recompute, RECOMPUTE_PATIENCE_S), name=f"recompute-{user_id}")
    return True


@router.delete(
    "/api/integrations/{provider}",
    response_model=IntegrationRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"description": "unknown provider, or not connected"}},
)
async def disconnect(provider: str, user: CurrentUser, state: StateDep) -> IntegrationRead:
    """Stop using the provider's token now; its workflow revokes it at the provider."""
    if provider not in PROVIDERS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such integration")
    known = cast(Provider, provider)
    async with state.sessions.begin() as db:
        found = await integrations.set_status(db, user_id=user.id, provider=known, status="revoked")
    # Another user's integration is as unknown as a missing one.
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such integration")
    await _ask_revocation(await state.temporal(), state, user.id, known)
    return IntegrationRead(provider=known, status="revoked")


async def _ask_revocation(
    client: Client, state: AppState, user_id: uuid.UUID, provider: Provider
) -> None:
    """Signal the token workflow to revoke; start it with that signal if none runs."""
    try:
        async with asyncio.timeout(TEMPORAL_CALL_TIMEOUT_S):
            await disconnect_token(
                client, user_id=user_id, provider=provider, task_queue=state.settings.task_queue
            )
    except TimeoutError as exc:
        raise TemporalUnavailableError(type(exc).__name__) from exc
