"""A SIGKILL of the worker in the middle of an account deletion: it completes after restart."""

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from cli.seed import seed_users
from contracts.deletion import AccountDeletionResult
from core.crypto import new_key_spec
from store import erasure
from store.models import DeletionAudit, User
from tests.factories import count_rows
from tests.faults.conftest import WorkerEnv
from tests.faults.processes import start_worker, stop, tail, wait_for
from workflows import AccountDeletionWorkflow
from workflows.client import start_account_deletion


async def test_a_deletion_interrupted_by_a_worker_kill_completes(
    dev_client: Client,
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    worker_env: WorkerEnv,
    task_queue: str,
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    [user_id] = await seed_users(sessions, count=1, days=730, pool=1)
    env = worker_env(
        database_url=database_url,
        master_keys=new_key_spec(),
        hash_salt="recovery-test",
        log_level="INFO",
    )
    worker = await start_worker(env, log)
    try:
        deletion_id = await start_account_deletion(
            dev_client, user_id=user_id, requested_at=datetime.now(UTC), task_queue=task_queue
        )

        async def deleting() -> bool:
            async with sessions() as db:
                status = await db.scalar(select(User.status).where(User.id == user_id))
            return status == "deleting"

        # Polled fast: the window between the mark and the erasure is short.
        await wait_for(deleting, 60, "the deletion to start", log, every=0.02)
        worker.send_signal(signal.SIGKILL)  # mid-deletion: the user is marked, nothing erased
        await worker.wait()
        handle = dev_client.get_workflow_handle_for(
            AccountDeletionWorkflow.run, f"account-deletion-{user_id}"
        )
        assert (await handle.describe()).status.name == "RUNNING"

        worker = await start_worker(env, log)
        try:
            result: AccountDeletionResult = await asyncio.wait_for(handle.result(), 180)
        except TimeoutError:
            raise AssertionError(f"the deletion did not complete:\n{tail(log)}") from None
    finally:
        await stop(worker)
    assert result.deletion_id == deletion_id
    async with sessions() as db:
        assert await erasure.remaining_rows(db, user_id=user_id) == {}
        audit = await db.get(DeletionAudit, deletion_id)
    audits = await count_rows(sessions, DeletionAudit)
    assert audits == 1  # one audit, not one per worker that ran the deletion
    assert audit is not None and audit.completed_at is not None
    assert set(audit.steps) >= {"mark_deleting", "delete_rows", "verify"}
