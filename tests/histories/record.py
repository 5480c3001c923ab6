"""Record one history of each workflow for the replay tests.

Record a new workflow's history, or add one after a deliberate, patched change:
`python -m tests.histories.record NAME [NAME ...]` (never re-record an existing history to make
a replay test pass: the saved ones stand for code already deployed). Histories are recorded
with the plain pydantic converter (no payload encryption) and synthetic data only, so they hold
no key and no personal data.
"""

import asyncio
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities import ActivityDeps, OAuthClientConfig
from cli.temporal_server import dynamic_config_args, find_binary
from contracts.compute import AgentSweepInput, RecomputeInput
from contracts.deletion import AccountDeletionInput
from contracts.temporal import SEARCH_ATTRIBUTES
from contracts.tips import GenerateTipInput
from contracts.tokens import TokenRefreshInput
from core.crypto import KeyRing, new_key_spec
from core.vault import TokenVault
from store import integrations, migrate, users
from store.db import create_engine, create_sessionmaker
from tests.factories import fixed_agent, persona_user
from tests.fakes.google import fake_google
from worker import build_worker
from workflows import (
    AccountDeletionWorkflow,
    AgentSweepWorkflow,
    GenerateTipWorkflow,
    RecomputeWorkflow,
    TokenRefreshWorkflow,
)

HERE = Path(__file__).parent


async def record_token_refresh(env: WorkflowEnvironment, deps: ActivityDeps) -> str:
    """A Google token refreshed once before expiry, then disconnected (revoked)."""
    async with fake_google() as google:
        vault = TokenVault(KeyRing.parse(new_key_spec("record")))
        client_config = OAuthClientConfig(
            client_id=google.client_id,
            client_secret=SecretStr(google.client_secret),
            token_url=google.token_url,
            revoke_url=google.revoke_url,
        )
        deps = replace(deps, vault=vault, oauth_clients={"google": client_config})
        async with deps.sessions.begin() as db:
            user = await users.create_user(db, display_name=None)
            await integrations.save_tokens(
                db,
                user_id=user.id,
                provider="google",
                vault=vault,
                access_token="ya29.record",
                refresh_token=google.grant(),
                expires_at=datetime.now(UTC) + timedelta(minutes=20),
                scopes="calendar",
            )
        queue = f"record-{uuid.uuid4()}"
        async with build_worker(env.client, deps, task_queue=queue):
            handle = await env.client.start_workflow(
                TokenRefreshWorkflow.run,
                TokenRefreshInput(user_id=user.id, provider="google"),
                id=f"record-token-refresh-{uuid.uuid4()}",
                task_queue=queue,
            )
            await env.sleep(timedelta(minutes=17))
            while google.refresh_calls < 1:
                await asyncio.sleep(0.05)
            await handle.signal(TokenRefreshWorkflow.disconnect)
            await handle.result()
            return (await handle.fetch_history()).to_json()


async def record_account_deletion(deps: ActivityDeps) -> str:
    """A user with history deleted on the dev server (deletion lists and deletes executions)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=[SearchAttributeKey.for_keyword(n) for n in SEARCH_ATTRIBUTES],
        ui=False,
        dev_server_extra_args=dynamic_config_args(),
    )
    try:
        deps = replace(deps, temporal=env.client, hash_salt=b"record")
        user_id = await persona_user(deps.sessions, days=14)
        queue = f"record-{uuid.uuid4()}"
        async with build_worker(env.client, deps, task_queue=queue):
            handle = await env.client.start_workflow(
                AccountDeletionWorkflow.run,
                AccountDeletionInput(
                    user_id=user_id, deletion_id=uuid.uuid4(), requested_at=datetime.now(UTC)
                ),
                id=f"record-account-deletion-{uuid.uuid4()}",
                task_queue=queue,
            )
            await handle.result()
            return (await handle.fetch_history()).to_json()
    finally:
        await env.shutdown()


async def record(client: Client, deps: ActivityDeps) -> dict[str, str]:
    queue = f"record-{uuid.uuid4()}"
    user_id = await persona_user(deps.sessions, days=14)
    runs = {
        "generate_tip": (GenerateTipWorkflow.run, GenerateTipInput(user_id=user_id)),
        "recompute": (RecomputeWorkflow.run, RecomputeInput(user_id=user_id)),
        "agent_sweep": (
            AgentSweepWorkflow.run,
            AgentSweepInput(agent_id="fixed", batch_size=1, batches_per_run=5),
        ),
    }
    saved = {}
    async with build_worker(client, deps, task_queue=queue):
        for name, (run, arg) in runs.items():
            handle = await client.start_workflow(
                run,
                arg,
                id=f"record-{name}-{uuid.uuid4()}",
                task_queue=queue,  # type: ignore[arg-type]
            )
            await handle.result()
            saved[name] = (await handle.fetch_history()).to_json()
    return saved


async def main(names: list[str]) -> None:
    tmp = HERE / ".record.db"
    tmp.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{tmp}"
    await migrate.upgrade(url)
    engine = create_engine(url)
    deps = ActivityDeps(
        sessions=create_sessionmaker(engine),
        agents={"fixed": fixed_agent()},
        tip_ttl=timedelta(hours=1),
    )
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        histories = await record(env.client, deps)
        histories["token_refresh"] = await record_token_refresh(env, deps)
        if "account_deletion" in names:
            histories["account_deletion"] = await record_account_deletion(deps)
        for name in names:
            (HERE / f"{name}.json").write_text(histories[name])
            print(f"recorded {name}")
    finally:
        await env.shutdown()
        await engine.dispose()
        tmp.unlink(missing_ok=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
