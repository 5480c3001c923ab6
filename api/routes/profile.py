"""The caller's profile: globals, preferences by scope, consents and contexts."""

from collections import defaultdict

from fastapi import APIRouter, HTTPException
from sqlalchemy import select

from agents import all_agents
from api.deps import CurrentUser, DbDep
from api.routes.integrations import TODOIST_CONSENT
from contracts.profile import (
    ConsentsRead,
    ConsentsUpdate,
    ContextRead,
    PreferenceRead,
    ProfileRead,
)
from store import consents
from store.models import Context, UserPreference

router = APIRouter(tags=["profile"])

# Consents an integration asks for, besides those agent manifests require.
INTEGRATION_CONSENTS = frozenset({TODOIST_CONSENT})


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
    contexts = await db.scalars(select(Context).where(Context.user_id == user.id))
    return ProfileRead(
        user_id=user.id,
        display_name=user.display_name,
        tz=user.tz,
        preferences=dict(prefs),
        consents=await consents.consents_of(db, user_id=user.id),
        contexts=[ContextRead.model_validate(c, from_attributes=True) for c in contexts],
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
