"""Per-agent Schedules on the real dev server (the time-skipping server has none)."""

import uuid
from datetime import timedelta

from temporalio.client import Client, ScheduleOverlapPolicy

from agents.registry import Agent
from contracts.agents import AgentManifest
from workflows.schedules import sync_schedules


def fake_agent(agent_id: str, cadence: timedelta) -> Agent:
    manifest = AgentManifest(
        id=agent_id,
        version="1.0.0",
        ttl=cadence,
        cadence=cadence,
        inputs=["task_completions"],
        consents=["todoist.read"],
    )
    return Agent(manifest=manifest, compute=lambda history, prefs, now: None)


async def test_schedules_follow_the_registry(dev_client: Client, task_queue: str) -> None:
    a, b = (f"t{uuid.uuid4().hex[:8]}-{n}" for n in ("a", "b"))
    agents = {a: fake_agent(a, timedelta(hours=1)), b: fake_agent(b, timedelta(hours=6))}

    first = await sync_schedules(dev_client, agents, task_queue=task_queue)
    assert sorted(first.created) == sorted([f"agent-sweep-{a}", f"agent-sweep-{b}"])
    desc = await dev_client.get_schedule_handle(f"agent-sweep-{b}").describe()
    sched = desc.schedule
    assert [i.every for i in sched.spec.intervals] == [timedelta(hours=6)]
    assert sched.policy.overlap == ScheduleOverlapPolicy.SKIP
    assert sched.policy.catchup_window == timedelta(hours=6)  # one interval, not a year
    assert timedelta(0) < sched.spec.jitter <= timedelta(minutes=5)
    assert sched.action.task_queue == task_queue  # type: ignore[union-attr]

    again = await sync_schedules(dev_client, agents, task_queue=task_queue)
    assert again.created == [] and sorted(again.unchanged) == sorted(first.created)

    # A changed cadence updates; a removed agent's schedule goes; others' are left alone.
    other_queue = await sync_schedules(
        dev_client, {b: fake_agent(b, timedelta(hours=6))}, task_queue=f"{task_queue}-x"
    )
    assert other_queue.deleted == []
    changed = await sync_schedules(
        dev_client, {a: fake_agent(a, timedelta(minutes=30))}, task_queue=task_queue
    )
    assert changed.updated == [f"agent-sweep-{a}"]
    desc = await dev_client.get_schedule_handle(f"agent-sweep-{a}").describe()
    assert [i.every for i in desc.schedule.spec.intervals] == [timedelta(minutes=30)]
    assert desc.schedule.policy.catchup_window == timedelta(minutes=30)
    await dev_client.get_schedule_handle(f"agent-sweep-{a}").delete()
