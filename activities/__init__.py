"""Every side effect. The builders here are the one list the worker and tests register."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.agents import AgentActivities
from activities.deletion import DeletionActivities
from activities.deps import ActivityDeps, LlmConfig, OAuthClientConfig
from activities.llm import LlmActivities, new_http_client
from activities.sync import SyncActivities
from activities.tips import TipActivities
from activities.todoist import new_todoist_http
from activities.tokens import TokenActivities
from contracts.sync import SyncHistoryInput
from core.vault import TokenVault
from store import integrations


def build_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    """The activities of the main task queue (database and agent work), bound to their deps."""
    tip = TipActivities(deps)
    deletion = DeletionActivities(deps)
    sync = _sync_activities(deps)
    agent = AgentActivities(deps, sync=_syncer(sync))
    found: list[Callable[..., Any]] = [
        tip.load_tip_context,
        tip.compose_tip,
        tip.store_tip,
        agent.compute_agent_snippet,
        agent.list_due_users,
        agent.compute_agent_batch,
        agent.list_eligible_agents,
        deletion.mark_deleting,
        deletion.stop_user_workflows,
        deletion.list_user_providers,
        deletion.delete_user_rows,
        deletion.delete_user_histories,
        deletion.destroy_data_key,
        deletion.write_deletion_audit,
        deletion.verify_erased,
    ]
    if deps.vault is not None:
        tokens = TokenActivities(
            deps.sessions,
            deps.vault,
            clients=deps.oauth_clients,
            todoist_api_base=deps.todoist_api_base,
        )
        found += [
            tokens.load_token_state,
            tokens.refresh_token,
            tokens.check_token,
            tokens.revoke_token,
            tokens.forget_token,
        ]
    if sync is not None:
        found.append(sync.sync_todoist_history)
    return found


def _sync_activities(deps: ActivityDeps) -> SyncActivities | None:
    """History sync needs the vault (tokens) and the salt of hashed provider ids."""
    if deps.vault is None or not deps.hash_salt:
        return None
    return SyncActivities(
        deps.sessions,
        deps.http or new_todoist_http(),
        todoist_api_base=deps.todoist_api_base,
        tokens=vault_token_source(deps.sessions, deps.vault),
        key_salt=deps.hash_salt,
    )


def _syncer(sync: SyncActivities | None) -> Callable[[uuid.UUID], Awaitable[object]] | None:
    if sync is None:
        return None
    return lambda user_id: sync.sync_todoist_history(SyncHistoryInput(user_id=user_id))


def vault_token_source(
    sessions: async_sessionmaker[AsyncSession], vault: TokenVault
) -> Callable[[uuid.UUID, str], Awaitable[str | None]]:
    """The decrypted access token of an active integration, for activities that call out."""

    async def token(user_id: uuid.UUID, provider: str) -> str | None:
        async with sessions() as db:
            found = await integrations.load_tokens(
                db, user_id=user_id, provider=provider, vault=vault
            )
        if found is None or found.status != "active":
            return None
        return found.access_token.get_secret_value()

    return token


def build_llm_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    """The activities of the LLM task queue, whose concurrency is capped on its own."""
    llm = deps.llm
    http = deps.http or new_http_client(llm.timeout_s)
    activities = LlmActivities(
        http,
        base_url=llm.url,
        api_key=llm.api_key,
        timeout_s=llm.timeout_s,
        max_tokens=llm.max_tokens,
        temperature=llm.temperature,
    )
    return [activities.generate_tip_text]


__all__ = [
    "ActivityDeps",
    "LlmConfig",
    "OAuthClientConfig",
    "build_activities",
    "build_llm_activities",
]
