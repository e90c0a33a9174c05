"""The table of %yj_models: the DataFrame drawn as HTML with left-aligned text, and as text.

Notebook front ends right-align table cells (JupyterLab's CSS, pandas' own HTML), which puts
long parameter descriptions against the right edge; every cell here says `text-align:left`
itself. Every model or server string goes through `esc`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .html import esc

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["models_bundle"]

_CELL = "text-align:left;vertical-align:top"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def models_bundle(frame: pd.DataFrame) -> dict[str, str]:
    """`text/html` and `text/plain` of the models table, every column left-aligned."""
    columns = [str(c) for c in frame.columns]
    header = "".join(f"<th style='{_CELL}'>{esc(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td style='{_CELL}'>{esc(_text(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False, name=None)
    )
    html = (
        f"<table class='yjnb-models'><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
    )
    widths = [
        max([len(c), *(len(_text(v)) for v in frame[c])]) for c in frame.columns
    ]  # plain text: every column padded on the right
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    for row in frame.itertuples(index=False, name=None):
        cells = (_text(v).ljust(w) for v, w in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    return {"text/plain": "\n".join(lines), "text/html": html}
