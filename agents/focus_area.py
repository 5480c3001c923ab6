"""focus-area: what the open tasks are about, and whether that is where this person's work is."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from agents.clustering import F64, I64, cluster, embed, fence, theme
from agents.frame import DAY_S, HistoryFrame, frame_of
from agents.registry import Prefs
from contracts.agents import AgentManifest, InferredParam, Snippet, UserHistory

MAX_OPEN = 100  # open tasks clustered; the rest of the budget goes to recent completions
MAX_TEXTS = 200  # clustering cost stays flat however long the history grows
SCAN = 800  # completions looked at from the end (histories arrive in time order)
MIN_OPEN = 3
MAX_K = 12
RECENT_DAYS = 14
MIN_FOR_TREND = 30
MIN_RECENT = 10
SEED = 20_260_601  # a fixed seed: the same titles always give the same clusters

Row = tuple[str, str, str | None, int]  # task key, title, project key, 1 when open

MANIFEST = AgentManifest(
    id="focus-area",
    version="0.1.0",
    ttl=timedelta(hours=24),
    cadence=timedelta(hours=24),
    inputs=["task_completions", "active_tasks"],
    consents=["todoist.read"],
    min_history=0,
    inferred=[InferredParam(key="preferred_areas", cold_start_default=[])],
)


@dataclass(frozen=True)
class Attention:
    """Where the open tasks cluster: a theme, its share of open tasks, its main project."""

    theme: str
    share: float
    area: str | None
    clusters: int


@dataclass(frozen=True)
class Titles:
    """Distinct titles (first spelling kept) with a task key, a project and their weights."""

    keys: list[str]
    texts: list[str]
    projects: list[str | None]
    open: F64
    done: F64


def preferred_areas(frame: HistoryFrame) -> list[str]:
    """The two projects with most completions over the whole cleaned history (ties by key).

    Not recency-weighted: the main areas are the long-run ones; `neglected` covers drift.
    """
    counts = np.bincount(frame.project[frame.project >= 0], minlength=len(frame.project_keys))
    keys = frame.project_keys
    order = sorted(range(len(keys)), key=lambda i: (-int(counts[i]), keys[i]))
    return [keys[i] for i in order[:2] if counts[i] > 0]


def infer(history: UserHistory, now: datetime) -> dict[str, Any]:
    """preferred_areas from completed tasks."""
    return {"preferred_areas": preferred_areas(frame_of(history, now))}


def gather(history: UserHistory, now: datetime) -> Titles:
    """Open task titles, then the latest completed titles with text, within a fixed budget."""
    rows: list[Row] = [
        (t.task_key, t.content, t.project_key, 1) for t in history.active_tasks[:MAX_OPEN]
    ]
    for c in reversed(history.completions[-SCAN:]):
        if len(rows) >= MAX_TEXTS:
            break
        if c.content and c.completed_at <= now:
            rows.append((c.task_key, c.content, c.project_key, 0))
    return _distinct(rows)


def _distinct(rows: list[Row]) -> Titles:
    """One entry per title (case and spacing ignored), counting open and done occurrences."""
    index: dict[str, int] = {}
    keys: list[str] = []
    texts: list[str] = []
    projects: list[str | None] = []
    counts: list[list[float]] = []
    for key, text, project, opened in rows:
        norm = " ".join(text.lower().split())
        if not norm:
            continue
        if norm not in index:
            index[norm] = len(texts)
            keys.append(key)
            texts.append(text)
            projects.append(project)
            counts.append([0.0, 0.0])
        counts[index[norm]][opened] += 1.0
    n = np.asarray(counts).reshape(-1, 2)
    return Titles(keys, texts, projects, open=n[:, 1].copy(), done=n[:, 0].copy())


def neglected(frame: HistoryFrame, main: list[str]) -> str | None:
    """A main area whose share of the last two weeks' completions fell below half its usual."""
    if frame.size < MIN_FOR_TREND:
        return None
    recent = frame.t >= frame.now - RECENT_DAYS * DAY_S
    n_recent = int(recent.sum())
    if n_recent < MIN_RECENT:  # a quiet fortnight (a holiday) says nothing about one area
        return None
    for area in main:
        if area not in frame.project_keys:
            continue
        mine = frame.project == frame.project_keys.index(area)
        usual = float(mine.mean())
        if float(mine[recent].sum()) / n_recent < 0.5 * usual:
            return area
    return None


def _main(prefs: Prefs, frame: HistoryFrame) -> list[str]:
    value = prefs.get("preferred_areas")
    return [str(a) for a in value] if isinstance(value, list) else preferred_areas(frame)


def _dominant(projects: list[str | None], weights: F64, members: I64) -> str | None:
    """The project holding most weight among the members (ties by first seen)."""
    tally: dict[str | None, float] = {}
    for i in members:
        tally[projects[i]] = tally.get(projects[i], 0.0) + float(weights[i])
    return max(tally, key=lambda p: tally[p]) if tally else None


def _title_of(titles: Titles, area: str) -> str | None:
    """The most frequent title of an area, to name it (project keys are opaque)."""
    weights = titles.open + titles.done
    mine = [i for i, p in enumerate(titles.projects) if p == area]
    return titles.texts[max(mine, key=lambda i: (weights[i], -i))] if mine else None


def attention(titles: Titles, precomputed: Mapping[str, Sequence[float]]) -> Attention:
    """The theme holding most open tasks, its share of them and the project it mostly sits in.

    k grows as the square root of the distinct titles: a handful of themes for a short list,
    never more than MAX_K however many titles there are.
    """
    weights = titles.open + titles.done
    k = min(MAX_K, math.ceil(math.sqrt(len(titles.texts))))
    x = embed(titles.keys, titles.texts, precomputed)
    groups = cluster(x, k, np.random.default_rng(SEED), weights)
    open_by = np.bincount(groups.labels, weights=titles.open, minlength=groups.k)
    top = int(np.argmax(open_by))  # ties go to the theme seen first: open tasks come first
    members = np.nonzero(groups.labels == top)[0]
    return Attention(
        theme=theme(titles.texts, weights, members, groups.representatives[top]),
        share=float(open_by[top] / titles.open.sum()),
        area=_dominant(titles.projects, weights, members),
        clusters=groups.k,
    )


def compute(history: UserHistory, prefs: Prefs, now: datetime) -> Snippet | None:
    """Which area the open tasks cluster around, whether it is a main one, what is neglected."""
    titles = gather(history, now)
    if float(titles.open.sum()) < MIN_OPEN:
        return None
    frame = frame_of(history, now)
    main = _main(prefs, frame)
    focus = attention(titles, history.embeddings)
    is_main = focus.area in main
    lost = neglected(frame, main)
    lead = "Most of your open tasks are" if focus.share >= 0.5 else "Many of your open tasks are"
    text = f"{lead} about {fence(focus.theme, 40)}"
    text += " — your main area." if is_main else ", not one of your main areas."
    lost_title = _title_of(titles, lost) if lost and lost != focus.area else None
    if lost_title:
        text += f" {fence(lost_title, 40)} has had less of your time lately."
    return Snippet(
        agent_id=MANIFEST.id,
        agent_version=MANIFEST.version,
        text=text,
        facts={
            "top_areas": main,
            "attention_area": focus.area,
            "attention_theme": focus.theme,
            "attention_share": round(focus.share, 3),
            "attention_is_main": is_main,
            "neglected_area": lost,
            "themes": focus.clusters,
            "open_tasks": int(titles.open.sum()),
        },
        salience=salience(focus.share, is_main, lost is not None),
        expires_at=now + MANIFEST.ttl,
    )


def salience(share: float, is_main: bool, neglect: bool) -> float:
    """Context, mostly: it rises when attention drifts from the main areas or one goes quiet."""
    return round(min(1.0, 0.15 + 0.3 * share + 0.15 * (not is_main) + 0.15 * neglect), 3)
