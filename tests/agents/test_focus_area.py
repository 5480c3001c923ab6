from datetime import UTC, datetime, timedelta

import pytest

from agents import focus_area
from contracts.agents import ActiveTask, TaskCompletion, UserHistory
from sim.personas import make_garbage_history, make_persona

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
OPEN = [
    ("s1", "work", "Slides for Monday"),
    ("s2", "work", "Finish slides"),
    ("s3", "work", "slides: add charts"),
    ("r", "health", "run 5k"),
    ("i", "home", "pay invoice"),
]


def done(key: str, project: str, days_ago: int, content: str | None = None) -> TaskCompletion:
    at = NOW - timedelta(days=days_ago, hours=1)
    return TaskCompletion(task_key=key, project_key=project, completed_at=at, content=content)


def history(open_tasks: list[tuple[str, str, str]] = OPEN) -> UserHistory:
    """Work every day for a month, home only three to six weeks ago, a little health before."""
    items = [done(f"w{i}", "work", i) for i in range(30)]
    items += [done(f"h{i}", "home", 20 + i, "clean kitchen") for i in range(24)]
    items += [done(f"x{i}", "health", 44 + i) for i in range(5)]
    items.sort(key=lambda c: c.completed_at)
    active = [ActiveTask(task_key=k, project_key=p, content=t) for k, p, t in open_tasks]
    return UserHistory(completions=items, active_tasks=active)


def test_preferred_areas_are_the_two_projects_with_most_completions() -> None:
    assert focus_area.infer(history(), NOW) == {"preferred_areas": ["work", "home"]}
    tied = UserHistory(completions=[done("a", "b-proj", 1), done("b", "a-proj", 2)])
    assert focus_area.infer(tied, NOW) == {"preferred_areas": ["a-proj", "b-proj"]}


def test_open_tasks_about_one_theme_in_a_main_area_and_a_quiet_main_area() -> None:
    snippet = focus_area.compute(history(), {}, NOW)
    assert snippet is not None
    assert snippet.text == (
        'Most of your open tasks are about "slides" — your main area.'
        ' "clean kitchen" has had less of your time lately.'
    )
    assert snippet.facts == {
        "top_areas": ["work", "home"],
        "attention_area": "work",
        "attention_theme": "slides",
        "attention_share": 0.6,
        "attention_is_main": True,
        "neglected_area": "home",
        "themes": 3,
        "open_tasks": 5,
    }
    assert snippet.salience == 0.48
    assert snippet.expires_at == NOW + focus_area.MANIFEST.ttl


def test_attention_outside_the_preferred_areas_is_said_and_more_salient() -> None:
    main = focus_area.compute(history(), {}, NOW)
    elsewhere = focus_area.compute(history(), {"preferred_areas": ["health", "home"]}, NOW)
    assert main is not None and elsewhere is not None
    assert elsewhere.text.startswith(
        'Most of your open tasks are about "slides", not one of your main areas.'
    )
    assert elsewhere.facts["top_areas"] == ["health", "home"]
    assert elsewhere.salience > main.salience


def test_precomputed_embeddings_replace_the_offline_ones() -> None:
    h = history()
    # The embedder says "Finish slides" belongs with running and paying, not with the slides.
    near = {"s2", "r", "i", "h0"}
    h.embeddings = {k: [0.0, 1.0] if k in near else [1.0, 0.0] for k in ["s1", "s3", *near]}
    h.embeddings |= {f"h{i}": [0.0, 1.0] for i in range(24)}
    snippet = focus_area.compute(h, {}, NOW)
    assert snippet is not None
    assert snippet.facts["attention_theme"] == "clean kitchen"
    assert snippet.facts["attention_area"] == "home"


def test_the_same_history_always_gives_the_same_snippet() -> None:
    persona = make_persona(11, days=120, end=NOW)
    first = focus_area.compute(persona.history, {}, NOW)
    again = focus_area.compute(persona.history.model_copy(deep=True), {}, NOW)
    assert first is not None and first == again


def test_too_little_text_means_nothing_to_say() -> None:
    assert focus_area.compute(history(OPEN[:2]), {}, NOW) is None
    blank = [(k, p, " \n") for k, p, _ in OPEN]
    assert focus_area.compute(history(blank), {}, NOW) is None


def test_titles_clustered_stay_bounded_however_long_the_history() -> None:
    persona = make_persona(2, days=365, end=NOW, per_day=8)
    titles = focus_area.gather(persona.history, NOW)
    assert float(titles.open.sum() + titles.done.sum()) <= focus_area.MAX_TEXTS
    assert len(titles.texts) <= focus_area.MAX_TEXTS


def test_cold_start_and_garbage() -> None:
    assert focus_area.infer(UserHistory(), NOW) == {"preferred_areas": []}
    assert focus_area.compute(UserHistory(), {}, NOW) is None
    garbage = make_garbage_history(5, end=NOW)
    assert focus_area.infer(garbage, NOW) == {"preferred_areas": []}
    assert focus_area.compute(garbage, {"preferred_areas": "work"}, NOW) is None


@pytest.mark.parametrize("days", [60, 365])
def test_personas_preferred_areas_are_recovered(days: int) -> None:
    seeds = range(25)
    exact = 0
    for seed in seeds:
        persona = make_persona(seed, days=days, end=NOW)
        inferred = focus_area.infer(persona.history, persona.end)
        exact += set(inferred["preferred_areas"]) == set(persona.truth.preferred_areas)
    assert exact / len(seeds) >= 0.9
