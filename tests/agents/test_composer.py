from datetime import UTC, datetime, timedelta

from agents.composer import QUIET_TIP, compose
from contracts.agents import Snippet

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def snippet(agent_id: str, salience: float, *, ttl: timedelta = timedelta(hours=1)) -> Snippet:
    return Snippet(
        agent_id=agent_id,
        agent_version="1.0.0",
        text=f"from {agent_id}",
        salience=salience,
        expires_at=NOW + ttl,
    )


def test_the_most_salient_live_snippet_becomes_the_tip() -> None:
    draft = compose(
        [snippet("a", 0.4), snippet("b", 0.9), snippet("c", 1.0, ttl=-timedelta(minutes=1))], NOW
    )
    assert draft.text == "from b"
    assert draft.agent_ids == ["b"]
    assert draft.generator == "composer"


def test_no_snippet_gives_the_calm_default() -> None:
    draft = compose([], NOW)
    assert draft.text == QUIET_TIP and draft.agent_ids == []
