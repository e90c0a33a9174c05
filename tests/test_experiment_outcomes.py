"""An experiment's outcome of a call that worked, and what of it the answer cache keeps."""

from __future__ import annotations

from yjnb._experiment_run import _answer_in, _ok, answer_of
from yjnb._types import ChatResult, Usage


def test_an_ok_outcome_is_the_answer_with_its_status_and_the_cache_keeps_the_answer() -> None:
    result = ChatResult(text="hi", model="m", usage=Usage(1, 2, 3, 0), latency_s=0.5)
    outcome = _ok(result)
    answer = answer_of(result)
    assert outcome == {**answer, "status": "ok", "error": None, "cached": False}
    assert list(outcome) == [*answer, "status", "error", "cached"]  # the results' column order
    kept = _answer_in(outcome)
    assert kept == answer and list(kept) == list(answer)
    assert outcome["status"] == "ok"  # the outcome itself is left as it was
