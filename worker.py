"""The Temporal worker: registers WORKFLOWS and build_activities() on the oO task queue."""

import asyncio
import contextlib
import logging
import signal
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any, cast, get_args

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities import (
    ActivityDeps,
    LlmConfig,
    OAuthClientConfig,
    build_activities,
    build_llm_activities,
)
from agents import all_agents
from contracts.temporal import llm_task_queue
from contracts.tokens import Provider
from core.crypto import KeyConfigError, KeyRing
from core.logging import configure_logging
from core.settings import Settings, get_settings
from core.temporal import connect
from core.tracing import configure_tracing
from core.vault import TokenVault
from store import integrations
from store.db import create_engine, create_sessionmaker
from workflows import WORKFLOWS
from workflows.client import ensure_token_refresh
from workflows.schedules import sync_schedules

log = logging.getLogger("oo.worker")
# Token workflow starts in flight at once while reconciling.
RECONCILE_CONCURRENCY = 16

# On shutdown, running activities get this long to finish before they are cancelled (a container
# orchestrator must wait longer than this between SIGTERM and SIGKILL: compose's
# stop_grace_period).
DRAIN = timedelta(seconds=10)


class Workers:
    """The workers of one process: the main task queue and the LLM task queue beside it."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = workers
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> "Workers":
        for worker in self.workers:
            await self._stack.enter_async_context(worker)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def run(self) -> None:
        """Run every worker until cancelled (use either this or `async with`, not both)."""
        await asyncio.gather(*(worker.run() for worker in self.workers))

    async def run_until(self, stop: asyncio.Event) -> None:
        """Run every worker until `stop` is set, then drain: polling stops at once and running
        activities get DRAIN to finish and report before they are cancelled."""
        running = asyncio.ensure_future(self.run())
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not running.done():
            log.info("draining: no new tasks; running activities have %s to finish", DRAIN)
            await asyncio.gather(*(worker.shutdown() for worker in self.workers))
        await running  # a worker's fatal error is raised here


def build_worker(
    client: Client, deps: ActivityDeps, *, task_queue: str, llm_concurrency: int = 8
) -> Workers:
    """Workers for every workflow and activity of oO."""
    main = Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(deps),
        graceful_shutdown_timeout=DRAIN,
    )
    llm = Worker(
        client,
        task_queue=llm_task_queue(task_queue),
        activities=build_llm_activities(deps),
        max_concurrent_activities=llm_concurrency,
        graceful_shutdown_timeout=DRAIN,
    )
    return Workers([main, llm])


def oauth_clients(settings: Settings) -> dict[str, OAuthClientConfig]:
    """The OAuth clients of the providers whose tokens oO keeps."""
    return {
        "google": OAuthClientConfig(
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            token_url=settings.google_token_url,
            revoke_url=settings.google_revoke_url,
        ),
        "todoist": OAuthClientConfig(
            client_id=settings.todoist_client_id,
            client_secret=settings.todoist_client_secret,
            revoke_url=f"{settings.todoist_api_base}/revoke",
            revoke_auth="client_secret_basic",
        ),
    }


def build_vault(settings: Settings) -> TokenVault | None:
    """The token vault, when master keys are configured (oo dev generates them)."""
    spec = settings.master_keys.get_secret_value()
    return TokenVault(KeyRing.parse(spec)) if spec else None


def build_deps(settings: Settings) -> ActivityDeps:
    engine = create_engine(settings.database_url)
    return ActivityDeps(
        sessions=create_sessionmaker(engine),
        agents=all_agents(),
        tip_ttl=timedelta(minutes=settings.tip_ttl_minutes),
        tip_daily_budget=settings.tip_daily_budget,
        llm=LlmConfig(
            url=settings.litellm_url,
            api_key=settings.litellm_api_key,
            timeout_s=settings.llm_timeout_seconds,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
        ),
        vault=build_vault(settings),
        oauth_clients=oauth_clients(settings),
        todoist_api_base=settings.todoist_api_base,
        hash_salt=settings.hash_salt.get_secret_value().encode(),
        sync_stale=timedelta(minutes=settings.sync_stale_minutes),
    )


async def reconcile_schedules(client: Client, deps: ActivityDeps, task_queue: str) -> None:
    """Reconcile the agent schedules; a failure is logged, never fatal to the worker."""
    try:
        report = await sync_schedules(client, deps.agents, task_queue=task_queue)
        log.info("agent schedules: %s", report)
    except Exception:
        log.exception("agent schedules could not be reconciled; `oo schedules sync` retries")


async def reconcile_token_workflows(
    client: Client, sessions: async_sessionmaker[AsyncSession], *, task_queue: str
) -> int:
    """Start the token workflow of every kept integration that has none running: its start
    may have failed at connect (Temporal down), or a cluster may have lost it. Returns how
    many integrations were checked; a failure is logged, never fatal to the worker."""
    try:
        async with sessions() as db:
            kept = await integrations.kept_by_workflows(db)
        gate = asyncio.Semaphore(RECONCILE_CONCURRENCY)

        async def ensure(user_id: uuid.UUID, provider: str) -> None:
            async with gate:
                await ensure_token_refresh(
                    client,
                    user_id=user_id,
                    provider=cast(Provider, provider),
                    task_queue=task_queue,
                )

        await asyncio.gather(*(ensure(u, p) for u, p in kept if p in get_args(Provider)))
    except Exception:
        log.exception("token workflows could not be reconciled; the next worker start retries")
        return 0
    log.info("token workflows: %d integrations checked", len(kept))
    return len(kept)


def start_reconciling(client: Client, deps: ActivityDeps, task_queue: str) -> asyncio.Future[Any]:
    """What a starting worker runs right beside polling: the agent schedules and the token
    workflows (cancel it on the way out)."""
    return asyncio.gather(
        reconcile_schedules(client, deps, task_queue),
        reconcile_token_workflows(client, deps.sessions, task_queue=task_queue),
    )


def build_runtime(client: Client, settings: Settings) -> tuple[Workers, ActivityDeps]:
    """The workers of one process with their dependencies, as every entry point runs them."""
    configure_tracing(settings)
    deps = replace(build_deps(settings), temporal=client)
    workers = build_worker(
        client, deps, task_queue=settings.task_queue, llm_concurrency=settings.llm_concurrency
    )
    return workers, deps


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM (a container stop, a rolling deploy) or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_worker(settings: Settings) -> None:
    """Connect, reconcile the agent schedules beside polling, and run until SIGTERM or SIGINT,
    then drain."""
    stop = stop_on_signals()
    try:
        client = await connect(settings)
    except RuntimeError as exc:  # unreachable, refused TLS, unreadable TLS files, bad keys
        where = settings.temporal_address
        raise StartupError(f"cannot connect to Temporal at {where}: {exc}") from None
    workers, deps = build_runtime(client, settings)
    # Polling starts at once: tasks waiting for this worker never wait on schedule calls.
    reconciling = start_reconciling(client, deps, settings.task_queue)
    try:
        await workers.run_until(stop)
    finally:
        reconciling.cancel()
    log.info("worker stopped")


class StartupError(Exception):
    """The worker cannot start; the message says why, without a stack trace."""


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    try:
        asyncio.run(run_worker(settings))
    except (StartupError, KeyConfigError) as exc:
        raise SystemExit(f"oo worker: {exc}") from None


if __name__ == "__main__":
    main()
