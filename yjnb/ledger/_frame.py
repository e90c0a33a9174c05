"""The ledger as pandas: typed frames, summaries and exports. Imported only when asked for."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["BY", "FAILED", "export", "summarize", "to_frame"]

BY = ("model", "kind", "day", "profile", "user", "host")
FAILED = ("failed", "interrupted", "timeout")
_TIMES = ("started_at", "finished_at", "forgotten_at")
_INTS = ("prompt_tokens", "completion_tokens", "cached_tokens", "total_tokens")
_FLOATS = ("credits", "credits_estimate", "media_seconds", "latency_s", "ttft_s")
_NOT_TEXT = frozenset({"id", "demo", *_TIMES, *_INTS, *_FLOATS})


def to_frame(columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows from the store as a DataFrame with proper dtypes (the same for an empty ledger)."""
    df = pd.DataFrame.from_records(list(rows), columns=list(columns))
    df["id"] = df["id"].astype("int64")
    for column in _TIMES:
        # Every stored time is the same fixed-width UTC ISO string: the fast parser applies.
        # Microseconds (what is stored), fixed so an empty frame has the same dtype as a full one.
        parsed = pd.to_datetime(df[column], utc=True, format="ISO8601")
        df[column] = parsed.astype("datetime64[us, UTC]")
    for column in _INTS:
        df[column] = df[column].astype("Int64")
    for column in _FLOATS:
        df[column] = df[column].astype("float64")
    df["demo"] = df["demo"].astype("bool")  # 0/1 in SQL
    # pandas' nullable text dtype, with pd.NA like the Int64 columns, on pandas 2 and 3 alike
    # (inference would give pandas 3's `str` or `object` depending on whether any value is set).
    for column in df.columns:
        if column not in _NOT_TEXT:
            df[column] = df[column].astype("string")
    return df


def summarize(df: pd.DataFrame, by: str = "model") -> pd.DataFrame:
    """Calls, tokens, credits, failures and mean latency per `by` (model, kind, day, profile,
    user, host).

    `credits` is NaN for a group where the platform reported none (chat on Yuanjing);
    `credits_estimate` sums the price table's estimates of the calls without credits.

    Days are UTC days, oldest first; other groups are ordered by credits, then calls.
    """
    if by not in BY:
        raise ValueError(f"by={by!r}: choose one of {', '.join(BY)}")
    if by == "day":
        key = df["started_at"].dt.date
    else:
        key = df[by].astype("object").where(df[by].notna() & (df[by] != ""), "(none)")
    work = pd.DataFrame(
        {
            by: key,
            "id": df["id"],
            "total_tokens": df["total_tokens"],
            "credits": df["credits"],
            # An estimate counts only where the platform reported nothing.
            "credits_estimate": df["credits_estimate"].where(df["credits"].isna()),
            "failed": df["status"].isin(FAILED),
            "latency_s": df["latency_s"],
        }
    )
    out = work.groupby(by, sort=True).agg(
        calls=("id", "size"),
        tokens=("total_tokens", "sum"),
        credits=("credits", _reported_sum),
        credits_estimate=("credits_estimate", _reported_sum),
        failures=("failed", "sum"),
        mean_latency_s=("latency_s", "mean"),
    )
    out = out.astype(
        {
            "calls": "int64",
            "tokens": "Int64",
            "credits": "float64",
            "credits_estimate": "float64",
            "failures": "int64",
            "mean_latency_s": "float64",
        }
    )
    if by != "day":
        out = out.sort_values(["credits", "calls"], ascending=False, kind="stable")
    return out


def _reported_sum(values: pd.Series) -> float:
    """The sum, or NaN ("not reported") when no value is known: never a made-up 0."""
    return float(values.sum(min_count=1))


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
