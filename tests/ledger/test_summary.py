"""Summaries and the timeline grouped by the database, checked against pandas over the same rows.

The pandas computations here are what `Ledger.summary()` and `%yj_usage --plot` did before
they moved to SQL (load every row, group in pandas): the same numbers are expected.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

from yjnb.ledger import Ledger
from yjnb.ledger._summary import BY, Filters, summary_sql, timeline_sql

from .helpers import T0, chat_record, task_record

FAILED = ("failed", "interrupted", "timeout")
STATUSES = ("ok", "ok", "ok", "failed", "interrupted", "timeout", "pending", "lost")


def pandas_summary(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """The former in-pandas summary, verbatim in its rules."""
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
            "credits_estimate": df["credits_estimate"].where(df["credits"].isna()),
            "failed": df["status"].isin(FAILED),
            "latency_s": df["latency_s"],
        }
    )
    out = work.groupby(by, sort=True).agg(
        calls=("id", "size"),
        tokens=("total_tokens", "sum"),
        credits=("credits", lambda v: float(v.sum(min_count=1))),
        credits_estimate=("credits_estimate", lambda v: float(v.sum(min_count=1))),
        failures=("failed", "sum"),
        mean_latency_s=("latency_s", "mean"),
    )
    out = out.astype({"calls": "int64", "tokens": "Int64", "failures": "int64"})
    if by != "day":
        out = out.sort_values(["credits", "calls"], ascending=False, kind="stable")
    return out


def pandas_timeline(df: pd.DataFrame) -> pd.DataFrame:
    """The former in-pandas buckets of `%yj_usage --plot`."""
    times = df["started_at"]
    hourly = (times.max() - times.min()).total_seconds() < 2 * 86400
    bucket = times.dt.floor("h" if hourly else "D").dt.tz_localize(None)
    estimate = df["credits_estimate"].where(df["credits"].isna())
    return (
        df.assign(bucket=bucket, estimate=estimate)
        .groupby("bucket")
        .agg(
            credits=("credits", "sum"),
            estimate=("estimate", "sum"),
            tokens=("total_tokens", "sum"),
        )
    )


def fill_randomly(ledger: Ledger, n: int, days: float, seed: int) -> None:
    """`n` calls over `days`: every kind, odd names ("" and None), credits reported or not,
    estimates, missing tokens and latencies, demo calls, two profiles, tasks updated in place."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        at = T0 + timedelta(seconds=rng.uniform(0, days * 86400))
        credits = rng.choice([None, None, 0.0, round(rng.uniform(0, 30), 3)])
        common = {
            "started_at": at,
            "status": rng.choice(STATUSES),
            "profile": rng.choice(["yuanjing", "work", ""]),
            "demo": rng.random() < 0.2,
            "credits": credits,
            "credits_estimate": rng.choice([None, round(rng.uniform(0, 2), 4)]),
            "latency_s": rng.choice([None, round(rng.uniform(0.1, 60), 3)]),
        }
        if i % 4 == 3:
            taskid = f"t{i}"
            records.append(
                task_record("pending", taskid=taskid, started_at=at, demo=common["demo"])
            )
            records.append(task_record(**common, taskid=taskid, model=rng.choice(["v", ""])))
        else:
            model = rng.choice(["qwen3-max", "deepseek-v3", "(none)", "", "zeta", "Alpha", "月"])
            tokens = rng.choice([None, rng.randint(0, 5000)])
            records.append(chat_record(**common, model=model, total_tokens=tokens))
    ledger.record_many(records)


@pytest.fixture
def filled(ledger: Ledger) -> Ledger:
    fill_randomly(ledger, 600, days=9, seed=16)
    return ledger


def assert_same(sql: pd.DataFrame, pandas: pd.DataFrame) -> None:
    assert list(sql.index) == list(pandas.index)  # the same groups, in the same order
    assert sql.index.name == pandas.index.name
    assert list(sql.columns) == list(pandas.columns)
    for column in sql.columns:
        assert sql[column].dtype == pandas[column].dtype, column
        pd.testing.assert_series_equal(sql[column], pandas[column], check_exact=False, rtol=1e-9)


@pytest.mark.parametrize("by", ["model", "kind", "day", "profile"])
@pytest.mark.parametrize("demo", [False, True, None])
def test_summary_is_the_pandas_one(filled: Ledger, by: str, demo: bool | None) -> None:
    sql = filled.summary(by, demo=demo)
    assert len(sql) > 1
    assert_same(sql, pandas_summary(filled.frame(demo=demo), by))


def test_summary_since_and_profile(filled: Ledger) -> None:
    since = T0 + timedelta(days=4, hours=5)
    frame = filled.frame(since=since)
    for by in ("model", "day"):
        assert_same(filled.summary(by, since=since), pandas_summary(frame, by))
        work = frame[frame["profile"] == "work"]
        assert_same(filled.summary(by, since=since, profile="work"), pandas_summary(work, by))


def test_summary_keys_and_order(ledger: Ledger) -> None:
    """Unknown and empty names are one "(none)" group; ties in credits and calls by name."""
    for model in ("b", "a", None, "", "a"):
        ledger.record(chat_record(model=model or "", credits=1.0))
    ledger.record(chat_record(model="c", credits=None, total_tokens=None))
    s = ledger.summary()
    assert list(s.index) == ["(none)", "a", "b", "c"]
    assert list(s["calls"]) == [2, 2, 1, 1]
    assert pd.isna(s.loc["c", "credits"]) and s.loc["c", "tokens"] == 0
    by_day = ledger.summary("day")
    assert list(by_day.index) == [date(2026, 5, 1)]


@pytest.mark.parametrize("demo", [False, True, None])
def test_summaries_and_the_timeline_read_an_index_in_group_order(
    filled: Ledger, demo: bool | None
) -> None:
    """No scan of the table's wide rows, and no sort: the covering indexes of migration 10."""
    queries = [summary_sql(by, Filters(demo=demo)) for by in BY]
    queries.append(timeline_sql(Filters(demo=demo, since=T0 + timedelta(days=2))))
    for sql, args in queries:
        plan = " / ".join(row[-1] for row in filled._store.query("EXPLAIN QUERY PLAN " + sql, args))
        assert "COVERING INDEX calls_summary" in plan or "COVERING INDEX calls_timeline" in plan
        assert "TEMP B-TREE" not in plan, plan


def test_reads_since_a_moment_take_a_range_not_a_scan(filled: Ledger) -> None:
    """The summaries' indexes start with `demo`: rows since a moment must still take the
    `started_at` range (not scan a whole index and sort), and totals since a moment the
    range of `calls_timeline`, which covers what they sum (no lookup of each row)."""
    since = T0 + timedelta(days=8)
    raw = filled._store._connection().raw  # type: ignore[attr-defined]
    statements: list[str] = []
    raw.set_trace_callback(statements.append)  # the SQL with its values bound
    try:
        filled.frame(since=since)
        filled.totals(since=since)
        filled._store.totals_by_world(since)
    finally:
        raw.set_trace_callback(None)
    reads = [sql for sql in statements if sql.startswith("SELECT")]
    plans = [" / ".join(r[-1] for r in raw.execute("EXPLAIN QUERY PLAN " + sql)) for sql in reads]
    assert len(plans) == 3
    assert "calls_started_at (started_at>?)" in plans[0], plans[0]
    for plan in plans[1:]:
        assert "COVERING INDEX calls_timeline (demo=? AND <expr>>?)" in plan, plan


def test_totals_since_a_moment_count_from_the_moment_not_its_hour(ledger: Ledger) -> None:
    """The index's range starts at the moment's hour; the moment itself still bounds it."""
    at = datetime(2026, 5, 1, 12, 30, tzinfo=timezone.utc)
    for minutes, tokens in ((-40, 1), (-10, 10), (0, 100), (20, 1000)):
        ledger.record(chat_record(started_at=at + timedelta(minutes=minutes), total_tokens=tokens))
    assert ledger.totals(since=at).tokens == 1100
    assert ledger._store.totals_by_world(at)[False].tokens == 1100
    assert ledger._store.totals_by_world(at, user="nobody")[False].calls == 0


def test_summary_of_nothing_has_the_dtypes(ledger: Ledger) -> None:
    ledger.record(chat_record())  # a real call: the demo world is empty
    empty = ledger.summary("kind", demo=True)
    full = ledger.summary("kind")
    assert empty.empty and dict(empty.dtypes) == dict(full.dtypes)


@pytest.mark.parametrize(("days", "name"), [(1.5, "hour"), (9, "day")])
def test_timeline_is_the_pandas_one(ledger: Ledger, days: float, name: str) -> None:
    fill_randomly(ledger, 400, days=days, seed=7)
    per = ledger.timeline()
    assert per.index.name == name and len(per) > 5
    expected = pandas_timeline(ledger.frame())
    assert list(per.index) == list(expected.index)
    for column in ("credits", "estimate", "tokens"):
        assert list(per[column]) == pytest.approx([float(v) for v in expected[column]])


def test_timeline_hours_or_days_by_the_calls_own_span(ledger: Ledger) -> None:
    """Hours when the first and the last call are less than two days apart, by their times
    (not their hours: 00:30 to 00:20 two days later is hourly)."""
    ledger.record(chat_record(started_at=T0.replace(hour=0, minute=30)))
    last = T0.replace(hour=0, minute=20) + timedelta(days=2)
    ledger.record(chat_record(started_at=last))
    assert ledger.timeline().index.name == "hour"
    ledger.record(chat_record(started_at=last + timedelta(minutes=10)))
    assert list(ledger.timeline().index) == [datetime(2026, 5, 1), datetime(2026, 5, 3)]


def test_timeline_filters_and_nothing(ledger: Ledger) -> None:
    now = datetime.now(timezone.utc)
    ledger.record(chat_record(started_at=now, profile="work", credits=3.0))
    ledger.record(chat_record(started_at=now - timedelta(days=30), credits=5.0))
    per = ledger.timeline(since="today", profile="work")
    assert per.index.name == "hour" and list(per["credits"]) == [3.0]
    assert ledger.timeline(demo=True).empty
