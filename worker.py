"""The Temporal worker: registers WORKFLOWS and build_activities() on the oO task queue."""

import asyncio
import logging
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities import ActivityDeps, build_activities
from agents import all_agents
from core.logging import configure_logging
from core.settings import Settings, get_settings
from core.temporal import connect
from store.db import create_engine, create_sessionmaker
from workflows import WORKFLOWS
from workflows.schedules import sync_schedules

log = logging.getLogger("oo.worker")


def build_worker(client: Client, deps: ActivityDeps, *, task_queue: str) -> Worker:
    """A worker for every workflow and activity of oO."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(deps),
        # Let running activities finish on shutdown instead of cancelling them at once.
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


def build_deps(settings: Settings) -> ActivityDeps:
    engine = create_engine(settings.database_url)
    return ActivityDeps(
        sessions=create_sessionmaker(engine),
        agents=all_agents(),
        tip_ttl=timedelta(minutes=settings.tip_ttl_minutes),
    )


async def run_worker(settings: Settings) -> None:
    """Connect, reconcile the agent schedules with the registry, and run until cancelled."""
    client = await connect(settings)
    deps = build_deps(settings)
    report = await sync_schedules(client, deps.agents, task_queue=settings.task_queue)
    log.info("agent schedules: %s", report)
    await build_worker(client, deps, task_queue=settings.task_queue).run()


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
