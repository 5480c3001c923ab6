"""Offline evaluation: how well the agents recover each persona's ground truth.

Each metric below names the inferred parameter it scores, how it is scored per persona, and the
target from the issue that introduced it. Parameters whose agent is not registered are reported
as missing rather than scored.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from agents.inference import run_inference
from agents.registry import Agent
from sim.personas import Persona, make_persona

Inferred = Mapping[str, Any]


@dataclass(frozen=True)
class Score:
    """One persona's contribution: values to average (None = not applicable to this persona)."""

    values: list[float]


@dataclass(frozen=True)
class Metric:
    param: str
    name: str
    target: float
    score: Callable[[Persona, Inferred], list[float]]
    aggregate: str = "mean"  # "mean" of per-item values, or "precision"/"recall" of booleans


@dataclass
class MetricResult:
    param: str
    metric: str
    value: float | None
    target: float
    n: int
    passed: bool | None


def circular_distance(a: int, b: int) -> int:
    d = abs(int(a) - int(b)) % 24
    return min(d, 24 - d)


def window_hours(start: int, end: int) -> set[int]:
    """Hours of a [start, end) window on the clock, wrapping midnight."""
    start, end = int(start) % 24, int(end) % 24
    if start == end:
        return set()
    return {h % 24 for h in range(start, start + (end - start) % 24)}


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _preferred_hour(p: Persona, inf: Inferred) -> list[float]:
    return [float(circular_distance(inf["preferred_hour"], p.truth.preferred_hour) <= 1)]


def _peak_hours(p: Persona, inf: Inferred) -> list[float]:
    return [jaccard(set(inf["peak_hours"] or []), set(p.truth.peak_hours))]


def _quiet_window(p: Persona, inf: Inferred) -> list[float]:
    iou = jaccard(window_hours(inf["quiet_start"], inf["quiet_end"]), set(p.truth.quiet_hours))
    return [float(iou >= 0.7)]


def _weekly_cycle(p: Persona, inf: Inferred) -> list[float]:
    # Encoded as 2*truth + predicted so that precision and recall can be derived.
    return [2.0 * p.truth.weekly_cycle + bool(inf["weekly_cycle"])]


def _trend_direction(p: Persona, inf: Inferred) -> list[float]:
    if p.truth.engagement_trend == "flat":
        return []
    return [float(inf["engagement_trend"] == p.truth.engagement_trend)]


def _trend_flat(p: Persona, inf: Inferred) -> list[float]:
    if p.truth.engagement_trend != "flat":
        return []
    return [float(inf["engagement_trend"] == "flat")]


def _project_realness(p: Persona, inf: Inferred) -> list[float]:
    realness = inf["project_realness"] or {}
    return [
        float(realness.get(proj.key) == proj.real)
        for proj in p.truth.projects
        if proj.completions >= 10
    ]


def _lateness(p: Persona, inf: Inferred) -> list[float]:
    if p.truth.lateness_tolerance_days is None:
        return []
    return [
        float(abs(float(inf["lateness_tolerance_days"]) - p.truth.lateness_tolerance_days) <= 1)
    ]


def _preferred_areas(p: Persona, inf: Inferred) -> list[float]:
    return [float(set(inf["preferred_areas"] or []) == set(p.truth.preferred_areas))]


def _baseline(p: Persona, inf: Inferred) -> list[float]:
    truth = p.truth.baseline_completions_per_day
    return [float(abs(float(inf["baseline_completions_per_day"]) - truth) <= 0.25 * truth)]


METRICS = [
    Metric("preferred_hour", "share within ±1 h", 0.90, _preferred_hour),
    Metric("peak_hours", "mean Jaccard", 0.70, _peak_hours),
    Metric("quiet_start/quiet_end", "share with IoU ≥ 0.7", 0.85, _quiet_window),
    Metric("weekly_cycle", "precision", 0.90, _weekly_cycle, "precision"),
    Metric("weekly_cycle", "recall", 0.90, _weekly_cycle, "recall"),
    Metric("engagement_trend", "direction right (real change)", 0.90, _trend_direction),
    Metric("engagement_trend", "flat when flat (info)", 0.0, _trend_flat),
    Metric("project_realness", "right (projects ≥ 10 completions)", 0.90, _project_realness),
    Metric("lateness_tolerance_days", "share within ±1 day", 0.85, _lateness),
    Metric("preferred_areas", "top-2 exact (info)", 0.0, _preferred_areas),
    Metric("baseline_completions_per_day", "within ±25 % (info)", 0.0, _baseline),
]


def _aggregate(metric: Metric, values: list[float]) -> float | None:
    if metric.aggregate == "mean":
        return float(np.mean(values)) if values else None
    codes = np.asarray(values)
    tp = int(np.sum(codes == 3))
    predicted = int(np.sum((codes == 1) | (codes == 3)))
    actual = int(np.sum(codes >= 2))
    if metric.aggregate == "precision":
        return tp / predicted if predicted else None
    return tp / actual if actual else None


def infer_all(agents: Mapping[str, Agent], persona: Persona) -> dict[str, Any]:
    """Every agent's inferred params for a persona, as of the end of its history."""
    inferred: dict[str, Any] = {}
    for agent in agents.values():
        inferred.update(run_inference(agent, persona.history, now=persona.end))
    return inferred


def personas(count: int, *, seed: int, days: int) -> Iterator[Persona]:
    for i in range(count):
        yield make_persona(seed * 100_003 + i, days=days)


def evaluate(
    agents: Mapping[str, Agent],
    *,
    count: int,
    seed: int = 0,
    days: int = 60,
    on_persona: Callable[[], None] | None = None,
) -> list[MetricResult]:
    """Score every metric over `count` seeded personas."""
    collected: dict[int, list[float]] = {i: [] for i in range(len(METRICS))}
    provided = {p.key for a in agents.values() for p in a.manifest.inferred}
    for persona in personas(count, seed=seed, days=days):
        inferred = infer_all(agents, persona)
        for i, metric in enumerate(METRICS):
            needed = metric.param.split("/")
            if all(k in provided for k in needed):
                collected[i] += metric.score(persona, inferred)
        if on_persona:
            on_persona()
    results = []
    for i, metric in enumerate(METRICS):
        needed = metric.param.split("/")
        value = _aggregate(metric, collected[i]) if all(k in provided for k in needed) else None
        scored = metric.target > 0 and value is not None
        results.append(
            MetricResult(
                param=metric.param,
                metric=metric.name,
                value=None if value is None else round(value, 4),
                target=metric.target,
                n=len(collected[i]),
                passed=(value >= metric.target) if scored and value is not None else None,
            )
        )
    return results


def as_json(results: list[MetricResult], **meta: Any) -> dict[str, Any]:
    return {**meta, "metrics": [asdict(r) for r in results]}
