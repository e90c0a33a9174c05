"""An experiment's live progress, then its summary and compare tables.

`ProgressView` is one display updated in place (at most every `interval` seconds, by the
caller's throttle): done/total, cached, failed, calls per second, ETA, tokens, credits ("not
reported" when the platform says nothing, never 0), the calls in flight and the current
adaptive limit, the 429s waited out. In a terminal (stdout mode) it is one plain-text line
per update. `frame_html` draws a results table with every cell escaped: model text, model
names and column names cannot carry markup.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from .html import esc

__all__ = [
    "CELL_LIMIT",
    "STDOUT_EVERY_S",
    "ProgressView",
    "frame_html",
    "grid_html",
    "grid_text",
    "progress_line",
]

STDOUT_EVERY_S = 1.0  # a terminal's progress lines: at most one a second
CELL_LIMIT = 2000  # characters of one answer shown in a table cell (all of it is in _yj)


def _credits(progress: Any) -> str:
    if progress.credits is not None:
        return f"{progress.credits:,.4g} credits"
    if progress.credits_estimate is not None:
        return f"≈{progress.credits_estimate:,.4g} credits (est.)"
    return "credits not reported"


def progress_line(progress: Any, *, name: str, elapsed: float, calls_before: int = 0) -> str:
    """One line: what the run has done, how fast, and what is left."""
    calls = progress.calls_done - calls_before
    rate = calls / elapsed if elapsed > 0 else 0.0
    left = progress.total - progress.done
    if left == 0:
        eta = "ETA 0 s"
    elif rate > 0:
        eta = f"ETA {left / rate:.0f} s"
    else:
        eta = "ETA –"
    limit = progress.limit
    concurrency = f"{progress.in_flight} in flight" + (f" (limit {limit})" if limit else "")
    return " · ".join(
        [
            f"{name}: {progress.done}/{progress.total} done",
            f"{progress.cached} cached",
            f"{progress.failed} failed",
            f"{rate:.1f} calls/s",
            eta,
            f"{progress.tokens:,} tokens",
            _credits(progress),
            concurrency,
            f"{progress.throttled} 429s waited out",
        ]
    )


class ProgressView:
    """One live line for a running experiment (see the module's docstring)."""

    def __init__(
        self, name: str, *, mode: str, calls_before: int = 0, out: TextIO | None = None
    ) -> None:
        self.name = name
        self.mode = mode  # "display" or "stdout"
        self.out = out or sys.stdout
        self.updates = 0
        self._calls_before = calls_before
        self._started = time.monotonic()
        self._written = self._started
        self._handle: Any = None

    def _bundle(self, line: str, note: str | None) -> dict[str, str]:
        extra = f" · <b>{esc(note)}</b>" if note else ""
        html = f'<div class="yjnb-experiment-progress"><code>{esc(line)}</code>{extra}</div>'
        return {"text/plain": line + (f" · {note}" if note else ""), "text/html": html}

    def update(self, progress: Any, note: str | None = None, *, final: bool = False) -> None:
        """Show where `progress` is; `final` (or a `note`) is the last update."""
        now = time.monotonic()
        if self.mode == "stdout" and not (final or note) and now - self._written < STDOUT_EVERY_S:
            return  # a terminal gets a line a second, not ten
        line = progress_line(
            progress, name=self.name, elapsed=now - self._started,
            calls_before=self._calls_before,
        )  # fmt: skip
        self.updates += 1
        if self.mode == "stdout":
            self._written = now
            self.out.write(line + (f" · {note}" if note else "") + "\n")
            self.out.flush()
            return
        from IPython.display import display

        bundle = self._bundle(line, note)
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    text = str(value)
    if len(text) > CELL_LIMIT:
        text = text[:CELL_LIMIT] + f"… ({len(text) - CELL_LIMIT} more characters; all in _yj)"
    return esc(text)


def _header(column: Any) -> str:
    parts = column if isinstance(column, tuple) else (column,)
    return esc(" · ".join(str(p) for p in parts if str(p) != ""))


def frame_html(frame: Any, caption: str) -> str:
    """`frame` as an HTML table, every header and cell escaped (long answers cut)."""
    head = "".join(f"<th>{_header(c)}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False, name=None):
        cells = "".join(
            f'<td style="text-align: left; white-space: pre-wrap; vertical-align: top">'
            f"{_cell(v)}</td>"
            for v in values
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="yjnb-experiment"><caption>{esc(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def grid_text(grid: Any) -> str:
    """A media run's compare grid as plain text: the files by name (their folder is the
    run's media folder), so a terminal's table stays narrow and a saved notebook holds no
    machine's paths."""
    from pathlib import PurePath

    names = grid.copy()
    for column in names.columns[grid.data_columns :]:
        names[column] = [PurePath(v).name if isinstance(v, str) else v for v in names[column]]
    return repr(names)


def grid_html(grid: Any, caption: str) -> str:
    """A media run's compare grid (`yjnb._experiment_grid`, which escapes every text in it)
    under its caption."""
    return (
        f'<div class="yjnb-experiment"><div><b>{esc(caption)}</b></div>{grid._repr_html_()}</div>'
    )
