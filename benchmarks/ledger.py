"""The usage ledger at 100,000 rows: the sink's cost, insert throughput, load time, file size.

Run: ``.venv/bin/python benchmarks/ledger.py [--rows 100000] [--keep DIR]``

Rows:

1. The reference: ``Ledger.record(record)`` on a plain ledger, one transaction per report, on
   the calling thread: what the sink did on the event loop before the writer thread.
2. ``sink()`` through the real path, ``yjnb._hooks.emit(record)`` with the default ledger
   installed: its cost on the calling thread per report (the event loop's cost), as a ratio
   of the reference. Twice: with the writer held until the last report is queued (the sink's
   own work), and with the writer writing meanwhile (a flood: the two threads share the GIL).
   Four chats in five are one report each; every fifth row is a media task reported twice
   (``pending``, then ``ok`` updating the row in place), so 100,000 rows are 120,000 reports.
3. ``flush()``: of the whole held backlog (the writer's throughput), and right after 100
   reports (a read after a cell's calls; the median of 5); how many reports the writer had
   written when the flood's last was queued (the two threads share the GIL); the end-to-end
   rate (emit + flush, records queued to committed). Target: at least 20,000 rows/s. Also the
   writer's share spent building the rows (``record_row``) alone.
4. ``Ledger.record()`` and ``Ledger.record_many`` in batches of 1,000, directly, for reference.
5. ``yjnb.usage()`` on the 100,000-row file beside its reference, a plain
   ``pd.read_sql_query("select * from calls")`` on a fresh connection: the median of 5 each,
   run alternately, each load on a fresh connection (pandas already imported). Target: at
   most 1.0x the reference.
6. ``Ledger.summary(by)`` for each grouping and ``Ledger.timeline()`` (``%yj_usage --plot``),
   grouped by the database: the median of 5 each. Target: at most 0.1 s.
7. Today's totals, which the writer re-reads every half second while it writes, beside the
   query they replaced (through ``calls_started_at`` and a table lookup per row).
8. The file size after a checkpoint, and per row.

Prompts are 80-200 characters of mixed text, params and the platform's usage object are
stored as JSON, like real rows.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

TARGET_SUMMARY_S = 0.1
TARGET_SINK_ROWS_S = 20_000
WORDS = "a cat on the moon 月亮 上 的 猫 tell me about the weather in Hangzhou today please".split()  # noqa: SIM905
MODELS = ["qwen3-max", "deepseek-v3", "glm-4.6", "kimi-k2"]
BY = ("model", "kind", "day", "profile")


def records(n: int, start: datetime) -> Iterator[object]:
    """`n` rows' worth of reports: chats, and every fifth row a task (pending, then ok)."""
    from yjnb._types import UsageRecord

    rng = random.Random(6)
    for i in range(n):
        at = start + timedelta(seconds=30 * i)
        prompt = " ".join(rng.choice(WORDS) for _ in range(rng.randint(15, 40)))
        if i % 5 == 4:
            common = {
                "kind": "video",
                "model": "viduq3-pro",
                "profile": "yuanjing",
                "catelog": "t2v",
                "started_at": at,
                "prompt": prompt,
                "params": {"duration": 4, "ratio": "16:9"},
                "taskid": f"9{i:017d}",
            }
            yield UsageRecord(status="pending", **common)  # type: ignore[arg-type]
            yield UsageRecord(
                status="ok",
                finished_at=at + timedelta(seconds=40),
                credits=100.0,
                media_seconds=4.0,
                resolution="1080p",
                latency_s=40.0,
                video_url=f"https://opencomputing.ai/idfile?path=/tmp/{i}/video.mp4",
                image_url=f"https://opencomputing.ai/idfile?path=/tmp/{i}/cover.jpeg",
                usage_raw={"credits": 100, "duration": 4, "resolution": "1080p"},
                **common,  # type: ignore[arg-type]
            )
        else:
            tokens = rng.randint(20, 2000)
            yield UsageRecord(
                kind="chat",
                status="ok" if i % 50 else "interrupted",
                model=MODELS[i % len(MODELS)],
                profile="yuanjing",
                catelog="t2t",
                started_at=at,
                finished_at=at + timedelta(seconds=3),
                prompt=prompt,
                params={"system": "answer briefly", "temperature": 0.7},
                usage_id=f"u{i:012d}",
                prompt_tokens=tokens // 3,
                completion_tokens=tokens - tokens // 3,
                cached_tokens=0,
                total_tokens=tokens,
                latency_s=3.0,
                ttft_s=0.4,
                usage_raw={"prompt_tokens": tokens // 3, "total_tokens": tokens},
            )


def median_time(fn: Callable[[], object], runs: int = 5) -> tuple[float, float]:
    """Median wall and CPU seconds of `runs` calls (CPU: less sensitive to a busy machine)."""
    walls, cpus = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def insert_figures(home: Path, reports: list[object], n_rows: int) -> list[tuple[str, str, str]]:
    """Rows 1-4: the direct reference, the queued sink and its flushes, record_many."""
    from yjnb.ledger import Ledger

    direct_s = timed_inserts(Ledger(home / "direct.sqlite"), reports, n_rows)
    # The sink's own cost, the writer held until the last report is queued; then its flush.
    os.environ["YJ_HOME"] = str(home / "held")
    held_s, backlog_s, _ = queued_inserts(reports, n_rows, hold=True)
    os.environ["YJ_HOME"] = str(home / "scratch")  # a few small flushes, off the main file
    small_flush_s = statistics.median(flush_after(reports[:100]) for _ in range(5))
    # The real path into the main file: the writer writes while the reports flood in.
    os.environ["YJ_HOME"] = str(home)
    sink_s, flush_s, during = queued_inserts(reports, n_rows, hold=False)
    batch_s = timed_inserts(Ledger(home / "batch.sqlite"), reports, n_rows, chunk=1000)
    rows_s = build_rows_s(reports)

    n = len(reports)
    sink_rate = n_rows / (sink_s + flush_s)
    per_direct, per_held, per_sink = (t / n * 1e6 for t in (direct_s, held_s, sink_s))
    return [
        ("rows", f"{n_rows:,}", f"{n:,} reports (tasks reported twice)"),
        ("record() per report, direct", f"{per_direct:.1f} us", "reference: 1 transaction each"),
        ("sink() per report, writer held", f"{per_held:.1f} us", f"{per_held / per_direct:.2f} x"),
        ("sink() per report, writer busy", f"{per_sink:.1f} us", f"{per_sink / per_direct:.2f} x"),
        ("flush() of a held backlog", f"{backlog_s:.2f} s", f"{n:,} reports"),
        ("flush() after 100 reports", f"{small_flush_s * 1e3:.1f} ms", "median of 5"),
        (
            "written while the sink floods",
            f"{during:,}",
            f"of {n:,} reports, when the last is queued",
        ),
        ("building the rows (record_row)", f"{rows_s:.2f} s", f"{n:,} reports, part of the flush"),
        (
            "insert via sink + flush",
            f"{sink_rate:,.0f} rows/s",
            f"end to end; {sink_rate * direct_s / n_rows:.2f}x direct record(); "
            f"target >= {TARGET_SINK_ROWS_S:,} rows/s: {verdict(sink_rate >= TARGET_SINK_ROWS_S)}",
        ),
        ("insert, direct record()", f"{n_rows / direct_s:,.0f} rows/s", f"{direct_s:.2f} s"),
        ("insert, record_many x1000", f"{n_rows / batch_s:,.0f} rows/s", f"{batch_s:.2f} s"),
    ]


def timed_inserts(ledger: Any, reports: list[object], n_rows: int, chunk: int = 0) -> float:
    """Seconds to write `reports` with `record()` (or `record_many()` by `chunk`), directly."""
    t0 = time.perf_counter()
    if chunk:
        for i in range(0, len(reports), chunk):
            ledger.record_many(reports[i : i + chunk])
    else:
        for record in reports:
            ledger.record(record)
    elapsed = time.perf_counter() - t0
    assert len(ledger) == n_rows
    ledger.close()
    return elapsed


def queued_inserts(reports: list[object], n_rows: int, *, hold: bool) -> tuple[float, float, int]:
    """(seconds emitting `reports` through the sink, seconds of the `flush()` after, reports
    the writer had finished when the last was queued)."""
    import yjnb.ledger as ledger_module
    from yjnb._hooks import emit

    writer = ledger_module.default_ledger()._writer
    assert writer is not None
    if hold:
        writer.pause()
    t0 = time.perf_counter()
    for record in reports:
        emit(record)  # type: ignore[arg-type]
    sink_s = time.perf_counter() - t0
    finished = writer._finished  # the writer's progress while the sink flooded it
    if hold:
        writer.resume()
    t0 = time.perf_counter()
    ledger_module.flush()
    flush_s = time.perf_counter() - t0
    assert len(ledger_module.default_ledger()) == n_rows
    return sink_s, flush_s, finished


def build_rows_s(reports: list[object]) -> float:
    """Seconds to build the rows of `reports` (`record_row`), as the writer does, in batches."""
    from yjnb.ledger._identity import who
    from yjnb.ledger._items import Write, rows

    identity = who()
    t0 = time.perf_counter()
    for i in range(0, len(reports), 1000):
        rows(Write(0, reports[i : i + 1000], True, None, None), identity)  # type: ignore[arg-type]
    return time.perf_counter() - t0


def flush_after(reports: list[object]) -> float:
    """Seconds `flush()` takes right after `reports` were emitted (the emits untimed)."""
    import yjnb.ledger as ledger_module
    from yjnb._hooks import emit

    for record in reports:
        emit(record)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    ledger_module.flush()
    return time.perf_counter() - t0


def read_figures(home: Path, n_rows: int) -> list[tuple[str, str, str]]:
    """Rows 5-8: the DataFrame load and its reference, the summaries, the file size."""
    import pandas as pd

    import yjnb
    import yjnb.ledger as ledger_module

    path = home / "ledger.sqlite"

    def load() -> None:
        ledger_module._reset_default()  # a fresh connection each time, as in a new kernel
        df = yjnb.usage()
        assert len(df) == n_rows

    def read_sql() -> None:
        # The reference: what a user would write, on a fresh connection, GC as it is.
        with contextlib.closing(sqlite3.connect(path)) as conn:
            df = pd.read_sql_query("select * from calls", conn)
        assert len(df) == n_rows

    ledger_module._reset_default()
    ledger = ledger_module.default_ledger()
    ledger.summary("model")  # the connection open, as in a kernel that read before
    # Interleaved, so that a change in the machine's load hits both alike.
    (ref_s, ref_cpu), (load_s, load_cpu) = median_pair(read_sql, load)
    ratio = load_s / ref_s
    rows = [
        ("pd.read_sql_query(select *)", f"{ref_s:.3f} s", f"CPU {ref_cpu:.3f} s; reference"),
        (
            "yjnb.usage() load",
            f"{load_s:.3f} s",
            f"CPU {load_cpu:.3f} s; {ratio:.2f}x read_sql (target <= 1.0x: {verdict(ratio <= 1)})",
        ),
    ]
    ledger = ledger_module.default_ledger()
    grouped = [(f"summary(by={by!r})", lambda by=by: ledger.summary(by)) for by in BY]
    grouped.append(("timeline() (--plot)", ledger.timeline))
    for name, fn in grouped:
        took, cpu = median_time(fn)
        met = verdict(took <= TARGET_SUMMARY_S)
        note = f"CPU {cpu:.3f} s; {took / ref_s:.3f}x read_sql; target <= 0.1 s: {met}"
        rows.append((name, f"{took:.3f} s", note))

    rows.append(totals_figure(ledger, path))

    ledger_module._reset_default()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = sum(p.stat().st_size for p in home.glob("ledger.sqlite*"))
    rows.append(("file size", f"{size / 1e6:.1f} MB", f"{size / n_rows:.0f} bytes/row"))
    return rows


# Today's totals as `Store.totals_by_world` read them before they took the covering index:
# the reference for the writer's re-read, on the same file in the same run.
TOTALS_BEFORE = (
    "SELECT +demo, COUNT(*), COALESCE(SUM(total_tokens), 0), COALESCE(SUM(credits), 0), "
    "COUNT(*) - COUNT(credits), "
    "COALESCE(SUM(CASE WHEN credits IS NULL THEN credits_estimate END), 0) "
    "FROM calls WHERE started_at >= ? GROUP BY 1"
)


def totals_figure(ledger: Any, path: Path) -> tuple[str, str, str]:
    """Row 7: today's totals (what the writer re-reads every half second while it writes)
    beside the query they replaced; the file's rows run a few days past today."""
    from yjnb.ledger._schema import iso

    midnight = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    since = iso(midnight)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        today = conn.execute("SELECT COUNT(*) FROM calls WHERE started_at >= ?", (since,))
        n_today = today.fetchone()[0]
        (before_s, _), (now_s, _) = median_pair(
            lambda: conn.execute(TOTALS_BEFORE, (since,)).fetchall(),
            lambda: ledger._store.totals_by_world(midnight),
        )
    note = f"{n_today:,} rows since midnight; the query before: {before_s * 1e3:.1f} ms"
    return ("today's totals (the writer's re-read)", f"{now_s * 1e3:.1f} ms", note)


def median_pair(
    first: Callable[[], object], second: Callable[[], object], runs: int = 5
) -> tuple[tuple[float, float], tuple[float, float]]:
    """`median_time` of two functions, run alternately."""
    times: list[list[tuple[float, float]]] = [[], []]
    for _ in range(runs):
        for i, fn in enumerate((first, second)):
            times[i].append(median_time(fn, runs=1))
    return tuple(  # type: ignore[return-value]
        (statistics.median(w for w, _ in t), statistics.median(c for _, c in t)) for t in times
    )


def verdict(met: bool) -> str:
    return "ok" if met else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="Keep the ledger files in this folder.")
    args = parser.parse_args()

    home = args.keep or Path(tempfile.mkdtemp(prefix="yjnb-bench-"))
    home.mkdir(parents=True, exist_ok=True)
    for old in home.glob("*.sqlite*"):
        old.unlink()
    os.environ["YJ_HOME"] = str(home)

    import pandas  # noqa: F401  (imported up front: its import is not the ledger's cost)

    start = datetime.now(timezone.utc) - timedelta(days=30)
    reports = list(records(args.rows, start))
    rows = insert_figures(home, reports, args.rows) + read_figures(home, args.rows)

    width = [max(len(r[i]) for r in rows) for i in range(3)]
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"yjnb ledger benchmark  (python {sys_version()}, sqlite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs, load average {load_avg:.2f})"
    )
    for name, value, note in rows:
        print(f"  {name:<{width[0]}}  {value:>{width[1]}}  {note}")
    if not args.keep:
        for p in home.rglob("*.sqlite*"):
            p.unlink()
        for folder in sorted(home.rglob("*"), reverse=True):
            folder.rmdir()
        home.rmdir()


def sys_version() -> str:
    import platform

    return platform.python_version()


if __name__ == "__main__":
    main()
