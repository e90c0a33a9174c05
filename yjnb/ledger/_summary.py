"""Summaries and the spend over time, computed by the database (GROUP BY), not from every row.

`Ledger.summary()` and `%yj_usage` (its table and `--plot`) used to load every row into
pandas and group there: 1.9 s for 100,000 rows. Here the database returns one row per group.
The GROUP BYs follow two covering indexes (migration 10), so SQLite reads a narrow index in
group order, neither the wide table (prompts, parameters) nor a sort: summaries group by the
index's keys up to the one asked for (a few hundred rows at most, added up per key in
pandas), days by hour (days are the sum of their hours), as the timeline does.

All the SQL is here, in the subset SQLite and PostgreSQL share (SELECT … GROUP BY with SUM,
COUNT, AVG, COALESCE, CASE, SUBSTR; `?` placeholders; double-quoted column names), so a
dialect layer can run it as it is. Times are stored as fixed-width UTC ISO text, so a UTC day
is the first 10 characters and an hour the first 13 (`_schema.iso`): `DAY` and `HOUR` are
the only expressions a dialect storing real timestamps would replace.

The numbers are those the pandas grouping gave (tests compare the two over the same rows):
`credits` NULL (NaN) for a group where no credits were reported, never 0; estimates only
where the platform reported nothing; a missing or empty key grouped as "(none)".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ._schema import iso, quoted

if TYPE_CHECKING:
    import pandas as pd

    from ._store import Store

__all__ = [
    "BY",
    "DAY",
    "FAILED",
    "GROUPS",
    "HOUR",
    "SUMMARY_COLUMNS",
    "Filters",
    "summary",
    "summary_sql",
    "timeline",
    "timeline_sql",
]

BY = ("model", "kind", "day", "profile", "user", "host")
FAILED = ("failed", "interrupted", "timeout")
SUMMARY_COLUMNS = ("calls", "tokens", "credits", "credits_estimate", "failures", "mean_latency_s")
# The UTC day and hour of a row, from its stored start time.
DAY = "SUBSTR(started_at, 1, 10)"
HOUR = "SUBSTR(started_at, 1, 13)"
# An estimate counts only where the platform reported nothing.
_ESTIMATE = "CASE WHEN credits IS NULL THEN credits_estimate END"
# A failed call, in comparisons with "ok" first (almost every row's status): SQLite looks
# `status IN (...)` up in a table it builds for the list, a search per row that was a
# sixth of a summary's instructions.
_FAILED = (
    "CASE WHEN status = 'ok' THEN 0 WHEN "
    + " OR ".join(f"status = '{status}'" for status in FAILED)
    + " THEN 1 ELSE 0 END"
)
# How close the first and the last call must be for the plot to use hours, not days.
HOURLY_SPAN = timedelta(days=2)


@dataclass(frozen=True)
class Filters:
    """Which rows: real or demo calls (None: both), started since a moment, one profile."""

    since: datetime | None = None
    demo: bool | None = False
    profile: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The WHERE clause (empty for every row) and its arguments."""
        clauses: list[str] = []
        args: list[Any] = []
        if self.demo is not None:
            clauses.append("demo = ?")
            args.append(1 if self.demo else 0)
        if self.since is not None:
            clauses.append("started_at >= ?")
            args.append(iso(self.since))
        if self.profile is not None:
            clauses.append("profile = ?")
            args.append(self.profile)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


# The columns of the `calls_summary` index (migration 10) after `demo`, in its order. A
# summary by one of them groups by the index's columns up to it: the groups come out of the
# index in order, with no sort, and pandas adds up those of one key. Only up to it, not all:
# each key column is read and compared for every row (by model, a quarter of the work).
GROUPS = ("model", "kind", "profile", "user", "host")
_KEYS = {
    "day": ("demo", HOUR),
    **{by: ("demo", *(quoted([key]) for key in GROUPS[: GROUPS.index(by) + 1])) for by in GROUPS},
}
_SUMS = (
    f"COUNT(*), COALESCE(SUM(total_tokens), 0), SUM(credits), SUM({_ESTIMATE}), SUM({_FAILED}), "
    "SUM(latency_s), COUNT(latency_s)"
)
_PARTS = (*SUMMARY_COLUMNS[:-1], "latency_sum", "latency_n")


def summary_sql(by: str, filters: Filters) -> tuple[str, list[Any]]:
    """One row per group of the index's keys (`demo` and `GROUPS` up to `by`, or `demo` and
    the hour for days): the keys, then calls, tokens, credits, estimate, failures, latency
    sum and count."""
    if by not in BY:
        raise ValueError(f"by={by!r}: choose one of {', '.join(BY)}")
    where, args = filters.where()
    keys = ", ".join(_KEYS[by])
    return f"SELECT {keys}, {_SUMS} FROM calls{where} GROUP BY {keys}", args


def _group_key(by: str, row: tuple[Any, ...]) -> Any:
    if by == "day":
        return date.fromisoformat(str(row[1])[:10])
    value = row[1 + GROUPS.index(by)]
    return "(none)" if value is None or value == "" else value


def summary(store: Store, by: str, filters: Filters) -> pd.DataFrame:
    """Calls, tokens, credits, failures and mean latency per `by` (model, kind, day, profile,
    user, host).

    Days are UTC days, oldest first; other groups are ordered by credits, then calls (then by
    name: ties come out the same on every database). Credits and estimates stay NaN for a
    group where none were reported (`min_count=1`), as SQL's SUM over only NULLs."""
    import pandas as pd

    sql, args = summary_sql(by, filters)
    rows = store.query(sql, args)
    width = len(_KEYS[by])
    keys = pd.Index([_group_key(by, row) for row in rows], name=by)
    parts = pd.DataFrame([row[width:] for row in rows], columns=list(_PARTS), dtype="float64")
    parts.index = keys
    out = parts.groupby(level=0, sort=False).sum(min_count=1)
    out["mean_latency_s"] = out.pop("latency_sum") / out.pop("latency_n").replace(0, float("nan"))
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
    out.index.name = by
    out = out.sort_index(kind="stable")  # Python's order of names, whatever the collation
    if by != "day":
        out = out.sort_values(["credits", "calls"], ascending=False, kind="stable")
    return out


def timeline_sql(filters: Filters) -> tuple[str, list[Any]]:
    """Per `demo` and UTC hour, in the `calls_timeline` index's order (no sort): credits,
    estimate, tokens, the first and the last start."""
    where, args = filters.where()
    sql = (
        f"SELECT demo, {HOUR}, COALESCE(SUM(credits), 0), COALESCE(SUM({_ESTIMATE}), 0), "
        f"COALESCE(SUM(total_tokens), 0), MIN(started_at), MAX(started_at) "
        f"FROM calls{where} GROUP BY demo, {HOUR}"
    )
    return sql, args


def timeline(store: Store, filters: Filters) -> pd.DataFrame:
    """Credits, estimated credits and tokens per UTC hour (when every call is within
    `HOURLY_SPAN`) or day, oldest first; the index (named "hour" or "day") holds each
    bucket's start as a naive UTC datetime. Empty if no call matches.

    One scan: the database sums per hour, and days are the sum of their hours (a few
    hundred rows), rather than a first query for the span (a scan of its own: `demo` is
    not indexed) and a second for the buckets."""
    import pandas as pd

    rows = store.query(*timeline_sql(filters))
    columns = ["credits", "estimate", "tokens"]
    starts = pd.DatetimeIndex([_bucket_start(row[1]) for row in rows], name="hour")
    out = pd.DataFrame([row[2:5] for row in rows], columns=columns, index=starts)
    out = out.astype({"credits": "float64", "estimate": "float64", "tokens": "int64"})
    out = out.groupby(level=0).sum()  # real and demo calls of one hour (`demo=None`), sorted
    if not rows or _span(rows) >= HOURLY_SPAN:
        out = out.groupby(out.index.floor("D")).sum()
        out.index.name = "day"
    return out


def _span(rows: list[tuple[Any, ...]]) -> timedelta:
    """From the first call's start to the last's (each row has its bucket's first and last)."""
    return _moment(max(row[6] for row in rows)) - _moment(min(row[5] for row in rows))


def _moment(stored: Any) -> datetime:
    if isinstance(stored, datetime):
        return stored
    return datetime.fromisoformat(str(stored))


def _bucket_start(key: Any) -> datetime:
    """'YYYY-MM-DD' or 'YYYY-MM-DDTHH' as a naive UTC datetime."""
    text = str(key)
    moment = datetime.fromisoformat(text if len(text) > 10 else text + "T00")
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment
