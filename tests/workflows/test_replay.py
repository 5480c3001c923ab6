"""Saved histories replay against today's workflow code (determinism guard)."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from tests.histories.variants import PatchedChange, UnpatchedChange
from workflows import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())


def test_there_is_a_saved_history_of_every_workflow() -> None:
    names = {
        load(p).events[0].workflow_execution_started_event_attributes.workflow_type.name
        for p in HISTORIES
    }
    assert names == {w.__name__ for w in WORKFLOWS}


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_histories_replay_cleanly(path: Path) -> None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(load(path))


async def test_an_unpatched_change_is_caught_and_a_patched_one_is_not() -> None:
    history = load(HISTORIES[[p.stem for p in HISTORIES].index("generate_tip")])
    unpatched = Replayer(workflows=[UnpatchedChange], data_converter=pydantic_data_converter)
    with pytest.raises(NondeterminismError):
        await unpatched.replay_workflow(history)
    patched = Replayer(workflows=[PatchedChange], data_converter=pydantic_data_converter)
    await patched.replay_workflow(history)
