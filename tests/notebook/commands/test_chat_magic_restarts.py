"""%%yj_chat when a stream breaks once: the live view says so ("connection dropped:
retrying"), then shows the new attempt's answer; the cell ends well (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest
from chat_helpers import CHAT, run

CHAT_PATH = "/llmage/v1/chat/completions"
ONCE = [
    ({"drop_after": 6}, "connection dropped"),
    ({"no_finish": 1}, "cut without a finish signal"),
    ({"bad_chunk_after": 6}, "malformed chunk"),
]


@pytest.fixture
def live(magics: Any) -> Any:
    magics.stream_output = "display"
    return magics


def markdown_of(outputs: list[Any]) -> list[str]:
    return [o.data.get("text/markdown", "") for o in outputs]


@pytest.mark.parametrize(("fault", "why"), ONCE)
def test_the_live_view_says_retrying_then_shows_the_new_answer(
    shell: Any, live: Any, emulator: Any, records: list[Any], fault: dict[str, Any], why: str
) -> None:
    emulator.set_faults(path=CHAT_PATH, times=1, **fault)
    shown = run(shell, "max_tokens=40", "Tell me a story")
    assert shown.error is None
    assert emulator.count(CHAT) == 2
    shown_md = markdown_of(shown.outputs)
    retrying = [i for i, md in enumerate(shown_md) if f"{why}: retrying" in md]
    assert retrying, shown_md
    answer = shell.user_ns["_yj"]
    assert not answer.interrupted and answer.text
    # The notice replaced what the broken attempt had shown; the new answer replaced it.
    assert answer.text not in shown_md[retrying[0]]
    assert answer.text in shown.final["text/markdown"]
    assert f"{why}: retrying" not in shown.final["text/markdown"]
    assert [r.status for r in records if r.kind == "chat"] == ["interrupted", "ok"]


def test_on_a_terminal_the_restart_is_a_line(shell: Any, emulator: Any) -> None:
    emulator.set_faults(path=CHAT_PATH, times=1, drop_after=6)
    shown = run(shell, "max_tokens=40", "Tell me a story")
    assert shown.error is None
    _, notice, after = shown.stdout.partition("[connection dropped: retrying]\n")
    assert notice
    assert after.startswith(shell.user_ns["_yj"].text)


def test_several_models_one_column_restarts(shell: Any, live: Any, emulator: Any) -> None:
    emulator.set_faults(path=CHAT_PATH, times=1, drop_after=6)
    shown = run(shell, "-m qwen3-max,qwen-plus max_tokens=40", "Tell me a story")
    assert shown.error is None
    assert emulator.count(CHAT) == 3
    html = [o.data.get("text/html", "") for o in shown.outputs]
    assert any("connection dropped: retrying" in h for h in html)
    answers = shell.user_ns["_yj"]
    assert all(not r.interrupted and r.text for r in answers.values())
