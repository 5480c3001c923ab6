"""`oo eval tips`: the tips over seeded personas, by the composer and by the LLM path."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import core.settings
from agents import all_agents
from agents.composer import compose
from cli.evaluation import run_tip_eval
from cli.main import app
from contracts.errors import LLM_REJECTED, LLM_UNAVAILABLE
from contracts.tips import MIN_TIP_SALIENCE
from core.settings import Settings
from sim.evaluate import personas
from sim.evaluate_tips import (
    JUDGE_ALIAS,
    PersonaTip,
    evaluate_tips,
    parse_score,
    snippets_for,
    summarise,
)
from tests.core.test_tracing import mlflow_state  # noqa: F401 - a fixture
from tests.factories import fixed_agent, free_tcp_port
from tests.fakes.litellm import fake_litellm

COUNT = 6
SEED = 3
VALID_TIP = "Call the plumber before lunch."


def settings(**overrides: object) -> Settings:
    return Settings(llm_timeout_seconds=5, llm_concurrency=3, **overrides)  # type: ignore[arg-type]


async def llm_run(url: str, *, judge: bool = False) -> list[PersonaTip]:
    return await run_tip_eval(settings(), count=COUNT, seed=SEED, llm_url=url, judge=judge)


async def test_the_composer_alone_gives_consistent_counts() -> None:
    agents = all_agents()
    results = await evaluate_tips(agents, count=COUNT, seed=SEED)
    report = summarise(results)

    assert [r.persona for r in results] == [p.name for p in personas(COUNT, seed=SEED, days=60)]
    drafts = [r.draft for r in results if r.draft is not None]
    assert report.personas == COUNT and report.tips + report.nothing == COUNT
    assert report.tips == len(drafts) > 0
    assert {d.generator for d in drafts} == {"composer"}
    assert report.llm_attempts == 0 and report.guard_pass_rate is report.fallback_rate is None
    assert report.mean_length == round(sum(len(d.text) for d in drafts) / len(drafts), 1)
    assert sum(report.agent_share.values()) == pytest.approx(1.0, abs=1e-3)  # one agent each
    for agent, share in report.agent_share.items():
        assert share == round(sum(agent in d.agent_ids for d in drafts) / len(drafts), 4)
    # Each tip is the composer's over the salient snippets, as the workflow makes it.
    for persona, result in zip(personas(COUNT, seed=SEED, days=60), results, strict=True):
        snippets, _ = snippets_for(agents, persona)
        worthy = [s for s in snippets if s.salience >= MIN_TIP_SALIENCE]
        assert result.draft == (compose(worthy, persona.end) if worthy else None)
    assert await evaluate_tips(agents, count=COUNT, seed=SEED) == results


async def test_nothing_salient_is_counted_as_nothing() -> None:
    faint = fixed_agent(salience=MIN_TIP_SALIENCE / 2)
    report = summarise(await evaluate_tips({faint.id: faint}, count=3, seed=SEED))
    assert (report.tips, report.nothing) == (0, 3)
    assert report.agent_share == {} and report.mean_length is None


async def test_a_valid_llm_tip_passes_the_guard() -> None:
    with fake_litellm(reply=f"S1 todo: {VALID_TIP}") as llm:
        results = await llm_run(llm.url)
        models = [c.body["model"] for c in llm.chat_calls]
    report = summarise(results)
    assert report.tips == report.llm_attempts == report.llm_tips == len(models) > 0
    assert set(models) == {"tip-generator"}
    assert report.guard_pass_rate == 1.0 and report.fallback_rate == 0.0
    assert {(r.draft.generator, r.draft.text) for r in results if r.draft} == {("llm", VALID_TIP)}


@pytest.mark.parametrize(
    ("failure", "error"),
    [("garbage", LLM_REJECTED), ("link", LLM_REJECTED), ("down", LLM_UNAVAILABLE)],
)
async def test_a_failing_llm_falls_back_to_the_composer(failure: str, error: str) -> None:
    with fake_litellm(reply="S1 advice: read https://example.com/tips first") as llm:
        if failure == "garbage":
            llm.garbage("no_choices", times=None)
        elif failure == "down":
            llm.fail_with(500, times=None)  # type: ignore[arg-type]
        results = await llm_run(llm.url)
    report = summarise(results)
    assert report.llm_attempts == report.tips > 0 and report.llm_tips == 0
    assert report.fallback_rate == 1.0
    assert report.guard_pass_rate == (None if failure == "down" else 0.0)
    assert report.llm_errors == {error: report.tips}
    assert {r.draft.generator for r in results if r.draft} == {"composer"}


async def test_the_judge_scores_every_tip() -> None:
    # The fake answers every call alike: "4" is both a plain tip and a score.
    with fake_litellm(reply="4") as llm:
        report = summarise(await llm_run(llm.url, judge=True))
        judged = [c.body for c in llm.chat_calls if c.body["model"] == JUDGE_ALIAS]
    assert report.judged == report.tips == len(judged) > 0
    assert report.judge_mean == 4.0
    prompt = judged[0]["messages"][-1]["content"]
    assert '{"tip": "4"}' in prompt and prompt.endswith("DATA>>>")


async def test_an_unreadable_judge_scores_nothing() -> None:
    with fake_litellm(reply="Score: 9000") as llm:
        report = summarise(await llm_run(llm.url, judge=True))
    assert report.tips > 0 and report.judged == 0 and report.judge_mean is None


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ('{"score": 4}', 4.0),
        ('{"score": "3"}', 3.0),
        ("Score: 5 - concrete and timely.", 5.0),
        ("I'd give it 2/5.", 2.0),
        (" 4.5 ", 4.5),
        ("1", 1.0),
        ('{"score": 7}', None),
        ("0", None),
        ("true", None),
        ("S1 advice: take 2 breaks", None),
        ("a fine tip", None),
        ("", None),
    ],
)
def test_judge_replies_are_read_defensively(reply: str, score: float | None) -> None:
    assert parse_score(reply) == score


def test_the_command_writes_its_report_and_survives_a_dead_mlflow(
    mlflow_state: None,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    dead = f"http://127.0.0.1:{free_tcp_port()}"
    monkeypatch.setattr(core.settings, "get_settings", lambda: settings(mlflow_tracking_uri=dead))
    out = tmp_path / "tips.json"
    result = CliRunner().invoke(app, ["eval", "tips", "--personas", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "tips made" in result.output and "metrics not logged" in result.output
    report = json.loads(out.read_text())
    assert report["summary"]["personas"] == 3 and len(report["personas"]) == 3
    assert report["writer"] == "composer"


def test_the_judge_needs_an_llm() -> None:
    result = CliRunner().invoke(app, ["eval", "tips", "--judge"])
    assert result.exit_code == 2
