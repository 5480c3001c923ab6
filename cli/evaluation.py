"""`oo eval`: offline evaluation reports."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(help="Offline evaluation over synthetic personas.", no_args_is_help=True)
console = Console(highlight=False)


@app.command("agents")
def eval_agents(
    personas: Annotated[int, typer.Option(min=1, help="How many personas.")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the persona set.")] = 0,
    days: Annotated[int, typer.Option(min=14, max=730, help="Days of history each.")] = 60,
    out: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = Path(
        ".oo/eval/agents.json"
    ),
) -> None:
    """Recovery accuracy of every inferred parameter; exits 1 when a target is missed."""
    from agents import all_agents
    from sim.evaluate import as_json, evaluate

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("personas", total=personas)
        results = evaluate(
            all_agents(),
            count=personas,
            seed=seed,
            days=days,
            on_persona=lambda: progress.advance(task),
        )
    table = Table(title=f"agent recovery: {personas} personas, {days} days, seed {seed}")
    for column in ("parameter", "metric", "value", "target", "n", ""):
        table.add_column(column, justify="right" if column in {"value", "target", "n"} else "left")
    for r in results:
        verdict = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: ""}[r.passed]
        value = "missing" if r.value is None else f"{r.value:.3f}"
        target = f"≥ {r.target:.2f}" if r.target else "—"
        table.add_row(r.param, r.metric, value, target, str(r.n), verdict)
    console.print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(as_json(results, personas=personas, seed=seed, days=days), indent=2))
    console.print(f"report written to {out}")
    if any(r.passed is False for r in results):
        raise typer.Exit(1)
