"""`oo dev`: Temporal dev server, migrations, worker and API under one supervisor."""

import asyncio
import signal
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from rich.console import Console
from temporalio.client import Client

from api import create_app
from cli.secrets import ensure_secrets
from cli.seed import seed_demo_user
from cli.serving import SupervisedServer, start_serving
from cli.temporal_server import start_dev_server, stop_process
from core.settings import Settings
from core.temporal import connect
from store import migrate, sessions, users
from store.db import create_engine, create_sessionmaker
from worker import build_runtime, start_reconciling

TEMPORAL_START_TIMEOUT_S = 60.0
console = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass(frozen=True)
class DevOptions:
    data_dir: Path
    port: int
    temporal_port: int
    ui_port: int
    temporal_address: str | None
    database_url: str | None
    demo: bool


def _settings(opts: DevOptions) -> Settings:
    ensure_secrets(opts.data_dir)
    overrides: dict[str, object] = {
        "env": "dev",
        "data_dir": opts.data_dir,
        "api_port": opts.port,
        "public_url": f"http://127.0.0.1:{opts.port}",
        "temporal_address": opts.temporal_address or f"127.0.0.1:{opts.temporal_port}",
        "temporal_ui_url": f"http://127.0.0.1:{opts.ui_port}",
    }
    if opts.database_url:
        overrides["database_url"] = opts.database_url
    return Settings(**overrides)  # type: ignore[arg-type]


async def _wait_for_temporal(settings: Settings, proc: subprocess.Popen[bytes] | None) -> Client:
    deadline = asyncio.get_running_loop().time() + TEMPORAL_START_TIMEOUT_S
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the Temporal dev server exited (code {proc.returncode})")
        try:
            return await connect(settings)
        except RuntimeError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.25)


async def _prepare_database(settings: Settings, *, demo: bool) -> tuple[str | None, str]:
    """Migrate, seed the demo user once; one-time login tokens for it and for the admin."""
    await migrate.upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    ttl = timedelta(minutes=settings.login_token_minutes)
    now = datetime.now(UTC)
    try:
        async with create_sessionmaker(engine).begin() as db:
            admin = await users.admin_principal(db)
            admin_token = await sessions.create_login_token(db, user_id=admin.id, now=now, ttl=ttl)
            demo_user = await users.first_demo_user(db)
            if demo_user is None and demo and await users.count_users(db) == 0:
                demo_id = await seed_demo_user(db)
            elif demo_user is not None:
                demo_id = demo_user.id
            else:
                return None, admin_token
            token = await sessions.create_login_token(db, user_id=demo_id, now=now, ttl=ttl)
            return token, admin_token
    finally:
        await engine.dispose()


def _announce(settings: Settings, token: str | None, admin_link: str | None) -> None:
    console.print(f"[bold]oO[/] is running at {settings.public_url}")
    if token:
        console.print(f"  sign in (one-time link): {settings.public_url}/#login={token}")
    console.print(f"  Temporal UI: {settings.temporal_ui_url}")
    if admin_link:
        # Payloads are encrypted; the UI decodes them through the API's codec, as an admin.
        console.print(f"  to read payloads in the UI, open once (admin): {admin_link}")
        console.print(
            f"  then in the UI: Settings → Codec Server → {settings.public_url}/codec,"
            " include cross-origin credentials"
        )
    console.print("  press Ctrl-C to stop")


async def run_dev(opts: DevOptions) -> None:
    """Run everything until SIGINT or SIGTERM, then stop every part in reverse order."""
    settings = _settings(opts)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    proc = None
    if opts.temporal_address is None:
        console.print("starting the Temporal dev server…")
        proc = start_dev_server(
            db_file=opts.data_dir / "temporal.db",
            port=opts.temporal_port,
            ui_port=opts.ui_port,
            log_file=opts.data_dir / "temporal.log",
            codec_url=f"{settings.public_url}/codec",
        )
    try:
        client = await _wait_for_temporal(settings, proc)
        token, admin_token = await _prepare_database(settings, demo=opts.demo)
        admin_link = f"{settings.public_url}/#login={admin_token}"
        await _serve(settings, client, token, admin_link, stop)
    finally:
        if proc is not None:
            await stop_process(proc)
        console.print("stopped")


async def _serve(
    settings: Settings,
    client: Client,
    token: str | None,
    admin_link: str | None,
    stop: asyncio.Event,
) -> None:
    app = create_app(settings, temporal_client=client)
    server = SupervisedServer(
        uvicorn.Config(app, host=settings.api_host, port=settings.api_port, log_level="warning")
    )
    workers, deps = build_runtime(client, settings)
    reconciling = start_reconciling(client, deps, settings.task_queue)
    async with workers:
        serving = await start_serving(server)
        _announce(settings, token, admin_link)
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        console.print("stopping…")
        server.should_exit = True
        await serving
        stopping.cancel()
        reconciling.cancel()
