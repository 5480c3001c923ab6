"""Record one history of each workflow for the replay tests.

Run after a deliberate change to a workflow's command sequence (guarded by workflow.patched):
`python -m tests.histories.record`. Histories are recorded with the plain pydantic converter
(no payload encryption) and synthetic data only, so they hold no key and no personal data.
"""

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities import ActivityDeps
from cli.temporal_server import find_binary
from contracts.compute import AgentSweepInput, RecomputeInput
from contracts.tips import GenerateTipInput
from store import migrate
from store.db import create_engine, create_sessionmaker
from tests.factories import fixed_agent, persona_user
from worker import build_worker
from workflows import AgentSweepWorkflow, GenerateTipWorkflow, RecomputeWorkflow

HERE = Path(__file__).parent


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


async def main() -> None:
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
        for name, history in (await record(env.client, deps)).items():
            (HERE / f"{name}.json").write_text(history)
            print(f"recorded {name}")
    finally:
        await env.shutdown()
        await engine.dispose()
        tmp.unlink(missing_ok=True)


if __name__ == "__main__":
    asyncio.run(main())
