"""A media experiment's `compare()`: a DataFrame of file paths that shows as a grid of images.

The frame is an ordinary DataFrame (one row per input, one column per (prompt, model), the
saved files' paths in the cells); only its HTML differs: each cell is a small thumbnail
embedded as a `data:` URL (`_embed.thumbnail_data_url`), so the grid survives in a saved
notebook and in viewers that never see the media folder. A video shows its cover, when the
platform gave one, with the file's name. A cell without a file says why (its status and
error). Every text in it (data values, prompt and model names, errors, file names) is
escaped. Frames derived from it (a slice, `.copy()`) are plain DataFrames.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ._embed import thumbnail_data_url

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["grid_html", "media_compare"]

THUMB_SIDE = 256
_STYLE = (
    "border-collapse:collapse;text-align:left;vertical-align:top;font-size:12px;line-height:1.3"
)


@functools.cache
def _grid_type() -> type:
    import pandas as pd

    class MediaCompare(pd.DataFrame):
        """`compare()` of an image or video experiment: shows as a grid of images."""

        _metadata: ClassVar[list[str]] = ["media_kind", "data_columns", "notes", "covers"]

        @property
        def _constructor(self) -> type:
            return pd.DataFrame  # a slice or copy is a plain frame

        def _repr_html_(self) -> str:
            return grid_html(self)

    return MediaCompare


def media_compare(
    frame: pd.DataFrame,
    kind: str,
    data_columns: int,
    notes: Mapping[tuple[Any, ...], str],
    covers: Mapping[Any, Any],
) -> pd.DataFrame:
    """`frame` as a `MediaCompare`: `notes` says why a cell has no file, by (row, *key);
    `covers` maps a video's path to its cover's."""
    grid = _grid_type()(frame)
    grid.media_kind = kind
    grid.data_columns = data_columns
    grid.notes = dict(notes)
    grid.covers = {k: v for k, v in covers.items() if isinstance(k, str) and isinstance(v, str)}
    return grid


def _label(column: Any) -> str:
    parts = column if isinstance(column, tuple) else (column,)
    return " · ".join(str(p) for p in parts if str(p) != "")


def grid_html(grid: Any) -> str:
    """The grid as an HTML table (see the module's docstring)."""
    n = grid.data_columns
    columns = list(grid.columns)
    head = "".join(f'<th style="{_STYLE}">{html.escape(_label(c))}</th>' for c in columns)
    rows = []
    for position, values in enumerate(grid.itertuples(index=False, name=None)):
        cells = [f'<td style="{_STYLE}">{html.escape(str(v))}</td>' for v in values[:n]]
        for column, value in zip(columns[n:], values[n:], strict=True):
            key = (position, *(column if isinstance(column, tuple) else (column,)))
            cells.append(f'<td style="{_STYLE}">{_cell(grid, value, key)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<table class="yj-experiment-grid" style="{_STYLE}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _cell(grid: Any, value: Any, key: tuple[Any, ...]) -> str:
    if not isinstance(value, str) or not value:
        return f"<em>{html.escape(grid.notes.get(key, 'no file'))}</em>"
    name = html.escape(Path(value).name)
    picture = value if grid.media_kind == "image" else grid.covers.get(value)
    url = thumbnail_data_url(picture, THUMB_SIDE) if picture else None
    if grid.media_kind == "video":
        name = f"▶ {name}"
    if url is None:
        exists = Path(value).is_file()
        return name if exists else f"{name} <em>(file missing)</em>"
    return (
        f'<img src="{url}" alt="{name}" style="max-width:{THUMB_SIDE}px;max-height:'
        f'{THUMB_SIDE}px"><br><small>{name}</small>'
    )
