"""The price table in force: `%config YJMagics.prices` if set, else `YJ_HOME/prices.toml`.

Without either there are no estimates, only "not reported". The file is read again when it
changes; a file that cannot be read or parsed is logged once per change and gives no
estimates (an estimate is never worth an error in the middle of a paid call).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._errors import YJError
from ._estimates import PriceTable, parse_prices
from ._profiles import _read_toml

__all__ = ["FILENAME", "configure", "price_table"]

FILENAME = "prices.toml"
logger = logging.getLogger("yjnb")

_lock = threading.Lock()
_override: PriceTable | None = None
_files: dict[Path, tuple[float, PriceTable]] = {}  # path -> (mtime read, its table)
# Every recorded chat asks for the table, on the event loop: the file is looked at (a stat)
# at most this often, so a fan-out of 1,000 calls does not make 1,000 stats.
RECHECK_S = 1.0
_checked: dict[Path, tuple[float, PriceTable]] = {}  # home -> (monotonic time, table then)


def configure(prices: Mapping[str, Any] | None) -> PriceTable | None:
    """Set the process's price table (`%config YJMagics.prices`); empty or None: the file's.
    Raises `ValidationError` for a table that is not one."""
    global _override
    table = parse_prices(prices) if prices else None
    with _lock:
        _override = table
    return table


def price_table(home: Path) -> PriceTable:
    """The table in force for a client whose home is `home`."""
    # Read without the lock (one reference read each), and by `home` as given, not a path
    # built from it: this runs after every call, and the lock and the path were most of it.
    override = _override
    if override is not None:
        return override
    now = time.monotonic()
    recent = _checked.get(home)
    if recent is not None and now - recent[0] < RECHECK_S:
        return recent[1]
    table = _read(Path(home) / FILENAME)
    with _lock:
        _checked[home] = (now, table)
    return table


def _read(path: Path) -> PriceTable:
    """The table in `path` (empty if there is none), parsed again only when it changed."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return PriceTable()
    with _lock:
        known = _files.get(path)
    if known is not None and known[0] == mtime:
        return known[1]
    try:
        table = parse_prices(_read_toml(path))
    except YJError as exc:
        logger.warning("yjnb: %s is not used for estimates: %s", path, exc)
        table = PriceTable()
    with _lock:
        _files[path] = (mtime, table)
    return table
