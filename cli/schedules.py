"""`oo schedules`: the per-agent sweep schedules."""

import asyncio

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Per-agent sweep schedules in Temporal.", no_args_is_help=True)
console = Console(highlight=False)


@app.command("sync")
def sync() -> None:
    """Create, update and delete schedules to match the agent registry."""
    from agents import all_agents
    from core.settings import get_settings
    from core.temporal import connect
    from workflows.schedules import sync_schedules

    async def run() -> None:
        settings = get_settings()
        client = await connect(settings)
        report = await sync_schedules(client, all_agents(), task_queue=settings.task_queue)
        for verb in ("created", "updated", "deleted", "unchanged"):
            for schedule_id in getattr(report, verb):
                console.print(f"{verb:>9}  {schedule_id}")

    try:
        asyncio.run(run())
    except RuntimeError as exc:
        console.print(f"[red]could not reach Temporal:[/] {exc}")
        raise typer.Exit(1) from None


@app.command("list")
def list_schedules() -> None:
    """The agent schedules, their interval and next run."""
    from core.settings import get_settings
    from core.temporal import connect
    from workflows.schedules import SWEEP_PREFIX

    async def run() -> Table:
        client = await connect(get_settings())
        table = Table("schedule", "every", "next run", "paused")
        async for listed in await client.list_schedules():
            if not listed.id.startswith(SWEEP_PREFIX):
                continue
            desc = await client.get_schedule_handle(listed.id).describe()
            every = ", ".join(str(i.every) for i in desc.schedule.spec.intervals)
            upcoming = desc.info.next_action_times[:1]
            table.add_row(
                listed.id,
                every,
                upcoming[0].isoformat(timespec="seconds") if upcoming else "—",
                "yes" if desc.schedule.state.paused else "no",
            )
        return table

    try:
        console.print(asyncio.run(run()))
    except RuntimeError as exc:
        console.print(f"[red]could not reach Temporal:[/] {exc}")
        raise typer.Exit(1) from None
