"""The live view: throttling, the final output, escaping, stdout mode."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest
from chat_helpers import run

from yjnb import ChatResult
from yjnb._types import Usage
from yjnb.notebook.views.html import esc, safe_src
from yjnb.notebook.views.stream_view import PLAIN_LIMIT, StreamView, footer, md_safe


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


# -- units ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<script>alert(1)</script>", "&lt;script>alert(1)&lt;/script>"),
        ("a `<b>` c <b>", "a `<b>` c &lt;b>"),
        ("```html\n<b>x</b>\n```\n<i>", "```html\n<b>x</b>\n```\n&lt;i>"),
        ("[x](javascript:alert(1))", "[x]\\(javascript:alert(1))"),
        ("[x](https://example.com)", "[x](https://example.com)"),
        ("[r]: javascript:alert(1)", "\\[r]: javascript:alert(1)"),
        ("plain **markdown** 1 < 2", "plain **markdown** 1 &lt; 2"),
    ],
)
def test_md_safe(text: str, expected: str) -> None:
    assert md_safe(text) == expected


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
