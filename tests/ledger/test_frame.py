"""The ledger as pandas: dtypes, order, filters, summaries and exports."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

import yjnb
from yjnb._hooks import emit
from yjnb.ledger import Ledger

from .helpers import T0, chat_record, task_record

DAY2 = T0 + timedelta(days=1)


def fill(ledger: Ledger) -> None:
    """Two days, three models, every kind and several statuses; written out of time order."""
    ledger.record(task_record("ok", taskid="v1", started_at=DAY2))
    ledger.record(chat_record(started_at=T0 + timedelta(minutes=5)))
    ledger.record(chat_record(started_at=T0, model="deepseek-v3", total_tokens=100))
    ledger.record(
        chat_record(started_at=DAY2 + timedelta(hours=1), status="interrupted", total_tokens=4)
    )
    ledger.record(
        task_record(
            "failed",
            taskid="i1",
            kind="image",
            model="wan2.2-t2i-flash",
            catelog="t2i",
            started_at=T0 + timedelta(minutes=10),
            profile="work",
        )
    )
    ledger.record(task_record("pending", taskid="v2", started_at=DAY2 + timedelta(hours=2)))


def test_dtypes_and_order(ledger: Ledger) -> None:
    fill(ledger)
    df = yjnb.usage()
    assert len(df) == 6
    for column in ("started_at", "finished_at"):
        assert isinstance(df[column].dtype, pd.DatetimeTZDtype)
        assert str(df[column].dt.tz) == "UTC"
    for column in ("prompt_tokens", "completion_tokens", "cached_tokens", "total_tokens"):
        assert df[column].dtype == "Int64"
    for column in ("credits", "media_seconds", "latency_s", "ttft_s"):
        assert df[column].dtype == "float64"
    for column in ("kind", "model", "status", "taskid", "error", "notebook", "params"):
        assert df[column].dtype == "string"
    assert df["id"].dtype == "int64"
    assert df["started_at"].is_monotonic_increasing  # newest last, whatever the write order
    assert df["started_at"].iloc[0] == pd.Timestamp(T0)
    assert pd.isna(df.loc[df.taskid == "v2", "finished_at"]).all()
    assert pd.isna(df.loc[df.kind == "video", "total_tokens"]).all()
    assert df.loc[df.taskid == "v1", "credits"].item() == 25.0


def test_an_empty_ledger_has_the_same_columns_and_dtypes(ledger: Ledger) -> None:
    fill(ledger)
    full = ledger.frame()
    empty = Ledger(ledger.path.with_name("empty.sqlite")).frame()
    assert empty.empty
    assert list(empty.columns) == list(full.columns)
    assert dict(empty.dtypes) == dict(full.dtypes)


@pytest.mark.parametrize(
    "since",
    ["2026-05-02", "2026-05-02T00:00:00Z", date(2026, 5, 2), datetime(2026, 5, 2)],
)
def test_since_filter(ledger: Ledger, since: object) -> None:
    fill(ledger)
    df = yjnb.usage(since=since)  # type: ignore[arg-type]
    assert sorted(df["taskid"].dropna()) == ["v1", "v2"]
    assert len(df) == 3


def test_since_relative_and_bad(ledger: Ledger) -> None:
    ledger.record(chat_record(started_at=datetime.now(timezone.utc)))
    ledger.record(chat_record(started_at=T0))
    assert len(ledger.frame(since=timedelta(hours=1))) == 1
    assert len(ledger.frame(since="today")) == 1
    with pytest.raises(ValueError, match="not a date"):
        ledger.frame(since="last tuesday")


def test_kind_and_model_filters(ledger: Ledger) -> None:
    fill(ledger)
    assert set(yjnb.usage(kind="chat")["model"]) == {"qwen3-max", "deepseek-v3"}
    assert len(yjnb.usage(kind=["image", "video"])) == 3
    assert len(yjnb.usage(model="qwen3-max")) == 2
    assert len(yjnb.usage(kind="chat", model="qwen3-max", since="2026-05-02")) == 1
    assert yjnb.usage(kind=[]).empty


def test_summary_by_model(ledger: Ledger) -> None:
    fill(ledger)
    s = ledger.summary()
    assert list(s.columns) == [
        "calls", "tokens", "credits", "credits_estimate", "failures", "mean_latency_s",
    ]  # fmt: skip
    assert s.index.name == "model"
    assert s.index[0] == "viduq3-pro"  # the most credits first
    assert s.loc["viduq3-pro", "calls"] == 2
    assert s.loc["viduq3-pro", "credits"] == 25.0
    # Chat credits are not reported: NaN, never 0; no price table, so no estimate either.
    assert pd.isna(s.loc["qwen3-max", "credits"])
    assert pd.isna(s.loc["qwen3-max", "credits_estimate"])
    assert s.loc["qwen3-max", "tokens"] == 40
    assert s.loc["qwen3-max", "failures"] == 1
    assert s.loc["wan2.2-t2i-flash", "failures"] == 1
    assert s.loc["qwen3-max", "mean_latency_s"] == pytest.approx(2.0)


def test_summary_by_kind_day_profile(ledger: Ledger) -> None:
    fill(ledger)
    by_kind = ledger.summary("kind")
    assert dict(by_kind["calls"]) == {"video": 2, "chat": 3, "image": 1}
    by_day = ledger.summary("day")
    assert list(by_day.index) == [date(2026, 5, 1), date(2026, 5, 2)]
    assert list(by_day["calls"]) == [3, 3]
    assert list(by_day["tokens"]) == [136, 4]
    by_profile = ledger.summary("profile")
    assert dict(by_profile["calls"]) == {"yuanjing": 5, "work": 1}
    with pytest.raises(ValueError, match="choose one of"):
        ledger.summary("colour")


def test_estimates_are_their_own_column_and_count_where_nothing_was_reported(
    ledger: Ledger,
) -> None:
    ledger.record(chat_record(credits_estimate=0.5))
    ledger.record(chat_record(credits_estimate=0.25))
    ledger.record(chat_record(credits=2.0, credits_estimate=9.0))  # reported: no estimate
    df = yjnb.usage()
    assert list(df["credits_estimate"]) == [0.5, 0.25, 9.0] and df["credits"].isna().sum() == 2
    s = ledger.summary()
    assert s.loc["qwen3-max", "credits"] == 2.0
    assert s.loc["qwen3-max", "credits_estimate"] == 0.75
    totals = ledger.totals()
    assert (totals.credits, totals.unreported, totals.estimated) == (2.0, 2, 0.75)


def test_summary_of_nothing(ledger: Ledger) -> None:
    s = ledger.summary("kind")
    assert s.empty and list(s.columns) == [
        "calls",
        "tokens",
        "credits",
        "credits_estimate",
        "failures",
        "mean_latency_s",
    ]


def test_export_csv_round_trip(ledger: Ledger, tmp_path: Path) -> None:
    fill(ledger)
    out = ledger.export(tmp_path / "usage.csv", kind="chat")
    back = pd.read_csv(out)
    assert len(back) == 3
    assert list(back.columns) == list(ledger.frame().columns)
    assert set(back["model"]) == {"qwen3-max", "deepseek-v3"}
    assert pd.to_datetime(back["started_at"]).min() == pd.Timestamp(T0)


def test_export_parquet_round_trip(ledger: Ledger, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    fill(ledger)
    back = pd.read_parquet(ledger.export(tmp_path / "usage.parquet"))
    assert len(back) == 6
    assert str(back["started_at"].dt.tz) == "UTC"
    assert back["total_tokens"].dtype == "Int64"


def test_export_parquet_without_pyarrow_says_what_to_install(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "fastparquet", None)
    ledger.record(chat_record())
    with pytest.raises(ImportError, match="pip install pyarrow"):
        ledger.export(tmp_path / "usage.parquet")
    assert not (tmp_path / "usage.parquet").exists()


def test_export_unknown_format(ledger: Ledger, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        ledger.export(tmp_path / "usage.xlsx")


def test_records_through_the_hook_reach_the_frame(ledger: Ledger) -> None:
    emit(chat_record())
    emit(task_record("pending"))
    emit(task_record("ok"))
    df = yjnb.usage()
    assert list(df["status"]) == ["ok", "ok"] and list(df["kind"]) == ["chat", "video"]


def test_text_read_as_arrow_or_as_python_strings_is_the_same_frame(ledger: Ledger) -> None:
    """With pandas' Arrow-backed text the rows are read as bytes into Arrow arrays; with
    Python-backed text as `str`: the same values either way, in the dtype `astype` gives."""
    pytest.importorskip("pyarrow")
    fill(ledger)
    ledger.record(chat_record(prompt="月亮 上 的 猫 🐱", model=""))
    with pd.option_context("mode.string_storage", "pyarrow"):
        arrow = ledger.frame(demo=None)
        assert arrow["prompt"].dtype == pd.StringDtype("pyarrow")
    with pd.option_context("mode.string_storage", "python"):
        python = ledger.frame(demo=None)
        assert python["prompt"].dtype == pd.StringDtype("python")
    assert list(arrow.columns) == list(python.columns)
    text = [c for c in arrow.columns if isinstance(arrow[c].dtype, pd.StringDtype)]
    assert len(text) == 21  # every column but id, demo, the times and the numbers
    pd.testing.assert_frame_equal(
        arrow.drop(columns=text), python.drop(columns=text), check_column_type=False
    )
    for column in text:
        assert arrow[column].astype("object").tolist() == python[column].astype("object").tolist()
    assert "月亮 上 的 猫 🐱" in list(arrow["prompt"]) and "" in list(arrow["model"])
    assert list(arrow["started_at"]) == list(python["started_at"])


def test_text_that_is_not_utf8_is_read_with_replacement_characters(ledger: Ledger) -> None:
    """Another program may have written bytes that are not UTF-8: the frame still loads."""
    pytest.importorskip("pyarrow")
    import sqlite3

    ledger.record(chat_record())
    ledger.record(chat_record(prompt="fine"))
    with sqlite3.connect(ledger.path) as conn:
        conn.execute("UPDATE calls SET prompt = CAST(x'ff41' AS TEXT) WHERE prompt <> 'fine'")
    with pd.option_context("mode.string_storage", "pyarrow"):
        df = ledger.frame()
    assert list(df["prompt"]) == ["\ufffdA", "fine"]
    assert df["prompt"].dtype == pd.StringDtype("pyarrow")
