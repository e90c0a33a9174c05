"""The usage ledger at 100,000 rows: insert throughput, `yjnb.usage()` load time, file size.

Run: ``.venv/bin/python benchmarks/ledger.py [--rows 100000] [--keep DIR]``

Rows:

1. Insert throughput through the real sink path: ``yjnb._hooks.emit(record)`` with the
   default ledger installed, one transaction per record, exactly as calls are recorded.
   Four chats in five are one report each; every fifth row is a media task reported twice
   (``pending``, then ``ok`` updating the row in place), so 100,000 rows are 120,000 reports.
2. ``Ledger.record_many`` in batches of 1,000 (one transaction each), for reference.
3. ``yjnb.usage()`` on the 100,000-row file: the median of 5 loads, each on a fresh
   connection (pandas already imported). Target: at most 1 s.
4. ``Ledger.summary("model")``: the median of 5.
5. The file size after a checkpoint, and per row.

Prompts are 80-200 characters of mixed text, params and the platform's usage object are
stored as JSON, like real rows.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

TARGET_LOAD_S = 1.0
WORDS = "a cat on the moon 月亮 上 的 猫 tell me about the weather in Hangzhou today please".split()  # noqa: SIM905
MODELS = ["qwen3-max", "deepseek-v3", "glm-4.6", "kimi-k2"]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="Keep the ledger files in this folder.")
    args = parser.parse_args()

    home = args.keep or Path(tempfile.mkdtemp(prefix="yjnb-bench-"))
    home.mkdir(parents=True, exist_ok=True)
    for old in home.glob("ledger.sqlite*"):
        old.unlink()
    os.environ["YJ_HOME"] = str(home)

    import pandas  # noqa: F401  (imported up front: its import is not the ledger's cost)

    import yjnb
    import yjnb.ledger as ledger_module
    from yjnb._hooks import emit
    from yjnb.ledger import Ledger

    start = datetime.now(timezone.utc) - timedelta(days=30)
    reports = list(records(args.rows, start))
    t0 = time.perf_counter()
    for record in reports:
        emit(record)  # type: ignore[arg-type]
    sink_s = time.perf_counter() - t0
    ledger = ledger_module.default_ledger()
    assert len(ledger) == args.rows, (len(ledger), args.rows)

    batch = Ledger(home / "batch.sqlite")
    chunk = 1000
    t0 = time.perf_counter()
    for i in range(0, len(reports), chunk):
        batch.record_many(reports[i : i + chunk])  # type: ignore[arg-type]
    batch_s = time.perf_counter() - t0
    assert len(batch) == args.rows
    batch.close()

    def load() -> None:
        ledger_module._reset_default()  # a fresh connection each time, as in a new kernel
        df = yjnb.usage()
        assert len(df) == args.rows

    load_s, load_cpu = median_time(load)
    summary_s, _ = median_time(lambda: ledger_module.default_ledger().summary("model"))

    ledger_module._reset_default()
    with sqlite3.connect(home / "ledger.sqlite") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = sum(p.stat().st_size for p in home.glob("ledger.sqlite*"))

    rows = [
        ("rows", f"{args.rows:,}", f"{len(reports):,} reports (tasks reported twice)"),
        ("insert via the sink", f"{args.rows / sink_s:,.0f} rows/s", f"{sink_s:.2f} s"),
        ("insert, record_many x1000", f"{args.rows / batch_s:,.0f} rows/s", f"{batch_s:.2f} s"),
        (
            "yjnb.usage() load",
            f"{load_s:.3f} s",
            f"CPU {load_cpu:.3f} s; target <= {TARGET_LOAD_S:.1f} s: "
            + ("ok" if load_s <= TARGET_LOAD_S else "MISSED"),
        ),
        ("summary(by='model')", f"{summary_s:.3f} s", "load included"),
        ("file size", f"{size / 1e6:.1f} MB", f"{size / args.rows:.0f} bytes/row"),
    ]
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"yjnb ledger benchmark  (python {sys_version()}, sqlite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs, load average {load_avg:.2f})"
    )
    for name, value, note in rows:
        print(f"  {name:<{width[0]}}  {value:>{width[1]}}  {note}")
    if not args.keep:
        for p in home.glob("*.sqlite*"):
            p.unlink()
        home.rmdir()


def sys_version() -> str:
    import platform

    return platform.python_version()


if __name__ == "__main__":
    main()
