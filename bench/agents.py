"""Agent compute cost: µs per call at 1 month, 6 months, 1 year and 2 years of history.

Prints a table and writes bench/results/agents.json. Run: `python -m bench.agents`.
"""

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from agents import all_agents
from sim.personas import make_persona

SIZES = {"1 month": 30, "6 months": 182, "1 year": 365, "2 years": 730}
END = datetime(2026, 6, 1, 12, tzinfo=UTC)


def per_call_us(fn: object, *args: object, repeat: int = 30) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            fn(*args)  # type: ignore[operator]
        best = min(best, (time.perf_counter() - start) / repeat)
    return best * 1e6


def main() -> None:
    rows = []
    for agent in all_agents().values():
        base = None
        for label, days in SIZES.items():
            history = make_persona(1, days=days, end=END, per_day=8).history
            us = per_call_us(agent.compute, history, {}, END)
            base = base or us
            rows.append(
                {
                    "agent": agent.id,
                    "history": label,
                    "completions": len(history.completions),
                    "us_per_call": round(us, 1),
                    "ratio_to_1_month": round(us / base, 2),
                }
            )
    print(f"{'agent':<14}{'history':<10}{'completions':>12}{'µs/call':>10}{'x 1 month':>11}")
    for r in rows:
        print(
            f"{r['agent']:<14}{r['history']:<10}{r['completions']:>12}"
            f"{r['us_per_call']:>10}{r['ratio_to_1_month']:>11}"
        )
    out = Path(__file__).parent / "results" / "agents.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
