"""The usage ledger: every chat call and media task as a row in `YJ_HOME/ledger.sqlite`.

The core reports each call through the usage hook (`yjnb._hooks`); on the first record the
hook calls `install()`, which subscribes `sink` here, so `import yjnb` never imports this
package and a plain script using `yjnb.Client` is recorded like a notebook is.

* `yjnb.usage(since=None, kind=None, model=None)`: the default ledger as a pandas DataFrame.
* `yjnb.Ledger(path)`: any ledger file, with `.frame()`, `.summary()`, `.export()` and, for
  `%yj_tasks`, `.tasks()` / `.pending_tasks()` as plain dicts.
* Switches: `YJ_LEDGER=0` (or `%config YJMagics.ledger = False`) records nothing;
  `YJ_LEDGER_PROMPTS=0` (or `YJMagics.ledger_prompts = False`) records no prompt text.

pandas is imported only by the methods that return a DataFrame.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .._types import UsageRecord
from ._ledger import FILENAME as FILENAME  # `as`: still this module's names, as before
from ._ledger import Ledger, Names, Since
from ._ledger import home as home
from ._schema import COLUMNS, SCHEMA_VERSION
from ._store import Totals
from ._store import parse_since as parse_since
from ._today import Spend, fold

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COLUMNS",
    "SCHEMA_VERSION",
    "Ledger",
    "Totals",
    "configure",
    "default_ledger",
    "enabled",
    "install",
    "prompts_enabled",
    "session_totals",
    "sink",
    "today_totals",
    "uninstall",
    "usage",
]

logger = logging.getLogger("yjnb")

_OFF = frozenset({"0", "false", "no", "off"})


# -- the process default ------------------------------------------------------------------


@dataclass
class _State:
    ledger: Ledger | None = None
    home_key: str | None = None  # the YJ_HOME the default ledger was resolved for
    enabled: bool | None = None  # set by YJMagics.ledger; None: the environment decides
    prompts: bool | None = None  # set by YJMagics.ledger_prompts
    warned: bool = False
    # This process's own spending, for the session budget: chats in order, tasks by task id
    # so that a task's later states replace its earlier ones instead of adding to them.
    chats: Totals = field(default_factory=Totals)
    tasks: dict[str, Spend] = field(default_factory=dict)


_state = _State()
_lock = threading.RLock()


def default_ledger() -> Ledger:
    """The ledger under the current `YJ_HOME`, made once (again if `YJ_HOME` changes)."""
    key = os.environ.get("YJ_HOME")
    with _lock:
        if _state.ledger is None or _state.home_key != key:
            if _state.ledger is not None:
                _state.ledger.close()
            _state.ledger, _state.home_key = Ledger(), key
        return _state.ledger


def _env_on(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in _OFF


def enabled() -> bool:
    """Whether calls are recorded: `YJMagics.ledger` if set, else `YJ_LEDGER` (default on)."""
    return _state.enabled if _state.enabled is not None else _env_on("YJ_LEDGER")


def prompts_enabled() -> bool:
    """Whether prompt text is stored: `YJMagics.ledger_prompts` if set, else `YJ_LEDGER_PROMPTS`."""
    return _state.prompts if _state.prompts is not None else _env_on("YJ_LEDGER_PROMPTS")


def configure(*, enabled: bool | None = None, prompts: bool | None = None) -> None:
    """Switch recording / prompt storage for this process (what the YJMagics traitlets call).
    An argument left at None keeps the current setting."""
    with _lock:
        if enabled is not None:
            _state.enabled = bool(enabled)
        if prompts is not None:
            _state.prompts = bool(prompts)


def sink(record: UsageRecord) -> None:
    """The usage-hook sink: write `record` to the default ledger unless the ledger is off."""
    if not enabled():
        return
    _tally(record)  # spent is spent, even if the file cannot be written
    try:
        default_ledger().record(
            record,
            prompts=prompts_enabled(),
            notebook=os.environ.get("JPY_SESSION_NAME") or None,
        )
    except Exception as exc:
        # A full disk or a read-only home must not cost the user the answer; say so once.
        if not _state.warned:
            _state.warned = True
            logger.warning("yjnb usage ledger: could not record a call (%s)", exc)


def _tally(record: UsageRecord) -> None:
    with _lock:
        if record.taskid:  # as the ledger row: a late `pending` does not undo an `ok`
            _state.tasks[record.taskid] = fold(_state.tasks.get(record.taskid), record)
        else:
            _state.chats = _state.chats + fold(None, record).totals


def session_totals() -> Totals:
    """What this process recorded since it started: calls, tokens, credits."""
    with _lock:
        return sum((spend.totals for spend in _state.tasks.values()), _state.chats)


def today_totals() -> Totals:
    """Every kernel's calls since midnight UTC, from the default ledger."""
    midnight = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return default_ledger().totals(midnight)


def install() -> None:
    """Subscribe the ledger to the usage hook (idempotent). The hook calls this itself."""
    from .._hooks import add_usage_sink

    add_usage_sink(sink)


def uninstall() -> None:
    from .._hooks import remove_usage_sink

    remove_usage_sink(sink)


def usage(since: Since = None, kind: Names = None, model: Names = None) -> pd.DataFrame:
    """The default ledger (`YJ_HOME/ledger.sqlite`) as a DataFrame, newest last."""
    return default_ledger().frame(since=since, kind=kind, model=model)


def _reset_default() -> None:
    """Forget the default ledger, the switches and the session tally (for tests)."""
    with _lock:
        if _state.ledger is not None:
            _state.ledger.close()
        _state.ledger = None
        _state.home_key = None
        _state.enabled = None
        _state.prompts = None
        _state.warned = False
        _state.chats = Totals()
        _state.tasks = {}
