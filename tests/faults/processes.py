"""oO processes for fault tests: started like production (`python -m ...` with OO_* settings),
logging to files, watched from /proc, stopped by their own pid."""

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.service import RPCError

from agents import all_agents
from contracts.temporal import agent_sweep_id

Process = asyncio.subprocess.Process


def oo_env(*, temporal_address: str, database_url: str, **settings: str) -> dict[str, str]:
    """This environment without any OO_* variable, then the given settings as OO_<NAME>."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OO_")}
    env["OO_TEMPORAL_ADDRESS"] = temporal_address
    env["OO_DATABASE_URL"] = database_url
    env.update({f"OO_{name.upper()}": value for name, value in settings.items()})
    return env


async def spawn(args: list[str], env: dict[str, str], log: Path) -> Process:
    """`python <args>`; output goes to `log`, as an unread pipe would fill up and block it."""
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, *args, env=env, stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL
        )


async def start_worker(env: dict[str, str], log: Path) -> Process:
    return await spawn(["-m", "worker"], env, log)


def tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


async def wait_for(
    predicate: Callable[[], Awaitable[bool]],
    timeout: float,
    what: str,
    log: Path,
    *,
    every: float = 0.2,
) -> None:
    """Poll until `predicate()` holds; on timeout fail with the process log's tail."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}; log:\n{tail(log)}"
        await asyncio.sleep(every)


async def stop(proc: Process, *, grace_s: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited in time; always reaped."""
    if proc.returncode is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), grace_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def delete_schedules(client: Client, task_queue: str) -> None:
    """The worker reconciled agent schedules on the shared dev server: remove its own."""
    for agent_id in all_agents():
        handle = client.get_schedule_handle(agent_sweep_id(agent_id))
        with contextlib.suppress(RPCError):
            action = (await handle.describe()).schedule.action
            if isinstance(action, ScheduleActionStartWorkflow) and action.task_queue == task_queue:
                await handle.delete()
