"""One Temporal Schedule per agent, reconciled with the agent registry.

Adding or removing an agent is a manifest change: at worker start (and by `oo schedules sync`)
missing schedules are created, changed ones updated and those of removed agents deleted. A
schedule belongs to one deployment's task queue; its note carries that task queue and a
fingerprint of what it should be, so reconciliation leaves other deployments' schedules alone
and updates only what changed.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
)

from agents.registry import Agent
from contracts.agents import AgentManifest
from contracts.compute import AgentSweepInput
from contracts.temporal import SEARCH_ATTRIBUTE_AGENT_ID, agent_sweep_id
from workflows.agent_sweep import AgentSweepWorkflow

AGENT_ID_KEY = SearchAttributeKey.for_keyword(SEARCH_ATTRIBUTE_AGENT_ID)
SWEEP_PREFIX = agent_sweep_id("")
MAX_JITTER = timedelta(minutes=5)
SWEEP_EXECUTION_TIMEOUT = timedelta(hours=6)


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _note(task_queue: str, manifest: AgentManifest) -> str:
    """Who owns the schedule and what it should be: a changed cadence changes the note."""
    cadence = int(manifest.cadence.total_seconds())
    return f"oo:{task_queue}:v1:cadence={cadence}:agent={manifest.id}@{manifest.version}"


def _owned_by(note: str | None, task_queue: str) -> bool:
    return bool(note) and str(note).startswith(f"oo:{task_queue}:")


def desired_schedule(manifest: AgentManifest, *, task_queue: str) -> Schedule:
    """The schedule of an agent's sweep: every cadence, jittered, never overlapping."""
    attrs = TypedSearchAttributes([SearchAttributePair(AGENT_ID_KEY, manifest.id)])
    return Schedule(
        action=ScheduleActionStartWorkflow(
            AgentSweepWorkflow.run,
            AgentSweepInput(agent_id=manifest.id),
            id=agent_sweep_id(manifest.id),
            task_queue=task_queue,
            execution_timeout=SWEEP_EXECUTION_TIMEOUT,
            typed_search_attributes=attrs,
        ),
        spec=ScheduleSpec(
            intervals=[ScheduleIntervalSpec(every=manifest.cadence)],
            # Spread sweeps of many agents and deployments instead of firing all at :00.
            jitter=min(manifest.cadence / 10, MAX_JITTER),
        ),
        # SKIP: a slow sweep is never doubled. The catch-up window is one interval (Temporal's
        # default is a year): after an outage one sweep runs, not a backlog of them.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=manifest.cadence),
        state=ScheduleState(note=_note(task_queue, manifest)),
    )


async def sync_schedules(
    client: Client, agents: Mapping[str, Agent], *, task_queue: str
) -> SyncReport:
    """Create, update and delete this deployment's agent schedules to match the registry."""
    report = SyncReport()
    existing: dict[str, str | None] = {}
    async for listed in await client.list_schedules():
        if listed.id.startswith(SWEEP_PREFIX):
            existing[listed.id] = listed.schedule.state.note if listed.schedule else None
    wanted = {agent_sweep_id(a.id): a.manifest for a in agents.values()}
    for schedule_id, manifest in wanted.items():
        await _ensure(client, schedule_id, manifest, task_queue, existing, report)
    for schedule_id, note in existing.items():
        if schedule_id not in wanted and _owned_by(note, task_queue):
            await client.get_schedule_handle(schedule_id).delete()
            report.deleted.append(schedule_id)
    return report


async def _ensure(
    client: Client,
    schedule_id: str,
    manifest: AgentManifest,
    task_queue: str,
    existing: Mapping[str, str | None],
    report: SyncReport,
) -> None:
    desired = desired_schedule(manifest, task_queue=task_queue)
    if schedule_id not in existing:
        try:
            await client.create_schedule(
                schedule_id,
                desired,
                search_attributes=TypedSearchAttributes(
                    [SearchAttributePair(AGENT_ID_KEY, manifest.id)]
                ),
            )
            report.created.append(schedule_id)
            return
        except ScheduleAlreadyRunningError:
            pass  # created meanwhile, or not yet visible in the list: compare it below
    handle = client.get_schedule_handle(schedule_id)
    current = (await handle.describe()).schedule.state.note
    if current == desired.state.note:
        report.unchanged.append(schedule_id)
        return

    def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=desired)

    await handle.update(replace)
    report.updated.append(schedule_id)
