"""Live views of streamed answers: one display, updated at most every `interval` seconds.

`StreamView` shows one model's answer (Markdown, or plain text with `-f text`);
`ColumnsView` shows several side by side, one column each. Both are driven from the main
thread: `add()` per chunk (cheap: it only appends), `refresh()` when the caller's throttle says
so, then `finish()` once with the final text and a footer (model, tokens, time to first token,
total time, usage id, "demo" in demo mode). Reasoning goes in a collapsed `<details>` block.

Display mode publishes one display (`display_id`) and updates it; the saved notebook holds the
final update only. The final `text/plain` is the text cut at `PLAIN_LIMIT` characters: the full
answer is in the `text/markdown` next to it and in `_yj`, so the notebook holds it once.
Stdout mode (terminal IPython) writes the text as it comes, flushed at each refresh.

A stream that broke and starts again (`restart()`) drops what it showed and says why at once
("connection dropped: retrying…"); the new attempt's text follows, its status noting the
restart. In stdout mode what was written stays, followed by a "[… : retrying]" line.

Model and server text cannot carry script: the answer goes through `neutralise_markdown`
(raw HTML and links to other schemes shown as text), the reasoning into `<pre>` escaped and on
one line (`&#10;` for its line breaks: a blank line would end the HTML block and let the rest
be read as Markdown), the footer (model name, errors) through `markdown_text`.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ..._types import ChatResult
from .html import esc
from .markdown import neutralise_markdown

__all__ = ["PLAIN_LIMIT", "ColumnsView", "StreamView", "footer", "markdown_text"]

PLAIN_LIMIT = 1000
# Neutralising parses the whole answer at each refresh; after a slow one (a long answer) the
# view waits this many times as long before the next, so that it takes at most about a
# quarter of the time. The final update is never skipped.
QUIET_FACTOR = 3.0
_LINE_BREAK = re.compile(r"\r\n?|\n")
# Links, code spans, emphasis and our own escapes; `_` is left alone, as usage ids hold it and
# inside a word it emphasises nothing.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]~])")


def markdown_text(text: str) -> str:
    """`text` as inert Markdown inside our own HTML: HTML-escaped, Markdown's link, code and
    emphasis characters backslash-escaped, line breaks as `<br>` (no blank line can end the
    HTML around it)."""
    return _LINE_BREAK.sub("<br>", _MARKDOWN_SPECIAL.sub(r"\\\1", esc(text)))


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def footer(result: ChatResult | None, *, model: str, demo: bool, note: str | None = None) -> str:
    """One line: model, tokens, time to first token, total time, usage id, demo, note."""
    parts = [result.model if result else model]
    if result is not None:
        u = result.usage
        if u is not None:
            parts.append(
                f"tokens {u.prompt_tokens} prompt + {u.completion_tokens} completion"
                f" ({u.cached_tokens} cached)"
            )
        elif result.usage_estimate is not None:  # cut off before the usage chunk
            guess = result.usage_estimate
            parts.append(f"≈{guess.completion_tokens} tokens received (est.; usage not reported)")
        if result.credits_estimate is not None:
            parts.append(f"≈{result.credits_estimate:.3g} credits (est.)")
        parts.append(f"first token {_secs(result.ttft_s)}")
        parts.append(f"total {_secs(result.latency_s)}")
        if result.usage_id:
            parts.append(f"usage id {result.usage_id}")
    if demo:
        parts.append("demo mode (embedded emulator)")
    if note:
        parts.append(note)
    return " · ".join(parts)


def _plain(text: str) -> str:
    if len(text) <= PLAIN_LIMIT:
        return text
    return f"{text[:PLAIN_LIMIT]}… ({len(text) - PLAIN_LIMIT} more characters; all in _yj)"


def _details(reasoning: str, *, open_: bool = False) -> str:
    """The reasoning, collapsed, in one line of HTML (in Markdown, a blank line ends it)."""
    if not reasoning:
        return ""
    one_line = _LINE_BREAK.sub("&#10;", esc(reasoning))
    return (
        f"<details{' open' if open_ else ''}><summary>reasoning ({len(reasoning)} characters)"
        f'</summary><pre style="white-space: pre-wrap">{one_line}</pre></details>\n\n'
    )


class _Base:
    def __init__(self, *, mode: str, demo: bool, out: TextIO | None = None) -> None:
        self.mode = mode  # "display" or "stdout"
        self.demo = demo
        self.out = out or sys.stdout
        self.dirty = False
        self.updates = 0
        self._handle: Any = None

    def _status(self, model: str, what: str) -> str:
        return f"{model} · {what}" + (" · demo mode" if self.demo else "")

    def _publish(self, data: dict[str, str]) -> None:
        from IPython.display import display

        if self._handle is None:
            self._handle = display(data, raw=True, display_id=True)
        else:
            self._handle.update(data, raw=True)
            self.updates += 1


class StreamView(_Base):
    """One model's answer, live. `fmt` "text" shows plain text; anything else Markdown."""

    def __init__(
        self, model: str, *, mode: str, fmt: str = "markdown", demo: bool = False,
        out: TextIO | None = None,
    ) -> None:  # fmt: skip
        super().__init__(mode=mode, demo=demo, out=out)
        self.model = model
        self.fmt = fmt
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self._written = 0  # stdout mode: pieces of text already written
        self._thinking = False
        self._quiet_until = 0.0  # display mode: no refresh before (time.monotonic())
        self.restarted = ""  # why the stream was started again, if it was

    def start(self) -> None:
        if self.mode == "display":
            self._publish(self._data("", "", self._status(self.model, "waiting for the answer…")))

    def add(self, index: int, text: str, reasoning: str) -> None:
        if reasoning:  # reasoning first: a piece may hold the end of it and the first text
            self.reasoning.append(reasoning)
            if self.mode == "stdout":
                self._stdout_reasoning(reasoning)
        if text:
            self.text.append(text)
        self.dirty = True

    def restart(self, index: int, why: str) -> None:
        """The stream broke and starts again: what it showed is dropped (display mode), the
        status says why at once, and the new attempt's text follows."""
        wrote = self._written or self._thinking
        self.text.clear()
        self.reasoning.clear()
        self._written = 0
        self.restarted = why
        if self.mode == "stdout":
            self.out.write(f"{chr(10) if wrote else ''}[{why}: retrying]\n")
            self._thinking = False
            self.out.flush()
            return
        self.dirty = False
        self._quiet_until = 0.0
        self._publish(self._data("", "", self._status(self.model, f"{why}: retrying…")))

    def _stdout_reasoning(self, reasoning: str) -> None:
        self._flush_text()
        if not self._thinking:
            self.out.write("(reasoning) ")
            self._thinking = True
        self.out.write(reasoning)

    def _flush_text(self) -> None:
        pending = self.text[self._written :]
        if pending:
            piece = "".join(pending)
            if piece and self._thinking:
                self.out.write("\n\n")
                self._thinking = False
            self.out.write(piece)
            self._written = len(self.text)

    def refresh(self) -> None:
        if self.mode == "stdout":
            self.dirty = False
            self._flush_text()
            self.out.flush()
            return
        if time.monotonic() < self._quiet_until:
            return  # still dirty: a later refresh, or finish(), shows it
        self.dirty = False
        started = time.monotonic()
        streaming = f"streaming… ({sum(map(len, self.text))} characters)"
        if self.restarted:
            streaming += f" · started again ({self.restarted})"
        status = self._status(self.model, streaming)
        self._publish(self._data("".join(self.text), "".join(self.reasoning), status))
        ended = time.monotonic()
        self._quiet_until = ended + QUIET_FACTOR * (ended - started)

    def finish(
        self, result: ChatResult | None, *, note: str | None = None, extra: str | None = None
    ) -> None:
        """The last update: the final text (the partial one after a break) and the footer."""
        text = result.text if result is not None else "".join(self.text)
        reasoning = result.reasoning if result is not None else "".join(self.reasoning)
        line = footer(result, model=self.model, demo=self.demo, note=note)
        if extra:
            line += f"\n{extra}"
        if self.mode == "stdout":
            if result is not None and not self.text and text:  # --no-stream
                self.text.append(text)
            self._flush_text()
            self.out.write(f"\n\n— {line}\n")
            self.out.flush()
            return
        self._publish(self._data(text, reasoning, line, final=True))

    def _data(self, text: str, reasoning: str, status: str, final: bool = False) -> dict[str, str]:
        if self.fmt == "text":
            head = f"[reasoning]\n{reasoning}\n\n" if reasoning else ""
            return {"text/plain": f"{head}{text}\n\n— {status}"}
        md = _details(reasoning, open_=not text and not final) + neutralise_markdown(text)
        if text and not md.endswith("\n"):
            md += "\n"
        return {
            "text/markdown": f"{md}\n<small>{markdown_text(status)}</small>\n",
            "text/plain": f"{_plain(text)}\n\n— {status}",
        }


def _column_status(chars: int, restarted: str) -> str:
    if not restarted:
        return f"streaming… ({chars} characters)"
    if not chars:
        return f"{restarted}: retrying…"
    return f"streaming… ({chars} characters) · started again ({restarted})"


class ColumnsView(_Base):
    """Several answers side by side, one column each, in one HTML display."""

    def __init__(
        self, models: Sequence[str], *, mode: str, demo: bool = False, out: TextIO | None = None
    ) -> None:
        super().__init__(mode=mode, demo=demo, out=out)
        self.models = list(models)
        self.text: list[list[str]] = [[] for _ in models]
        self.reasoning: list[list[str]] = [[] for _ in models]
        self.restarted: list[str] = ["" for _ in models]  # why a column's stream started again

    def start(self) -> None:
        if self.mode == "display":
            self.refresh()
            self.updates = 0

    def add(self, index: int, text: str, reasoning: str) -> None:
        if text:
            self.text[index].append(text)
        if reasoning:
            self.reasoning[index].append(reasoning)
        self.dirty = True

    def restart(self, index: int, why: str) -> None:
        """Column `index`'s stream starts again: its text is dropped, its status says why."""
        self.text[index].clear()
        self.reasoning[index].clear()
        self.restarted[index] = why
        self.refresh()

    def refresh(self) -> None:
        self.dirty = False
        if self.mode == "stdout":
            return  # a terminal cannot show columns: each answer is printed when all end
        texts = ["".join(t) for t in self.text]
        reasons = ["".join(r) for r in self.reasoning]
        lines = [
            self._status(m, _column_status(len(t), why))
            for m, t, why in zip(self.models, texts, self.restarted, strict=True)
        ]
        self._publish(self._data(texts, reasons, lines))

    def finish(
        self,
        results: Sequence[ChatResult | None],
        notes: Sequence[str | None],
        extra: str | None = None,
    ) -> None:
        texts, reasons, lines = [], [], []
        for i, (result, note) in enumerate(zip(results, notes, strict=True)):
            texts.append(result.text if result else "".join(self.text[i]))
            reasons.append(result.reasoning if result else "".join(self.reasoning[i]))
            lines.append(footer(result, model=self.models[i], demo=self.demo, note=note))
        if self.mode == "stdout":
            for model, text, line in zip(self.models, texts, lines, strict=True):
                self.out.write(f"=== {model} ===\n{text}\n— {line}\n\n")
            if extra:
                self.out.write(f"{extra}\n")
            self.out.flush()
            return
        self._publish(self._data(texts, reasons, lines, extra))

    def _data(
        self, texts: list[str], reasons: list[str], lines: list[str], extra: str | None = None
    ) -> dict[str, str]:
        cols = []
        for model, text, reasoning, line in zip(self.models, texts, reasons, lines, strict=True):
            cols.append(
                '<div style="flex: 1 1 0; min-width: 14em; border-left: 3px solid #ddd; '
                f'padding: 0 .6em"><b>{esc(model)}</b>{_details(reasoning)}'
                f'<div style="white-space: pre-wrap">{esc(text)}</div>'
                f"<small>{esc(line)}</small></div>"
            )
        flex = "display: flex; gap: .8em; align-items: flex-start"
        html = f'<div style="{flex}">{"".join(cols)}</div>'
        plain = "\n\n".join(
            f"=== {m} ===\n{_plain(t)}\n— {ln}"
            for m, t, ln in zip(self.models, texts, lines, strict=True)
        )
        if extra:
            html += f"<div><small>{esc(extra)}</small></div>"
            plain += f"\n\n{extra}"
        return {"text/html": html, "text/plain": plain}
