"""Consent decisions and what revoking one erases: the data derived from that source."""

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AgentOutput, Consent, Integration, TaskCompletion, UserPreference
from store.users import set_consent

# Per consent, the task_completions sources derived under it. 'demo' completions are seeded,
# synthetic history (cli/seed.py), not a person's data from a provider: they are kept.
CONSENT_SOURCES: Mapping[str, tuple[str, ...]] = {"todoist.read": ("todoist",)}
# Per consent, the integration whose sync cursor restarts, so a new grant syncs everything again.
CONSENT_PROVIDERS: Mapping[str, str] = {"todoist.read": "todoist"}


@dataclass(frozen=True)
class Erased:
    """Rows deleted when a consent was revoked."""

    task_completions: int = 0
    agent_outputs: int = 0
    preferences: int = 0


def _count(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)


async def consents_of(db: AsyncSession, *, user_id: uuid.UUID) -> dict[str, bool]:
    """Every consent decision of the user, granted or not."""
    stmt = select(Consent.name, Consent.granted).where(Consent.user_id == user_id)
    return {name: bool(granted) for name, granted in (await db.execute(stmt)).all()}


async def erase_derived(
    db: AsyncSession, *, user_id: uuid.UUID, consent: str, agent_ids: Collection[str]
) -> Erased:
    """Delete what was derived under a consent: its history, the outputs and inferred
    preferences of the agents that need it. Preferences the user set are kept."""
    sources = CONSENT_SOURCES.get(consent, ())
    completions = 0
    if sources:
        completions = _count(
            await db.execute(
                delete(TaskCompletion).where(
                    TaskCompletion.user_id == user_id, TaskCompletion.source.in_(sources)
                )
            )
        )
    outputs = prefs = 0
    if agent_ids:
        outputs = _count(
            await db.execute(
                delete(AgentOutput).where(
                    AgentOutput.user_id == user_id, AgentOutput.agent_id.in_(agent_ids)
                )
            )
        )
        prefs = _count(
            await db.execute(
                delete(UserPreference).where(
                    UserPreference.user_id == user_id,
                    UserPreference.scope.in_(agent_ids),
                    UserPreference.source == "inferred",
                )
            )
        )
    if provider := CONSENT_PROVIDERS.get(consent):
        await db.execute(
            update(Integration)
            .where(Integration.user_id == user_id, Integration.provider == provider)
            .values(sync_cursor=None)
        )
    return Erased(task_completions=completions, agent_outputs=outputs, preferences=prefs)


async def set_consents(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    decisions: Mapping[str, bool],
    agents_by_consent: Mapping[str, Collection[str]],
) -> dict[str, Erased]:
    """Record consent decisions; each revoked one erases its derived data (returned per name)."""
    erased: dict[str, Erased] = {}
    for name, granted in decisions.items():
        await set_consent(db, user_id=user_id, name=name, granted=granted)
        if not granted:
            erased[name] = await erase_derived(
                db, user_id=user_id, consent=name, agent_ids=agents_by_consent.get(name, ())
            )
    await db.flush()
    return erased
