"""What fault tests read back: activity attempts from a workflow's history (row counts are
tests.factories.count_rows)."""

from dataclasses import dataclass

from temporalio.client import WorkflowHandle


@dataclass(frozen=True)
class ActivityRun:
    """One activity of a workflow as its history tells it."""

    name: str
    attempt: int
    # From scheduling to the start of the attempt that finished: the retry delays, mostly.
    waited_s: float
    completed: bool


async def activity_runs(handle: WorkflowHandle, name: str) -> list[ActivityRun]:  # type: ignore[type-arg]
    """Every scheduled `name` activity of the workflow, in order."""
    scheduled: dict[int, float] = {}
    runs: dict[int, ActivityRun] = {}
    async for event in handle.fetch_history_events():
        at = event.event_time.ToDatetime().timestamp()
        if event.HasField("activity_task_scheduled_event_attributes"):
            attrs = event.activity_task_scheduled_event_attributes
            if attrs.activity_type.name == name:
                scheduled[event.event_id] = at
        elif event.HasField("activity_task_started_event_attributes"):
            started = event.activity_task_started_event_attributes
            if started.scheduled_event_id in scheduled:
                runs[started.scheduled_event_id] = ActivityRun(
                    name, started.attempt, at - scheduled[started.scheduled_event_id], False
                )
        elif event.HasField("activity_task_completed_event_attributes"):
            sid = event.activity_task_completed_event_attributes.scheduled_event_id
            if sid in runs:
                run = runs[sid]
                runs[sid] = ActivityRun(run.name, run.attempt, run.waited_s, True)
    return [runs[sid] for sid in sorted(runs)]
