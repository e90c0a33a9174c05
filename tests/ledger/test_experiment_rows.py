"""Migration 6: a call made for an experiment carries its name and run id into the ledger."""

from __future__ import annotations

from pathlib import Path

from yjnb._hooks import current_experiment, emit
from yjnb._types import UsageRecord
from yjnb.ledger import default_ledger, flush


def test_a_call_inside_an_experiment_is_tagged_in_the_ledger(isolated_env: Path) -> None:
    emit(UsageRecord(kind="chat", status="ok", model="qwen3-max", prompt="plain"))
    token = current_experiment.set(("lamps", "run123"))
    try:
        emit(UsageRecord(kind="chat", status="ok", model="qwen3-max", prompt="tagged"))
    finally:
        current_experiment.reset(token)
    flush()
    rows = {r["prompt"]: r for r in default_ledger().rows()}
    assert (rows["tagged"]["experiment"], rows["tagged"]["run_id"]) == ("lamps", "run123")
    assert rows["plain"]["experiment"] is None and rows["plain"]["run_id"] is None
    by_experiment = default_ledger().frame(demo=None).groupby("experiment").size()
    assert by_experiment.to_dict() == {"lamps": 1}  # spend grouped by experiment
