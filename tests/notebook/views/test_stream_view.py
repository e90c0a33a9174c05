"""The live view: throttling, the final output, escaping, stdout mode."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest
from chat_helpers import run
from IPython.utils.capture import capture_output
from markdown_oracle import html_problems, problems

from yjnb import ChatResult
from yjnb._types import Usage
from yjnb.notebook.views import stream_view
from yjnb.notebook.views.html import esc, safe_src
from yjnb.notebook.views.stream_view import PLAIN_LIMIT, ColumnsView, StreamView, footer


def test_a_long_fast_stream_is_throttled(shell: Any, magics: Any) -> None:
    magics.stream_output = "display"
    magics.refresh_interval = 0.1
    started = time.monotonic()
    shown = run(shell, "max_tokens=20000", "Tell me everything")
    elapsed = time.monotonic() - started
    assert shown.error is None
    result = shell.user_ns["_yj"]
    assert result.usage.completion_tokens == 20000
    assert len(shown.displays) == 1
    # One update per refresh interval at most, plus the final one (and one of slack).
    assert len(shown.updates) <= elapsed / 0.1 + 2
    final = shown.final
    assert final["text/markdown"].count(result.text) == 1
    assert result.text not in final["text/plain"]  # the notebook holds the text once
    assert len(final["text/plain"]) < PLAIN_LIMIT + 400
    saved = len(json.dumps(final, ensure_ascii=False).encode())
    assert saved <= 2 * len(result.text.encode())


def test_updates_are_live_when_the_stream_is_slow(shell: Any, magics: Any, emulator: Any) -> None:
    magics.stream_output = "display"
    magics.refresh_interval = 0.02
    emulator.set_faults(chunk_delay=0.005, path="/llmage/v1/chat")
    shown = run(shell, "max_tokens=100", "Tell me a story")
    assert shown.error is None
    assert len(shown.updates) >= 3  # text appeared while it streamed, not only at the end
    streaming = [o.data["text/markdown"] for o in shown.updates[:-1]]
    assert any("streaming…" in md for md in streaming)
    lengths = [len(md) for md in streaming]
    assert lengths == sorted(lengths)


def test_demo_mode_is_said_in_every_output(shell: Any, magics: Any) -> None:
    magics.stream_output = "display"
    shell.run_line_magic("yj_config", "--demo")
    shown = run(shell, "", "echo: from the demo")
    assert shown.error is None
    assert all("demo" in str(o.data) for o in shown.outputs)
    magics.stream_output = "stdout"
    shown = run(shell, "", "echo: from the demo")
    assert "demo mode" in shown.stdout


def test_a_hostile_answer_cannot_carry_script(shell: Any, magics: Any) -> None:
    magics.stream_output = "display"
    hostile = "[x](&#106;avascript:alert(1)) \\`<img src=x onerror=alert(1)>` <b onclick=x>"
    shown = run(shell, "", f"echo: {hostile}")
    assert shown.error is None
    assert shell.user_ns["_yj"].text == hostile  # the result keeps the answer as it came
    for output in shown.outputs:
        assert problems(output.data["text/markdown"]) == {}
    assert "&lt;img src=x onerror=alert(1)>" in shown.final["text/markdown"]


# -- units ---------------------------------------------------------------------------------------


def _final_markdown(shell: Any, result: ChatResult, **view: Any) -> str:
    with capture_output() as captured:
        StreamView("m", mode="display", **view).finish(result)
    return str(captured.outputs[-1].data["text/markdown"])


def test_reasoning_stays_inside_its_html_block(shell: Any) -> None:
    # A blank line ends an HTML block in Markdown: what followed it was read as Markdown.
    reasoning = "think\n\n[x](javascript:alert(1))\n\n<img src=x onerror=alert(1)>"
    markdown = _final_markdown(shell, ChatResult(text="hi", model="m", reasoning=reasoning))
    assert problems(markdown) == {}
    assert "think&#10;&#10;[x](javascript:alert(1))&#10;&#10;&lt;img" in markdown


def test_the_footer_cannot_carry_a_link(shell: Any) -> None:
    # The model name comes from the server; notes carry error messages.
    model = "[x](javascript:alert(1)) <b onclick=x> `code` *em*"
    markdown = _final_markdown(shell, ChatResult(text="hi", model=model))
    assert problems(markdown) == {}
    footer_line = markdown.rsplit("<small>", 1)[1]
    assert footer_line.startswith("\\[x\\](javascript:alert(1)) &lt;b onclick=x&gt; \\`code\\`")


def test_columns_show_answers_as_escaped_text(shell: Any) -> None:
    text = "<img src=x onerror=alert(1)> [x](javascript:alert(1))"
    results = [
        ChatResult(text=text, model="a", reasoning="why\n\n<b onclick=x>"),
        ChatResult(text="ok", model="<i onclick=x>"),
    ]
    with capture_output() as captured:
        ColumnsView(["a", "b"], mode="display").finish(results, [None, None])
    html = captured.outputs[-1].data["text/html"]
    assert html_problems(html) == []
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_slow_refresh_quiets_the_next_ones(shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(stream_view.time, "monotonic", lambda: clock[0])

    def slow_neutralise(text: str) -> str:
        clock[0] += 0.5  # a long answer: half a second to neutralise
        return text

    monkeypatch.setattr(stream_view, "neutralise_markdown", slow_neutralise)
    view = StreamView("m", mode="display")
    with capture_output() as captured:
        view.start()  # t = 100.5 after its own neutralise
        view.add(0, "a", "")
        view.refresh()  # shown: 100.5 -> 101.0, quiet until 102.5
        view.add(0, "b", "")
        clock[0] = 102.0
        view.refresh()  # skipped, still dirty
        assert view.dirty and len(captured.outputs) == 2
        clock[0] = 102.5
        view.refresh()  # shown
        view.add(0, "c", "")
        view.finish(ChatResult(text="abc", model="m"))  # never skipped
    assert [o.data["text/markdown"].split("\n")[0] for o in captured.outputs] == [
        "", "a", "ab", "abc",
    ]  # fmt: skip


def test_footer() -> None:
    result = ChatResult(
        text="x", model="m", usage=Usage(3, 4, 7, 1), ttft_s=0.25, latency_s=1.5, usage_id="U1"
    )
    line = footer(result, model="m", demo=True, note="interrupted")
    assert line == (
        "m · tokens 3 prompt + 4 completion (1 cached) · first token 0.25 s · total 1.50 s"
        " · usage id U1 · demo mode (embedded emulator) · interrupted"
    )
    assert footer(None, model="m", demo=False) == "m"


def test_stdout_view_writes_at_refresh() -> None:
    out = io.StringIO()
    view = StreamView("m", mode="stdout", out=out)
    view.start()
    view.add(0, "Hello", "")
    view.add(0, " world", "")
    assert out.getvalue() == ""  # nothing until the throttle says so
    view.refresh()
    assert out.getvalue() == "Hello world"
    view.finish(ChatResult(text="Hello world", model="m"))
    assert out.getvalue().startswith("Hello world\n\n— m")


def test_esc_and_safe_src() -> None:
    assert esc('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    assert safe_src("https://a.b/c.mp4?x=1&y=2") == "https://a.b/c.mp4?x=1&amp;y=2"
    assert safe_src("media/t1.mp4") == "media/t1.mp4"
    for bad in ("javascript:alert(1)", "java\tscript:x", "data:text/html,x", "//evil.com/x",
                "/etc/passwd", "../secret.mp4", "file:///etc/passwd", "\\\\evil\\x", "", None,
                "http://"):  # fmt: skip
        assert safe_src(bad) is None, bad


def test_a_restart_clears_the_answer_and_says_why_at_once(shell: Any) -> None:
    view = StreamView("m", mode="display")
    with capture_output() as captured:
        view.start()
        view.add(0, "broken <b>half", "")
        view.refresh()
        view.restart(0, "connection dropped")
        view.add(0, "whole", "")
        view.refresh()
        view.finish(ChatResult(text="whole", model="m"))
    shown = [o.data["text/markdown"] for o in captured.outputs]
    notice = shown[2]
    assert "connection dropped: retrying" in notice and "broken" not in notice
    assert "whole" in shown[3] and "broken" not in shown[3]
    assert "started again (connection dropped)" in shown[3]
    assert "broken" not in shown[-1] and "retrying" not in shown[-1]


def test_a_restart_on_stdout_is_one_line() -> None:
    out = io.StringIO()
    view = StreamView("m", mode="stdout", out=out)
    view.add(0, "Hel", "")
    view.refresh()
    view.add(0, "lost", "")  # not yet written: dropped with its attempt
    view.restart(0, "malformed chunk")
    view.add(0, "Hello", "")
    view.refresh()
    assert out.getvalue() == "Hel\n[malformed chunk: retrying]\nHello"


def test_a_column_restarts_alone(shell: Any) -> None:
    view = ColumnsView(["a", "b"], mode="display")
    with capture_output() as captured:
        view.add(0, "first of a", "")
        view.add(1, "first of b", "")
        view.restart(1, "cut without a finish signal")
    html = captured.outputs[-1].data["text/html"]
    assert "first of a" in html and "first of b" not in html
    assert "cut without a finish signal: retrying" in html
