"""The `oo` command."""

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from cli import accounts, evaluation, keys, schedules
from core.logging import configure_logging

app = typer.Typer(help="oO: one well-timed tip.", no_args_is_help=True, add_completion=False)
app.add_typer(evaluation.app, name="eval")
app.add_typer(schedules.app, name="schedules")
app.add_typer(keys.app, name="keys")
app.command("delete-account")(accounts.delete_account)
app.command("recompute")(accounts.recompute)


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="API port.")] = 8000,
    temporal_port: Annotated[int, typer.Option(help="Temporal dev server gRPC port.")] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal Web UI port.")] = 8233,
    temporal_address: Annotated[
        str | None, typer.Option(help="Use an existing Temporal server (host:port).")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Database URL (default: SQLite under the data dir).")
    ] = None,
    data_dir: Annotated[Path, typer.Option(help="Where local state lives.")] = Path(".oo"),
    no_demo: Annotated[bool, typer.Option("--no-demo", help="Do not seed a demo user.")] = False,
) -> None:
    """Run oO on this machine: Temporal, migrations, worker and API, stopped by Ctrl-C."""
    from cli.dev import DevOptions, run_dev

    configure_logging(os.environ.get("OO_LOG_LEVEL", "WARNING"))
    opts = DevOptions(
        data_dir=data_dir.resolve(),
        port=port,
        temporal_port=temporal_port,
        ui_port=ui_port,
        temporal_address=temporal_address,
        database_url=database_url,
        demo=not no_demo,
    )
    try:
        asyncio.run(run_dev(opts))
    except Exception as exc:  # a clear line, not a stack trace
        typer.secho(f"oo dev failed: {exc}", err=True, fg="red")
        raise typer.Exit(1) from None


@app.command()
def migrate() -> None:
    """Upgrade the configured database to the newest schema."""
    from core.settings import get_settings
    from store.migrate import upgrade

    asyncio.run(upgrade(get_settings().database_url))
    typer.echo("database is up to date")


@app.command()
def worker() -> None:
    """Run a Temporal worker (production entry point)."""
    import worker as worker_module

    worker_module.main()


@app.command()
def api(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Serve the API (production entry point)."""
    import uvicorn

    from api import create_app
    from core.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


@app.command()
def tip(user_id: Annotated[UUID, typer.Argument(help="The user's id.")]) -> None:
    """Generate a tip for a user now and print it."""
    from contracts.tips import GenerateTipInput
    from core.settings import get_settings
    from core.temporal import connect
    from workflows.client import generate_tip

    async def run() -> str:
        settings = get_settings()
        client = await connect(settings)
        inp = GenerateTipInput(user_id=user_id, reason="cli")
        outcome = await generate_tip(client, inp, task_queue=settings.task_queue)
        if outcome.tip is None:
            return f"no tip now ({outcome.status})"
        return f"{outcome.tip.text}  [{outcome.tip.generator}: {', '.join(outcome.tip.agent_ids)}]"

    try:
        typer.echo(asyncio.run(run()))
    except RuntimeError as exc:
        typer.secho(f"could not generate a tip: {exc}", err=True, fg="red")
        raise typer.Exit(1) from None


if __name__ == "__main__":
    sys.exit(app())
