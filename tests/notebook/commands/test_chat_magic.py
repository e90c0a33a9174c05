"""%%yj_chat through a real IPython shell against the emulator."""

from __future__ import annotations

import _thread
import threading
from typing import Any

import pytest
from chat_helpers import CHAT, run
from IPython.core.error import UsageError

from yjnb import ChatResult


@pytest.fixture
def live(magics: Any) -> Any:
    """Display mode (what a Jupyter kernel gets), whatever the test shell is."""
    magics.stream_output = "display"
    return magics


# -- basics ------------------------------------------------------------------------------------


def test_result_in_yj_and_not_displayed_again(shell: Any) -> None:
    result = shell.run_cell("%%yj_chat\necho: hello there")
    assert result.result is None  # no Out[] repeat
    yj = shell.user_ns["_yj"]
    assert isinstance(yj, ChatResult) and yj.text == "hello there"
    assert shell.user_ns["_yj_chat"] is yj


def test_output_variable(shell: Any) -> None:
    shell.run_cell_magic("yj_chat", "-o answer", "echo: forty two")
    assert shell.user_ns["answer"].text == "forty two"
    with pytest.raises(UsageError, match="not a valid variable name"):
        shell.run_cell_magic("yj_chat", "-o 2bad", "echo: x")


def test_empty_cell_is_a_usage_error(shell: Any, emulator: Any) -> None:
    with pytest.raises(UsageError, match="cell is empty"):
        shell.run_cell_magic("yj_chat", "", "  \n")
    assert emulator.count(CHAT) == 0


def test_params_are_typed(shell: Any, records: list[Any]) -> None:
    shell.run_cell_magic("yj_chat", "temperature=0.2 max_tokens=5 top_p=1 enable=true", "Tell me")
    assert records[-1].params == {"temperature": 0.2, "max_tokens": 5, "top_p": 1, "enable": True}
    assert shell.user_ns["_yj"].usage.completion_tokens == 5


@pytest.mark.parametrize(("line", "match"), [("hello", "not a name=value"), ("model=x", "-m")])
def test_bad_params(shell: Any, emulator: Any, line: str, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        shell.run_cell_magic("yj_chat", line, "echo: x")
    assert emulator.count(CHAT) == 0


def test_system_prompt_and_no_stream(shell: Any, records: list[Any]) -> None:
    shell.run_cell_magic("yj_chat", "--no-stream -s 'Be brief'", "echo: short")
    assert shell.user_ns["_yj"].text == "short"
    assert records[-1].params.get("system") == "Be brief"


def test_terminal_streams_to_stdout(shell: Any) -> None:
    shown = run(shell, "", "echo: to the terminal")
    assert shown.outputs == []
    assert shown.stdout.startswith("to the terminal")
    assert "qwen3-max" in shown.stdout and "usage id" in shown.stdout


def test_reasoning_model_on_stdout(shell: Any) -> None:
    shown = run(shell, "-m deepseek-r1", "echo: done")
    assert shown.stdout.startswith("(reasoning) Okay")
    assert "\n\ndone" in shown.stdout


# -- the live display --------------------------------------------------------------------------


def test_one_display_then_updates_with_footer(shell: Any, live: Any) -> None:
    shown = run(shell, "max_tokens=300", "Tell me a story")
    assert len(shown.displays) == 1 and shown.updates
    display_id = shown.displays[0].transient["display_id"]
    assert all(o.transient["display_id"] == display_id for o in shown.updates)
    final = shown.final
    text = shell.user_ns["_yj"].text
    assert text in final["text/markdown"]
    footer = final["text/markdown"].rsplit("<small>", 1)[1]
    for part in ("qwen3-max", "prompt +", "300 completion", "cached", "first token", "total"):
        assert part in footer
    assert shell.user_ns["_yj"].usage_id in footer
    assert "demo" not in footer


def test_reasoning_is_collapsed_and_escaped(shell: Any, live: Any) -> None:
    shown = run(shell, "-m deepseek-r1", "echo: <b>bold</b> and `<i>`")
    md = shown.final["text/markdown"]
    assert "<details><summary>reasoning" in md and "<details open" not in md
    assert "&lt;b>bold&lt;/b>" in md  # raw HTML from the model is not rendered
    assert "`<i>`" in md  # code spans are left alone
    assert shell.user_ns["_yj"].reasoning in shell.user_ns["_yj"].reasoning  # kept in the result


def test_text_format_is_plain(shell: Any, live: Any) -> None:
    shown = run(shell, "-f text", "echo: plain *text*")
    assert set(shown.final) == {"text/plain"}
    assert shown.final["text/plain"].startswith("plain *text*")


# -- formats -----------------------------------------------------------------------------------


def test_code_goes_to_the_next_cell(shell: Any) -> None:
    shell.rl_next_input = None
    shell.run_cell_magic("yj_chat", "-f code", "write code to scale a list")
    assert shell.rl_next_input.startswith("def scale(values, factor=")
    assert "```" not in shell.rl_next_input


def test_json_is_parsed(shell: Any) -> None:
    shell.run_cell_magic("yj_chat", "-f json -o data", "answer in json")
    data = shell.user_ns["data"]
    assert set(data) == {"answer", "confidence", "tags"}
    assert shell.user_ns["_yj"] == data
    assert isinstance(shell.user_ns["_yj_chat"], ChatResult)


def test_bare_json_answer_is_parsed(shell: Any) -> None:
    shell.run_cell_magic("yj_chat", "-f json", 'echo: {"a": [1, 2]}')
    assert shell.user_ns["_yj"] == {"a": [1, 2]}


def test_not_json_is_a_clear_error(shell: Any) -> None:
    with pytest.raises(UsageError, match="not JSON") as err:
        shell.run_cell_magic("yj_chat", "-f json -o data", "echo: certainly not")
    assert "\n" not in str(err.value)
    assert shell.user_ns["_yj"].text == "certainly not"


# -- conversation ------------------------------------------------------------------------------


def test_consecutive_cells_continue_the_conversation(shell: Any, records: list[Any]) -> None:
    shell.run_cell_magic("yj_chat", "", "echo: first answer")
    shell.run_cell_magic("yj_chat", "", "echo: second answer")
    sent = records[-1].prompt
    assert sent.startswith("<history>\n<user>\necho: first answer\n</user>")
    assert "<assistant>\nfirst answer\n</assistant>\n</history>\n\necho: second answer" in sent
    assert shell.user_ns["_yj"].text == "second answer"


def test_new_starts_afresh(shell: Any, records: list[Any]) -> None:
    shell.run_cell_magic("yj_chat", "", "echo: one")
    shell.run_cell_magic("yj_chat", "--new", "echo: two")
    assert records[-1].prompt == "echo: two"


def test_history_is_capped(shell: Any, magics: Any, records: list[Any]) -> None:
    magics.max_history = 2
    for word in ("a", "b", "c", "d"):
        shell.run_cell_magic("yj_chat", "", f"echo: {word}")
    sent = records[-1].prompt
    assert "echo: a" not in sent and "echo: b" in sent and "echo: c" in sent
    turns = magics.session.conversations[("yuanjing", "qwen3-max")].turns
    assert [answer for _, answer in turns] == ["c", "d"]


def test_each_model_has_its_own_conversation(shell: Any, records: list[Any]) -> None:
    shell.run_cell_magic("yj_chat", "", "echo: to qwen")
    shell.run_cell_magic("yj_chat", "-m qwen-plus", "echo: to plus")
    assert records[-1].prompt == "echo: to plus"
    shell.run_cell_magic("yj_chat", "", "echo: qwen again")
    assert "to qwen" in records[-1].prompt and "to plus" not in records[-1].prompt


def test_system_prompt_stays_with_the_conversation(shell: Any, records: list[Any]) -> None:
    shell.run_cell_magic("yj_chat", "-s 'You are terse'", "echo: a")
    shell.run_cell_magic("yj_chat", "", "echo: b")
    assert records[-1].params.get("system") == "You are terse"


def test_a_broken_answer_does_not_join_the_history(
    shell: Any, emulator: Any, records: list[Any]
) -> None:
    # The attempt and its restart both break.
    emulator.set_faults(drop_after=2, path="/llmage/v1/chat", times=2)
    with pytest.raises(UsageError):
        shell.run_cell_magic("yj_chat", "max_tokens=50", "Tell me")
    shell.run_cell_magic("yj_chat", "", "echo: after")
    assert records[-1].prompt == "echo: after"


# -- several models ----------------------------------------------------------------------------


def test_several_models_side_by_side(shell: Any, live: Any, emulator: Any) -> None:
    shown = run(shell, "-m qwen3-max,qwen-plus,deepseek-r1 -o all", "echo: <same> answer")
    assert shown.error is None
    results = shell.user_ns["all"]
    assert list(results) == ["qwen3-max", "qwen-plus", "deepseek-r1"]
    assert all(r.text == "<same> answer" for r in results.values())
    assert emulator.count(CHAT) == 3
    assert len(shown.displays) == 1  # one display, all columns in it
    html = shown.final["text/html"]
    assert html.count("&lt;same&gt; answer") == 3 and "<same>" not in html
    assert all(r.usage_id in html for r in results.values())


def test_several_models_code_goes_to_one_cell(shell: Any) -> None:
    shell.run_cell_magic("yj_chat", "-m qwen3-max,qwen-plus -f code", "some code please")
    assert "# --- qwen3-max ---" in shell.rl_next_input
    assert "# --- qwen-plus ---" in shell.rl_next_input


def test_one_failing_model_keeps_the_others(shell: Any, emulator: Any) -> None:
    # A 404 is never retried (a 503 would be, and the model would answer after all).
    emulator.set_faults(status=404, path="/llmage/v1/chat", times=1)
    with pytest.raises(UsageError, match="BadRequestError"):
        shell.run_cell_magic("yj_chat", "-m qwen3-max,qwen-plus", "echo: ok")
    results = shell.user_ns["_yj"]
    assert len(results) == 1 and next(iter(results.values())).text == "ok"


# -- interrupting ------------------------------------------------------------------------------


def test_interrupt_keeps_the_partial_answer(shell: Any, live: Any, emulator: Any) -> None:
    emulator.set_faults(chunk_delay=0.01, path="/llmage/v1/chat")
    started = threading.Event()

    def interrupt() -> None:
        started.wait(10)
        _thread.interrupt_main()

    live.refresh_interval = 0.02
    original = shell.user_ns.get("_yj")
    timer = threading.Timer(0.4, interrupt)
    started.set()
    timer.start()
    shown = run(shell, "max_tokens=2000", "Tell me a long story")
    timer.join()
    assert shown.error is None  # no traceback
    yj = shell.user_ns["_yj"]
    assert yj is not original and yj.interrupted
    assert 0 < len(yj.text.split()) < 2000
    final = shown.final["text/markdown"]
    assert yj.text in final and "interrupted" in final


# -- faults: one line, the partial answer kept ---------------------------------------------------

STREAM_FAULTS = [
    ({"drop_after": 6}, "connection dropped"),
    ({"no_finish": 1}, "without a finish signal"),
    ({"bad_chunk_after": 6}, "not JSON"),
    ({"stall_after": 6}, "stalled"),
]


@pytest.mark.parametrize(("fault", "said"), STREAM_FAULTS)
def test_stream_faults_keep_the_partial_answer(
    shell: Any, live: Any, emulator: Any, fault: dict[str, Any], said: str
) -> None:
    live.session.client_options["timeout"] = 0.5  # the stall is noticed after 0.5 s
    emulator.set_faults(path="/llmage/v1/chat", **fault)
    shown = run(shell, "max_tokens=40", "Tell me a story")
    assert isinstance(shown.error, UsageError)
    message = str(shown.error)
    assert "\n" not in message and "StreamInterrupted" in message and said in message
    assert "partial answer is on screen and in _yj" in message
    partial = shell.user_ns["_yj"]
    assert partial.interrupted and partial.text
    assert partial.text in shown.final["text/markdown"]  # still on screen
    assert "stopped: StreamInterrupted" in shown.final["text/markdown"]
    assert emulator.api_key not in shown.everything()


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"status": 503}, "ServerError"),
        ({"status": 400}, "BadRequestError"),
        ({"status": 401}, "AuthenticationError"),
        ({"rate_limit": 1}, "RateLimitError"),
    ],
)
def test_request_faults_are_one_line(
    shell: Any, live: Any, emulator: Any, fault: dict[str, Any], error: str
) -> None:
    emulator.set_faults(path="/llmage/v1/chat", **fault)
    shown = run(shell, "", "echo: never")
    assert isinstance(shown.error, UsageError)
    message = str(shown.error)
    assert message.startswith(f"qwen3-max: {error}") and "\n" not in message
    assert shell.user_ns["_yj"] is None
    assert f"stopped: {error}" in shown.final["text/markdown"]
    assert emulator.api_key not in shown.everything()


def test_insufficient_balance_is_one_line(shell: Any, emulator: Any) -> None:
    emulator.set_balance(emulator.api_key, 0)
    with pytest.raises(UsageError, match="InsufficientBalanceError") as err:
        shell.run_cell_magic("yj_chat", "", "echo: never")
    assert "\n" not in str(err.value)
