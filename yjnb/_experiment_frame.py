"""An experiment's tables: `results`, `summary()`, `compare()`, and `export(path)`.

pandas is imported here, when a table is first asked for, not when yjnb is.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import ValidationError, YJError
from ._experiment_grid import media_compare
from ._experiment_media import media_columns
from ._experiment_plan import Plan
from .scorers import Judge

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RESULT_COLUMNS", "compare_frame", "export_frame", "results_frame", "summary_frame"]

RESULT_COLUMNS = (
    "prompt", "model", "sample", "text", "status", "error", "prompt_tokens", "completion_tokens",
    "cached_tokens", "latency_s", "ttft_s", "credits", "credits_estimate", "cached", "cached_from",
    "usage_id",
)  # fmt: skip
_INTS = ("prompt_tokens", "completion_tokens", "cached_tokens")
_FLOATS = ("latency_s", "ttft_s", "credits", "credits_estimate")
EXPORTS = (".csv", ".parquet", ".jsonl")
NOT_RUN = {"status": "interrupted", "error": "not finished: re-run to finish", "cached": False}


def answer_column(kind: str) -> str:
    """The column holding a cell's answer: its text, or the saved image's or video's path."""
    return "text" if kind == "chat" else f"{kind}_path"


def _score(
    label: str, scorer: Any, outcome: Mapping[str, Any], row: Mapping[str, Any], kind: str
) -> Any:
    """A scorer's value; what it raised becomes the cell's value, the row stays. A judge's
    value comes from the reply the run recorded. A media run's scorers get the file's path."""
    try:
        if isinstance(scorer, Judge):
            return scorer.verdict((outcome.get("judges") or {}).get(label))
        return scorer(outcome.get(answer_column(kind)) or "", row)
    except Exception as exc:
        return f"error: {type(exc).__name__}: {exc}"


def results_frame(plan: Plan, outcomes: Mapping[int, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per cell, in plan order, with every column (see `RESULT_COLUMNS`; a media
    run's add `media_columns`)."""
    import pandas as pd

    extra = media_columns(plan.kind)
    records = []
    for i, cell in enumerate(plan.cells):
        data = plan.rows[cell.row]
        outcome = outcomes.get(i, NOT_RUN)
        record: dict[str, Any] = dict(data)
        record.update(prompt=cell.prompt_name, model=cell.model, sample=cell.sample)
        for column in (*RESULT_COLUMNS[3:], *extra):
            record[column] = outcome.get(column)
        ok = outcome.get("status") == "ok"
        for label, scorer in plan.scorers.items():
            record[label] = _score(label, scorer, outcome, data, plan.kind) if ok else None
        records.append(record)
    columns = [*plan.columns, *RESULT_COLUMNS, *extra, *plan.scorers]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for column in _INTS:
        frame[column] = pd.array(
            [None if v is None or v != v else int(v) for v in frame[column]], dtype="Int64"
        )
    for column in _FLOATS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame["cached"] = frame["cached"].astype(bool)
    frame["sample"] = frame["sample"].astype("int64")
    return frame


def _p(series: pd.Series, q: float) -> float:
    clean = series.dropna()
    return float(clean.quantile(q)) if len(clean) else float("nan")


def summary_frame(frame: pd.DataFrame, scorers: list[str]) -> pd.DataFrame:
    """Per prompt × model: n, ok, failed, interrupted, cached, the mean of each score, tokens,
    latency p50/p95, ttft p50, credits (NaN: not reported) and estimated credits of the calls
    made (cache hits cost nothing)."""
    import pandas as pd

    rows = []
    for (prompt, model), group in frame.groupby(["prompt", "model"], sort=False):
        paid = group[~group["cached"]]
        row: dict[str, Any] = {
            "prompt": prompt, "model": model, "n": len(group),
            "ok": int((group["status"] == "ok").sum()),
            "failed": int((group["status"] == "failed").sum()),
            "interrupted": int((group["status"] == "interrupted").sum()),
            "cached": int(group["cached"].sum()),
        }  # fmt: skip
        for label in scorers:
            values = pd.to_numeric(group[label].map(_as_number), errors="coerce")
            row[label] = float(values.mean()) if values.notna().any() else float("nan")
        for column in ("prompt_tokens", "completion_tokens"):  # <NA>: none reported (media)
            total = group[column].sum(min_count=1)
            row[column] = None if pd.isna(total) else int(total)
        row["latency_p50"] = _p(group["latency_s"], 0.5)
        row["latency_p95"] = _p(group["latency_s"], 0.95)
        row["ttft_p50"] = _p(group["ttft_s"], 0.5)
        row["credits"] = paid["credits"].sum(min_count=1)
        row["credits_estimate"] = paid["credits_estimate"].sum(min_count=1)
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        for column in ("prompt_tokens", "completion_tokens"):
            table[column] = pd.array(list(table[column]), dtype="Int64")
    return table


def _as_number(value: Any) -> Any:
    """A score as a number for its mean: bools count 1/0; text (an error) does not count."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return value
    return None


def compare_frame(frame: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """One row per input (its data columns first), one column per (prompt, model) holding
    the answers' text (per (prompt, model, sample) when there are several samples). A media
    run's holds the files' paths, and shows as a grid of the images (`_experiment_grid`)."""
    import pandas as pd

    columns = plan.columns
    keys = ["prompt", "model"] + (["sample"] if plan.repeat > 1 else [])
    work = frame.assign(_row=[cell.row for cell in plan.cells])
    value = answer_column(plan.kind)
    texts = work.pivot_table(
        index="_row", columns=keys, values=value, aggfunc="first", dropna=False
    )
    order = list(dict.fromkeys(map(tuple, work[keys].itertuples(index=False, name=None))))
    texts = texts.reindex(columns=pd.MultiIndex.from_tuples(order, names=keys))
    data = work.drop_duplicates("_row").set_index("_row")[columns]
    data.columns = pd.MultiIndex.from_tuples(
        [(c, *[""] * (len(keys) - 1)) for c in columns], names=keys
    )
    joined = data.join(texts)
    joined.index.name = None
    joined = joined.reset_index(drop=True)
    if plan.kind == "chat":
        return joined
    covers = {}
    if "cover_path" in work:
        covers = dict(zip(work["video_path"], work["cover_path"], strict=True))
    return media_compare(joined, plan.kind, len(columns), _statuses(work, keys), covers)


def _statuses(work: pd.DataFrame, keys: list[str]) -> dict[tuple[Any, ...], str]:
    """(row, *key) -> why a cell has no file (its status and error), for the grid."""
    found = {}
    for record in work[["_row", *keys, "status", "error"]].itertuples(index=False, name=None):
        *where, status, error = record
        if status != "ok":
            found[tuple(where)] = f"{status}: {error}" if error else str(status)
    return found


def export_frame(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write `frame` to `path`: .csv, .parquet or .jsonl, by its suffix."""
    target = Path(path).expanduser()
    suffix = target.suffix.lower()
    if suffix not in EXPORTS:
        raise ValidationError(
            f"export to {target.name!r}: use a path ending in {', '.join(EXPORTS)}"
        )
    if suffix == ".csv":
        frame.to_csv(target, index=False)
    elif suffix == ".jsonl":
        frame.to_json(target, orient="records", lines=True, force_ascii=False)
    else:
        try:
            frame.to_parquet(target, index=False)
        except ImportError:
            raise YJError("export to .parquet needs pyarrow: pip install pyarrow") from None
    return target
