"""A worker stopped with SIGTERM (a container stop, a rolling deploy of the replicas) drains: it
takes no new task, lets the running activity finish and report, and exits 0. The workflow then
completes on the next worker, and the activity ran once (a SIGKILL, in test_sweep_recovery and
test_deletion_recovery, loses the running activity to a retry instead)."""

import asyncio
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from cli.seed import seed_users
from contracts.tips import GenerateTipInput
from store.models import Tip
from tests.fakes.litellm import fake_litellm
from tests.faults.conftest import WorkerEnv
from tests.faults.processes import delete_schedules, start_worker, stop, tail, wait_for
from worker import DRAIN
from workflows.client import generate_tip

LLM_LATENCY_S = 3.0


async def test_sigterm_lets_the_running_activity_finish_once(
    sqlite_url: str,
    sqlite_sessions: async_sessionmaker[AsyncSession],
    dev_client: Client,
    worker_env: WorkerEnv,
    task_queue: str,
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    [user_id] = await seed_users(sqlite_sessions, count=1)
    async with fake_litellm(reply="S1 advice: One clear step now.", latency_s=LLM_LATENCY_S) as llm:
        env = worker_env(
            database_url=sqlite_url,
            litellm_url=llm.url,
            llm_timeout_seconds="30",
            log_level="INFO",
        )
        worker = await start_worker(env, log)
        try:
            tip = asyncio.create_task(
                generate_tip(dev_client, GenerateTipInput(user_id=user_id), task_queue=task_queue)
            )

            async def llm_asked() -> bool:
                assert not tip.done(), f"finished before the stop:\n{tail(log)}"
                return len(llm.chat_calls) > 0

            await wait_for(llm_asked, 60, "the LLM activity to start", log)
            signalled = time.monotonic()
            await stop(worker, grace_s=DRAIN.total_seconds() + 10)
            drained_s = time.monotonic() - signalled
            assert worker.returncode == 0, f"exit {worker.returncode}:\n{tail(log)}"
            assert "draining" in tail(log, 20_000)
            assert not tip.done()  # the workflow waits for a worker to take its next step

            worker = await start_worker(env, log)
            try:
                outcome = await asyncio.wait_for(tip, 60)
            except TimeoutError:
                raise AssertionError(f"the tip was never stored:\n{tail(log)}") from None
        finally:
            await stop(worker)
            await delete_schedules(dev_client, task_queue)
        calls = len(llm.chat_calls)
    print(f"\nSIGTERM mid-activity: drained and exited 0 in {drained_s:.2f} s; {calls} LLM call(s)")
    # The LLM's answer (no composer stand-in), asked for once, stored once.
    assert outcome.tip is not None and outcome.tip.generator == "llm"
    assert outcome.tip.text == "One clear step now."
    assert calls == 1
    async with sqlite_sessions() as db:
        assert (await db.scalars(select(Tip.id))).all() == [outcome.tip.id]
