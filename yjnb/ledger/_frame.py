"""The ledger as pandas: typed frames and exports. Imported only when asked for (summaries
are grouped by the database: `_summary`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["arrow_text", "export", "to_frame"]

_TIMES = ("started_at", "finished_at", "forgotten_at")
_INTS = ("prompt_tokens", "completion_tokens", "cached_tokens", "total_tokens")
_FLOATS = ("credits", "credits_estimate", "media_seconds", "latency_s", "ttft_s")


def arrow_text() -> bool:
    """Whether text is best read as bytes and built into Arrow arrays: when pandas' text
    dtype is Arrow-backed (pandas 3 with pyarrow installed), which `to_frame` then gives."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return pd.StringDtype().storage == "pyarrow"


def to_frame(columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows from the store as a DataFrame with proper dtypes (the same for an empty ledger).
    Text may come as `str` or, read with `arrow_text()`, as UTF-8 `bytes`.

    Built column by column from arrays: going through `DataFrame.from_records` (an object
    frame, inferred, then cast) cost as much again as reading the rows."""
    names = list(columns)
    values = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    raw = arrow_text()
    return pd.DataFrame(
        {name: _column(name, column, raw) for name, column in zip(names, values, strict=True)},
        copy=False,
    )


def _column(name: str, values: Sequence[Any], raw: bool) -> Any:
    """One column's values (SQLite's, None for NULL; text as bytes if `raw`) as a typed
    array."""
    if name == "id":
        return np.array(values, dtype=np.int64)
    if name == "demo":  # 0/1 in SQL
        return np.array(values, dtype=np.bool_)
    if name in _FLOATS:
        return np.array(values, dtype=np.float64)  # None becomes NaN
    if name in _INTS:
        objects = np.array(values, dtype=object)
        missing = pd.isna(objects)
        objects[missing] = 0
        return pd.arrays.IntegerArray(objects.astype(np.int64), missing)
    text = _arrow(values) if raw else None
    if name in _TIMES:
        # Microseconds (what is stored), fixed so an empty frame has the same dtype as a full one.
        return _times(values, text, raw).astype("datetime64[us, UTC]").array
    if text is not None:
        return pd.arrays.ArrowStringArray(text)
    # pandas' nullable text dtype, with pd.NA like the Int64 columns, on pandas 2 and 3 alike
    # (inference would give pandas 3's `str` or `object` depending on whether any value is set).
    return pd.array(_objects(values, raw), dtype="string")


def _arrow(values: Sequence[Any]) -> Any:
    """Text as an Arrow string array (bytes copied, UTF-8 checked in one pass); None if
    some value is not valid text."""
    import pyarrow as pa

    try:
        return pa.array(values, type=pa.large_binary()).cast(pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _times(values: Sequence[Any], text: Any, raw: bool) -> pd.Series:
    """Stored times (fixed-width UTC ISO strings) as a UTC datetime Series."""
    if text is not None:
        import pyarrow as pa

        try:
            return text.cast(pa.timestamp("us", "UTC")).to_pandas()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # not the fixed form: pandas' parser says what is wrong, or copes
    # Every stored time is the same fixed-width UTC ISO string: the fast parser applies.
    return pd.Series(pd.to_datetime(_objects(values, raw), utc=True, format="ISO8601"))


def _objects(values: Sequence[Any], raw: bool) -> Any:
    """Text values as an object array of `str` (if `raw`, bytes decoded, bad UTF-8 replaced)."""
    out = np.array(values, dtype=object)
    if not raw:
        return out
    for i, value in enumerate(out):
        if isinstance(value, bytes):
            out[i] = value.decode("utf-8", "replace")
    return out


def export(df: pd.DataFrame, path: Path) -> Path:
    """Write `df` as CSV or Parquet, chosen by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix in (".parquet", ".pq"):
        _require_parquet()
        df.to_parquet(path, index=False)
    else:
        raise ValueError(f"cannot export to {path.name!r}: use a .csv or .parquet file name")
    return path


def _require_parquet() -> None:
    """Parquet is optional: say which package is missing instead of pandas' long message."""
    for engine in ("pyarrow", "fastparquet"):
        try:
            __import__(engine)
        except ImportError:
            continue
        return
    raise ImportError(
        "Parquet export needs the 'pyarrow' package: pip install pyarrow (or export to .csv)"
    )
