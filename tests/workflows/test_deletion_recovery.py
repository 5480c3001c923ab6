"""A SIGKILL of the worker in the middle of an account deletion: it completes after restart."""

import asyncio
import os
import signal
import sys
import time
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
from workflows import AccountDeletionWorkflow
from workflows.client import start_account_deletion


async def worker_process(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    # Output goes to a file (shown on failure): an unread pipe would block the worker.
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "worker", env=env, stdout=out, stderr=out
        )


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


async def test_a_deletion_interrupted_by_a_worker_kill_completes(
    dev_client: Client,
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    payload_keys: str,
    task_queue: str,
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    [user_id] = await seed_users(sessions, count=1, days=730, pool=1)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OO_")},
        "OO_TEMPORAL_ADDRESS": dev_client.service_client.config.target_host,
        "OO_DATABASE_URL": database_url,
        "OO_PAYLOAD_KEYS": payload_keys,
        "OO_MASTER_KEYS": new_key_spec(),
        "OO_HASH_SALT": "recovery-test",
        "OO_TASK_QUEUE": task_queue,
        "OO_LOG_LEVEL": "INFO",
    }
    worker = await worker_process(env, log)
    try:
        deletion_id = await start_account_deletion(
            dev_client, user_id=user_id, requested_at=datetime.now(UTC), task_queue=task_queue
        )

        async def status() -> str | None:
            async with sessions() as db:
                return await db.scalar(select(User.status).where(User.id == user_id))

        deadline = time.monotonic() + 60
        while await status() != "deleting":
            assert time.monotonic() < deadline, f"the deletion never started:\n{tail(log)}"
            await asyncio.sleep(0.02)
        worker.send_signal(signal.SIGKILL)  # mid-deletion: the user is marked, nothing erased
        await worker.wait()
        handle = dev_client.get_workflow_handle_for(
            AccountDeletionWorkflow.run, f"account-deletion-{user_id}"
        )
        assert (await handle.describe()).status.name == "RUNNING"

        worker = await worker_process(env, log)
        try:
            result: AccountDeletionResult = await asyncio.wait_for(handle.result(), 180)
        except TimeoutError:
            raise AssertionError(f"the deletion did not complete:\n{tail(log)}") from None
    finally:
        if worker.returncode is None:
            worker.send_signal(signal.SIGTERM)
            await worker.wait()
    assert result.deletion_id == deletion_id
    async with sessions() as db:
        assert await erasure.remaining_rows(db, user_id=user_id) == {}
        audit = await db.get(DeletionAudit, deletion_id)
    assert audit is not None and audit.completed_at is not None
    assert set(audit.steps) >= {"mark_deleting", "delete_rows", "verify"}
