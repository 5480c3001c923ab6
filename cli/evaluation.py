"""`oo eval`: offline evaluation reports."""

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    import httpx
    from pydantic import SecretStr

    from activities.llm import LlmActivities
    from core.settings import Settings
    from sim.evaluate_tips import Judge, PersonaTip, TipReport, Writer

app = typer.Typer(help="Offline evaluation over synthetic personas.", no_args_is_help=True)
console = Console(highlight=False)


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


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

    with _progress() as progress:
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


@app.command("tips")
def eval_tips(
    personas: Annotated[int, typer.Option(min=1, help="How many personas.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the persona set.")] = 0,
    days: Annotated[int, typer.Option(min=14, max=730, help="Days of history each.")] = 60,
    llm_url: Annotated[
        str | None,
        typer.Option(help="LiteLLM proxy for the LLM path; without it the composer writes."),
    ] = None,
    judge: Annotated[
        bool, typer.Option("--judge", help="Score each tip 1 to 5 with the `judge` alias.")
    ] = False,
    out: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = Path(
        ".oo/eval/tips.json"
    ),
) -> None:
    """The tips oO would show each persona: made or "nothing", guard, fallback, agents."""
    from agents import all_agents
    from core.settings import get_settings
    from sim.evaluate_tips import as_json, summarise

    if judge and not llm_url:
        raise typer.BadParameter("the judge is an LLM: give --llm-url too", param_hint="--judge")
    settings = get_settings()
    # Rejections are counted in the report; one log line each would only bury the table.
    logging.getLogger("temporalio.activity").setLevel(logging.ERROR)
    with _progress() as progress:
        task = progress.add_task("personas", total=personas)
        results = asyncio.run(
            run_tip_eval(
                settings,
                count=personas,
                seed=seed,
                days=days,
                llm_url=llm_url,
                judge=judge,
                on_persona=lambda: progress.advance(task),
            )
        )
    report = summarise(results)
    writer = "llm" if llm_url else "composer"
    title = f"tips for {personas} personas ({days} days of history, seed {seed})"
    console.print(_tips_table(report, title, writer))
    console.print(_agents_table(report, list(all_agents())))
    params = {"personas": personas, "seed": seed, "days": days, "writer": writer, "judge": judge}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(as_json(report, results, **params), indent=2, ensure_ascii=False))
    console.print(f"report written to {out}")
    if settings.mlflow_tracking_uri:
        _log_to_mlflow(settings, report, params)


async def run_tip_eval(
    settings: "Settings",
    *,
    count: int,
    seed: int = 0,
    days: int = 60,
    llm_url: str | None = None,
    judge: bool = False,
    on_persona: Callable[[], None] | None = None,
) -> "list[PersonaTip]":
    """Every persona's tip: by the LLM path (as in production) with `llm_url`, else composed."""
    from activities.llm import LlmActivities, new_http_client
    from agents import all_agents
    from sim.evaluate_tips import evaluate_tips

    agents = all_agents()
    if not llm_url:
        return await evaluate_tips(agents, count=count, seed=seed, days=days, on_persona=on_persona)
    timeout_s = settings.llm_timeout_seconds
    async with new_http_client(timeout_s) as http:
        llm = LlmActivities(
            http,
            base_url=llm_url,
            api_key=settings.litellm_api_key,
            timeout_s=timeout_s,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
        )
        return await evaluate_tips(
            agents,
            count=count,
            seed=seed,
            days=days,
            writer=llm_writer(llm),
            judge=judge_client(http, llm_url, settings.litellm_api_key, timeout_s)
            if judge
            else None,
            concurrency=settings.llm_concurrency,
            on_persona=on_persona,
        )


def llm_writer(llm: "LlmActivities") -> "Writer":
    """The production LLM path (orchestrator prompt, `tip-generator`, guard) as a writer."""
    from temporalio.exceptions import ApplicationError

    from contracts.agents import Snippet
    from contracts.llm import GenerateTipTextInput
    from contracts.tips import TipDraft
    from sim.evaluate_tips import LlmAttempt

    async def write(snippets: list[Snippet], now: datetime, local_time: str) -> LlmAttempt:
        inp = GenerateTipTextInput(snippets=snippets, as_of=now, local_time=local_time)
        try:
            tip = await llm.generate_tip_text(inp)
        except ApplicationError as err:
            return LlmAttempt(error=err.type or type(err).__name__)
        draft = TipDraft(
            text=tip.text,
            kind=tip.kind,
            agent_ids=tip.agent_ids,
            generator="llm",
            model=tip.model,
            prompt_version=tip.prompt_version,
            latency_ms=tip.latency_ms,
        )
        return LlmAttempt(draft=draft)

    return write


def judge_client(
    http: "httpx.AsyncClient", base_url: str, api_key: "SecretStr | None", timeout_s: float
) -> "Judge":
    """The `judge` alias behind LiteLLM: messages in, the reply's text out."""
    from sim.evaluate_tips import JUDGE_ALIAS

    key = api_key.get_secret_value() if api_key else ""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    url = f"{base_url.rstrip('/')}/v1/chat/completions"

    async def ask(messages: list[dict[str, str]]) -> str:
        body = {"model": JUDGE_ALIAS, "messages": messages, "temperature": 0, "max_tokens": 20}
        async with asyncio.timeout(timeout_s):
            response = await http.post(url, json=body, headers=headers)
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
        return content if isinstance(content, str) else ""

    return ask


def _share(part: int, whole: int) -> str:
    return f"{part} ({part / whole:.0%})" if whole else str(part)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _tips_table(report: "TipReport", title: str, writer: str) -> Table:
    table = Table(title=title, min_width=len(title) + 4)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("writer", "LLM, composer fallback" if writer == "llm" else "composer")
    table.add_row("tips made", _share(report.tips, report.personas))
    table.add_row("nothing now", _share(report.nothing, report.personas))
    if report.llm_attempts:
        table.add_row("LLM tips", _share(report.llm_tips, report.llm_attempts))
        table.add_row("guard pass rate", _rate(report.guard_pass_rate))
        table.add_row("fallback rate", _rate(report.fallback_rate))
        for error, n in report.llm_errors.items():
            table.add_row(f"  [dim]{error}[/]", f"[dim]{n}[/]")
    length = report.mean_length
    table.add_row("mean tip length", "—" if length is None else f"{length:.0f} chars")
    if report.judged:
        table.add_row("judge mean (1 to 5)", f"{report.judge_mean:.2f} ({report.judged} judged)")
    return table


def _agents_table(report: "TipReport", agent_ids: list[str]) -> Table:
    table = Table(title="tips by contributing agent", min_width=40)
    table.add_column("agent")
    table.add_column("share of tips", justify="right")
    if report.agent_errors:
        table.add_column("errors", justify="right")
    for agent in sorted(agent_ids, key=lambda a: (-report.agent_share.get(a, 0.0), a)):
        row = [agent, f"{report.agent_share.get(agent, 0.0):.0%}"]
        if report.agent_errors:
            errors = report.agent_errors.get(agent, 0)
            row.append(f"[red]{errors}[/]" if errors else "")
        table.add_row(*row)
    return table


def _log_to_mlflow(settings: "Settings", report: "TipReport", params: dict[str, object]) -> None:
    """Best effort: the summary as an MLflow run; the command never fails because of it."""
    from core.tracing import configure_tracing, log_run
    from sim.evaluate_tips import metrics

    run_id = None
    if configure_tracing(settings, wait_s=5):
        run_id = log_run("eval-tips", metrics=metrics(report), params=params)
    if run_id:
        console.print(
            f"metrics logged to MLflow (experiment {settings.mlflow_experiment}, run {run_id})"
        )
    else:
        console.print("[yellow]MLflow did not answer: metrics not logged[/]")
