import importlib
import sys
from pathlib import Path

import pytest

from agents import all_agents, discover
from agents.registry import eligible


def test_the_package_scan_finds_time_of_day_and_nothing_that_is_not_an_agent() -> None:
    agents = all_agents()
    assert "time-of-day" in agents
    assert all(a.manifest.id == key for key, a in agents.items())


def test_a_new_agent_module_is_discovered_without_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "extra_agents"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "echo.py").write_text(
        "from datetime import timedelta\n"
        "from contracts.agents import AgentManifest\n"
        "MANIFEST = AgentManifest(id='echo', version='0.0.1', ttl=timedelta(hours=1),"
        " cadence=timedelta(hours=1), consents=['mood.read'])\n"
        "def compute(history, prefs, now):\n    return None\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    package = importlib.import_module("extra_agents")
    found = discover(package)
    assert list(found) == ["echo"]
    assert eligible(found, {"todoist.read"}) == []
    assert [a.id for a in eligible(found, {"mood.read"})] == ["echo"]
    sys.modules.pop("extra_agents.echo", None)
    sys.modules.pop("extra_agents", None)


def test_eligibility_needs_every_required_consent() -> None:
    agents = all_agents()
    assert "time-of-day" not in [a.id for a in eligible(agents, set())]
    assert "time-of-day" in [a.id for a in eligible(agents, {"todoist.read"})]


def test_third_party_agents_come_from_the_entry_point_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib.metadata import EntryPoint

    import agents.registry as reg

    (tmp_path / "oo_plugin_agent.py").write_text(
        "from datetime import timedelta\n"
        "from contracts.agents import AgentManifest\n"
        "MANIFEST = AgentManifest(id='plugin', version='1.0.0', ttl=timedelta(hours=1),"
        " cadence=timedelta(hours=1), inputs=['task_completions'], consents=['todoist.read'])\n"
        "def compute(history, prefs, now):\n    return None\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    points = [
        EntryPoint(name="plugin", value="oo_plugin_agent", group=reg.ENTRY_POINT_GROUP),
        EntryPoint(name="broken", value="no_such_module_xyz", group=reg.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(reg, "entry_points", lambda group: points)
    found = reg.discover()
    assert "plugin" in found and "time-of-day" in found  # a broken plugin is skipped, logged
    sys.modules.pop("oo_plugin_agent", None)


async def test_a_dropped_in_agent_module_is_used_for_tips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    import agents
    from agents.composer import compose
    from contracts.agents import UserHistory

    (tmp_path / "zz_dropped_in.py").write_text(
        "from datetime import timedelta\n"
        "from contracts.agents import AgentManifest, Snippet\n"
        "MANIFEST = AgentManifest(id='dropped-in', version='0.0.1', ttl=timedelta(hours=1),"
        " cadence=timedelta(hours=1), inputs=['task_completions'], consents=['todoist.read'])\n"
        "def compute(history, prefs, now):\n"
        "    return Snippet(agent_id='dropped-in', agent_version='0.0.1', text='Dropped in.',"
        " salience=1.0, expires_at=now + MANIFEST.ttl)\n"
    )
    # The package scan sees the new module exactly as if it had been added to agents/.
    monkeypatch.setattr(agents, "__path__", [*agents.__path__, str(tmp_path)])
    found = discover()
    assert "dropped-in" in found and "time-of-day" in found
    now = datetime.now(UTC)
    snippets = [
        s
        for a in eligible(found, {"todoist.read"})
        if (s := a.compute(UserHistory(), {}, now)) is not None
    ]
    assert compose(snippets, now).agent_ids == ["dropped-in"]
    sys.modules.pop("agents.zz_dropped_in", None)
