"""The caller's profile: globals, preferences by scope, consents, contexts and integrations."""

import asyncio
import logging
import uuid
from collections import defaultdict

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from agents import all_agents
from agents.params import InvalidParamValueError, check_value
from api.deps import CurrentUser, DbDep, StateDep
from api.routes.integrations import TODOIST_CONSENT
from api.state import AppState
from contracts.compute import RecomputeInput
from contracts.profile import (
    ConsentsRead,
    ConsentsUpdate,
    ContextsRead,
    ContextsUpdate,
    PreferenceRead,
    PreferencesRead,
    PreferencesUpdate,
    ProfileRead,
)
from store import consents, contexts, integrations, users
from store.models import UserPreference
from workflows.client import start_recompute

router = APIRouter(tags=["profile"])
log = logging.getLogger(__name__)

# Consents an integration asks for, besides those agent manifests require.
INTEGRATION_CONSENTS = frozenset({TODOIST_CONSENT})
# An edited agent recomputes in the background so that its snippet follows the edit.
RECOMPUTE_PATIENCE_S = 120.0


def agents_by_consent() -> dict[str, list[str]]:
    """Per known consent, the registered agents that require it."""
    needed: dict[str, list[str]] = {name: [] for name in INTEGRATION_CONSENTS}
    for agent in all_agents().values():
        for name in agent.manifest.consents:
            needed.setdefault(name, []).append(agent.id)
    return needed


@router.get("/api/profile", response_model=ProfileRead)
async def read_profile(user: CurrentUser, db: DbDep) -> ProfileRead:
    """The caller's own profile (nobody else's data)."""
    prefs: dict[str, dict[str, PreferenceRead]] = defaultdict(dict)
    rows = await db.scalars(select(UserPreference).where(UserPreference.user_id == user.id))
    for p in rows:
        prefs[p.scope][p.key] = PreferenceRead(value=p.value, source=p.source)
    return ProfileRead.model_validate(
        {
            "user_id": user.id,
            "display_name": user.display_name,
            "tz": user.tz,
            "preferences": dict(prefs),
            "consents": await consents.consents_of(db, user_id=user.id),
            "contexts": await contexts.contexts_of(db, user_id=user.id),
            "integrations": await integrations.statuses_of(db, user_id=user.id),
        }
    )


@router.patch(
    "/api/profile/consents",
    response_model=ConsentsRead,
    responses={422: {"description": "an unknown consent name"}},
)
async def update_consents(body: ConsentsUpdate, user: CurrentUser, db: DbDep) -> ConsentsRead:
    """Grant or revoke consents; a revoked one erases the data derived under it."""
    known = agents_by_consent()
    unknown = sorted(set(body.root) - set(known))
    if unknown:
        # The request's names are not echoed (errors never echo input).
        raise HTTPException(422, "unknown consent name")
    await consents.set_consents(db, user_id=user.id, decisions=body.root, agents_by_consent=known)
    return ConsentsRead(consents=await consents.consents_of(db, user_id=user.id))


@router.patch(
    "/api/profile/prefs/{scope}",
    response_model=PreferencesRead,
    responses={
        404: {"description": "no agent has this id"},
        422: {"description": "a key the agent does not declare, or a value that does not fit"},
    },
)
async def update_preferences(
    scope: str, body: PreferencesUpdate, user: CurrentUser, state: StateDep
) -> PreferencesRead:
    """Set the caller's own values of an agent's params (null drops one); the agent then
    recomputes in the background."""
    agent = all_agents().get(scope)
    if agent is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such agent")
    params = {p.key: p for p in agent.manifest.inferred}
    if not set(body.root) <= set(params):
        raise HTTPException(422, "unknown preference")  # the names are not echoed
    try:
        for key, value in body.root.items():
            if value is not None:
                check_value(params[key], value)
    except InvalidParamValueError as exc:
        # Names the declared key, never the value.
        raise HTTPException(422, f"invalid preference: {exc}") from None
    async with state.sessions.begin() as db:
        await users.set_user_preferences(db, user_id=user.id, scope=scope, values=body.root)
        found = await users.scope_preferences(db, user_id=user.id, scope=scope)
    if body.root:
        _recompute_soon(state, user.id, scope)
    return PreferencesRead(scope=scope, preferences=found)


def _recompute_soon(state: AppState, user_id: uuid.UUID, agent_id: str) -> None:
    """Best effort: with Temporal down the edit still stands and the next sweep uses it."""

    async def run() -> None:
        client = await state.temporal()
        inp = RecomputeInput(user_id=user_id, agent_ids=[agent_id])
        await asyncio.wait_for(
            start_recompute(client, inp, task_queue=state.settings.task_queue),
            RECOMPUTE_PATIENCE_S,
        )

    state.spawn(run(), name=f"recompute-{user_id}-{agent_id}")


@router.patch(
    "/api/profile/contexts",
    response_model=ContextsRead,
    responses={
        404: {"description": "an id to remove is not one of the caller's contexts"},
        422: {"description": "an invalid context, or more than 20 contexts"},
    },
)
async def update_contexts(body: ContextsUpdate, user: CurrentUser, db: DbDep) -> ContextsRead:
    """Remove, then add, the caller's contexts; nothing changes when any part is refused."""
    try:
        found = await contexts.change_contexts(
            db, user_id=user.id, add=body.add, remove=body.remove
        )
    except contexts.UnknownContextError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such context") from None
    except contexts.TooManyContextsError as exc:
        raise HTTPException(422, str(exc)) from None
    return ContextsRead(contexts=found)
