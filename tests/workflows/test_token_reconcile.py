"""A starting worker gives every kept integration its token workflow: one whose start failed
at connect (Temporal down), or that a cluster lost, is started; a running one is left as it is."""

import contextlib
import uuid

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from contracts.temporal import token_refresh_workflow_id
from store import integrations, users
from store.models import User
from tests.factories import store_tokens
from worker import reconcile_token_workflows

Maker = async_sessionmaker[AsyncSession]


async def connected(sessions: Maker, provider: str = "todoist") -> uuid.UUID:
    async with sessions.begin() as db:
        user = await users.create_user(db, display_name=None, consents=("todoist.read",))
    await store_tokens(sessions, user_id=user.id, provider=provider, access=f"tok-{user.id}")
    return user.id


async def run_id(client: Client, user_id: uuid.UUID, provider: str = "todoist") -> str | None:
    """The running workflow's run id, None when there is none running."""
    handle = client.get_workflow_handle(token_refresh_workflow_id(user_id, provider))
    try:
        desc = await handle.describe()
    except RPCError:
        return None
    return desc.run_id if desc.status == WorkflowExecutionStatus.RUNNING else None


async def test_kept_integrations_get_their_workflow_once(
    sessions: Maker, dev_client: Client, task_queue: str
) -> None:
    active, waiting = await connected(sessions), await connected(sessions)
    google = await connected(sessions, provider="google")
    revoked, deleting = await connected(sessions), await connected(sessions)
    async with sessions.begin() as db:
        await integrations.set_status(
            db, user_id=waiting, provider="todoist", status="reconnect_required"
        )
        await integrations.set_status(db, user_id=revoked, provider="todoist", status="revoked")
        await db.execute(update(User).where(User.id == deleting).values(status="deleting"))
    kept = [(active, "todoist"), (waiting, "todoist"), (google, "google")]
    try:
        # Nothing runs yet: as when Temporal was down at connect (no worker polls this queue,
        # so the started runs wait for one, which is what is checked).
        assert [await run_id(dev_client, u, p) for u, p in kept] == [None, None, None]
        checked = await reconcile_token_workflows(dev_client, sessions, task_queue=task_queue)
        first = [await run_id(dev_client, u, p) for u, p in kept]
        assert checked == 3 and None not in first
        assert await run_id(dev_client, revoked) is None
        assert await run_id(dev_client, deleting) is None
        # Again (another worker, a restart): the running ones are kept, not restarted.
        await reconcile_token_workflows(dev_client, sessions, task_queue=task_queue)
        assert [await run_id(dev_client, u, p) for u, p in kept] == first
    finally:
        for user_id, provider in kept:
            handle = dev_client.get_workflow_handle(token_refresh_workflow_id(user_id, provider))
            with contextlib.suppress(RPCError):
                await handle.terminate("test over")


async def test_a_failing_reconcile_is_logged_not_raised(
    sessions: Maker, dev_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    await connected(sessions)
    checked = await reconcile_token_workflows(dev_client, sessions, task_queue="")
    assert checked == 0
    assert "token workflows could not be reconciled" in caplog.text
