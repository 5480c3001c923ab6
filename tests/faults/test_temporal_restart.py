"""The Temporal server stopped and restarted while a tip is being written: one tip, once."""

import asyncio
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities import ActivityDeps, LlmConfig
from contracts.temporal import GENERATE_TIP_TEXT, tip_workflow_id
from contracts.tips import GenerateTipInput
from core.settings import Settings
from core.temporal import connect
from store.models import Tip, TipDecision
from tests.factories import count_rows, fixed_agent, persona_user
from tests.faults.checks import activity_runs
from tests.faults.dev_server import PrivateDevServer
from tests.faults.gates import GatedLiteLLM
from worker import build_worker
from workflows.client import generate_tip

REPLY = "S1 advice: Write the first line of the report now."


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_a_tip_generation_survives_a_temporal_restart(
    sqlite_sessions: async_sessionmaker[AsyncSession],
    payload_keys: str,
    task_queue: str,
    tmp_path: Path,
    sig: signal.Signals,
) -> None:
    server = PrivateDevServer(tmp_path / "temporal.db", tmp_path / "temporal.log")
    await server.start()
    settings = Settings(temporal_address=server.address, payload_keys=payload_keys)
    user_id = await persona_user(sqlite_sessions)
    try:
        client = await connect(settings)
        llm = GatedLiteLLM(reply=REPLY)
        async with llm:
            held = llm.gate()
            deps = ActivityDeps(
                sessions=sqlite_sessions,
                agents={"fixed": fixed_agent()},
                tip_ttl=timedelta(hours=1),
                # A budget far beyond the outage: the LLM's own answer must make it through.
                llm=LlmConfig(url=llm.url, timeout_s=30),
            )
            async with build_worker(client, deps, task_queue=task_queue):
                tip = asyncio.create_task(
                    generate_tip(client, GenerateTipInput(user_id=user_id), task_queue=task_queue)
                )
                await held.reached()  # the workflow is inside the LLM activity
                down_s = await server.kill(sig)
                restart_s = await server.start()  # same database file, same port
                held.open()
                outcome = await asyncio.wait_for(tip, 60)  # the same client, reconnected
            calls = len(llm.chat_calls)
        handle = client.get_workflow_handle(tip_workflow_id(user_id))
        llm_runs = await activity_runs(handle, GENERATE_TIP_TEXT)
    finally:
        await server.stop()
    print(f"\ndev server {sig.name}: exited in {down_s:.2f} s, back in {restart_s:.2f} s")
    assert outcome.status == "tip" and outcome.tip is not None
    # The LLM's answer, given across the restart: not the composer after a lost activity.
    assert (outcome.tip.generator, outcome.tip.text) == ("llm", REPLY.removeprefix("S1 advice: "))
    assert calls == 1 and [r.attempt for r in llm_runs] == [1]
    assert await count_rows(sqlite_sessions, Tip) == 1
    assert await count_rows(sqlite_sessions, TipDecision) == 1
