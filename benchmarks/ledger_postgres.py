"""The ledger at 100,000 rows on PostgreSQL beside SQLite, each against a reference in the run.

Run: ``.venv/bin/python benchmarks/ledger_postgres.py [--rows 100000] [--url postgresql://...]``

Without ``--url`` a throwaway server is started as the tests start theirs (tests/pg_server.py:
initdb in a temporary folder, a free loopback port, fsync off). The same rows as
benchmarks/ledger.py (chats, and every fifth row a task reported twice) go into both:

1. ``Ledger.record_many`` in batches of 1,000 (the writer thread's batches): rows/s on each.
2. ``Ledger.frame()`` (what ``yjnb.usage()`` returns) on each, the median of 3, against the
   plain reference on the same database: ``SELECT *`` into ``pd.DataFrame`` (sqlite3's
   ``pd.read_sql_query``; psycopg's ``fetchall``), as a ratio.
3. ``Ledger.summary("model")``: the median of 3.
4. The sink (``yjnb._hooks.emit``, what every call does) into the default ledger, queued to
   committed (``flush()``): rows/s on each (on PostgreSQL, a second throwaway database; not
   with ``--url``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from ledger import records  # noqa: E402  (benchmarks/ledger.py: the same rows)


def median(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def figures(name: str, ledger: Any, plain: Callable[[], Any], reports: list[Any]) -> list[str]:
    n_rows = 0
    t0 = time.perf_counter()
    for start in range(0, len(reports), 1000):
        ledger.record_many(reports[start : start + 1000])
    insert_s = time.perf_counter() - t0
    n_rows = len(ledger)
    load_s = median(ledger.frame)
    plain_s = median(plain)
    summary_s = median(lambda: ledger.summary("model"))
    return [
        f"{name}: record_many x1000   {n_rows / insert_s:>9,.0f} rows/s",
        f"{name}: frame() / usage()   {load_s:>9.3f} s   {load_s / plain_s:.2f}x the plain "
        f"SELECT * into pandas ({plain_s:.3f} s)",
        f"{name}: summary('model')    {summary_s:>9.3f} s",
    ]


def sink_figure(name: str, home: Path, url: str | None, reports: list[Any]) -> str:
    """Rows/s from the first `emit` to the end of the `flush()` after the last."""
    import yjnb.ledger as ledger_module
    from yjnb._hooks import emit

    home.mkdir()
    os.environ["YJ_HOME"] = str(home)
    if url is not None:
        os.environ["YJ_LEDGER_URL"] = url
    ledger_module._reset_default()
    try:
        t0 = time.perf_counter()
        for record in reports:
            emit(record)
        ledger_module.flush()
        elapsed = time.perf_counter() - t0
        n_rows = len(ledger_module.default_ledger())
    finally:
        os.environ.pop("YJ_LEDGER_URL", None)
        ledger_module._reset_default()
    return f"{name}: sink + flush        {n_rows / elapsed:>9,.0f} rows/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--url", help="An empty PostgreSQL database (default: a throwaway one)")
    args = parser.parse_args()

    import pandas as pd
    import psycopg

    from yjnb.ledger import Ledger
    from yjnb.ledger._schema import COLUMNS, quoted

    home = Path(tempfile.mkdtemp(prefix="yjnb-bench-pg-"))
    os.environ["YJ_HOME"] = str(home)
    server = None
    url = args.url
    if url is None:
        from pg_server import PgServer

        server = PgServer()
        server.start()
        url = server.new_database()
    select = f"SELECT {quoted(COLUMNS)} FROM calls ORDER BY started_at, id"

    def plain_sqlite() -> Any:
        with sqlite3.connect(home / "ledger.sqlite") as conn:
            return pd.read_sql_query(select, conn)

    def plain_postgres() -> Any:
        with psycopg.connect(url) as conn:
            cur = conn.execute(select)
            return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description or []])

    reports = list(records(args.rows, datetime.now(timezone.utc) - timedelta(days=30)))
    try:
        lines = figures("SQLite    ", Ledger(home / "ledger.sqlite"), plain_sqlite, reports)
        lines += figures("PostgreSQL", Ledger(url), plain_postgres, reports)
        lines.append(sink_figure("SQLite    ", home / "sink-sqlite", None, reports))
        if server is not None:
            sink_url = server.new_database()
            lines.append(sink_figure("PostgreSQL", home / "sink-pg", sink_url, reports))
    finally:
        if server is not None:
            server.close()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"yjnb ledger, {args.rows:,} rows  ({os.cpu_count()} CPUs, load average {load:.2f})")
    for line in lines:
        print("  " + line)
    shutil.rmtree(home)


if __name__ == "__main__":
    main()
