"""The usage ledger: every chat call and media task as a row in `YJ_HOME/ledger.sqlite`.

The core reports each call through the usage hook (`yjnb._hooks`); on the first record the
hook calls `install()`, which subscribes `sink` here, so `import yjnb` never imports this
package and a plain script using `yjnb.Client` is recorded like a notebook is.

The sink only queues (the record itself: `_items.py`): one writer thread per default ledger
writes to SQLite (`_writer.py`), never the event loop the core reports from. Reads of the
default ledger `flush()` first, so they see every record queued before them; process exit
writes what is still queued. The "today" line (`today_totals()`) comes from an in-process
tally (`_today.py`) that the writer keeps in step with the file.

* `yjnb.usage(since=None, kind=None, model=None, demo=False)`: the default ledger as a pandas
  DataFrame; real calls only by default, `demo=True` the demo-mode ones, `demo=None` both.
* Demo calls (made against the demo emulator; column `demo`) are a world of their own: the
  "today" and session totals (and so the budgets) of real calls never include them, and
  `demo=True` gives the demo world's own totals, for demo mode's usage lines and budgets.
* `yjnb.Ledger(path)`: any ledger file, with `.frame()`, `.summary()` and `.timeline()`
  (grouped by the database: `_summary.py`), `.export()` and, for `%yj_tasks`, `.tasks()` /
  `.pending_tasks()` as plain dicts.
* Switches: `YJ_LEDGER=0` (or `%config YJMagics.ledger = False`) records nothing;
  `YJ_LEDGER_PROMPTS=0` (or `YJMagics.ledger_prompts = False`) records no prompt text.

pandas is imported only by the methods that return a DataFrame.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._errors import ConfigError
from .._types import UsageRecord
from ._budget import TeamCheck, reserve
from ._dialect import is_url, safe_url
from ._env import Watch, getenv
from ._ledger import FILENAME as FILENAME  # `as`: still this module's names, as before
from ._ledger import Ledger, Names, Since
from ._ledger import home as home
from ._schema import COLUMNS, SCHEMA_VERSION
from ._store import Store, Totals
from ._store import parse_since as parse_since
from ._team import LedgerUnavailable
from ._today import Delta, Spend, chat_delta, fold, spend_totals, summed
from ._writer import Writer

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COLUMNS",
    "SCHEMA_VERSION",
    "Ledger",
    "LedgerUnavailable",
    "Totals",
    "configure",
    "default_ledger",
    "enabled",
    "flush",
    "install",
    "ledger_url",
    "prompts_enabled",
    "session_totals",
    "sink",
    "team_budget",
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
    home_key: tuple[str | None, ...] | None = None  # what the default ledger was made for
    url: str | None = None  # set by YJMagics.ledger_url; None: YJ_LEDGER_URL or the profile
    enabled: bool | None = None  # set by YJMagics.ledger; None: the environment decides
    prompts: bool | None = None  # set by YJMagics.ledger_prompts
    warned: bool = False
    # This process's own spending, for the session budget, real (False) and demo (True)
    # apart: chats in order, tasks by task id so that a task's later states replace its
    # earlier ones instead of adding to them.
    # Chats as plain sums (calls, tokens, credits, unreported, estimated), plus what each
    # chat since added: the recording thread appends it, and `_chat_sums` adds them up in C
    # when the totals are read or `_SUM_AT` have come (a call per record cost more).
    chats: dict[bool, list[float]] = field(default_factory=lambda: {False: _zero(), True: _zero()})
    chat_deltas: dict[bool, list[Delta]] = field(default_factory=lambda: {False: [], True: []})
    tasks: dict[bool, dict[str, Spend]] = field(default_factory=lambda: {False: {}, True: {}})
    # Bumped by every change of a switch or of the default ledger, so that the sink's
    # `_Route` made before it is made again.
    generation: int = 0
    route: _Route | None = None


# The variables the sink's settings come from (`default_ledger`, `enabled`, `prompts_enabled`
# and the notebook's name).
_ROUTE_ENV = Watch(
    "YJ_HOME", "YJ_LEDGER_URL", "YJ_PROFILE", "YJ_LEDGER", "YJ_LEDGER_PROMPTS", "JPY_SESSION_NAME"
)


class _Route:
    """Where the sink sends records and how they are stored, as of `key` (the generation and
    `_ROUTE_ENV`'s values). The sink runs for every call on the event loop: six environment
    reads, two switches and the default ledger's lock per record, looked up again only when
    `key` changes."""

    def __init__(self, key: tuple[object, ...]) -> None:
        self.key = key
        self.enabled = enabled()
        self.prompts = prompts_enabled()
        self.notebook = getenv("JPY_SESSION_NAME") or None
        self.ledger: Ledger | None = None  # the default ledger, looked up on first use


def _route() -> _Route:
    key = (_state.generation, *_ROUTE_ENV.values())
    route = _state.route
    if route is None or route.key != key:
        route = _state.route = _Route(key)
    return route


_SUM_AT = 4096


def _zero() -> list[float]:
    return [0, 0, 0.0, 0, 0.0]


_state = _State()
_lock = threading.RLock()


def default_ledger() -> Ledger:
    """The process's ledger, with its writer thread: a shared PostgreSQL one if a URL is set
    (`ledger_url()`), else the file under `YJ_HOME`. Made again if `YJ_HOME`, the URL or the
    profile changes."""
    key = (getenv("YJ_HOME"), _state.url, getenv("YJ_LEDGER_URL"), getenv("YJ_PROFILE"))
    with _lock:
        if _state.ledger is None or _state.home_key != key:
            if _state.ledger is not None:
                _state.ledger.close()  # writes what was queued for the old home first
            ledger = Ledger(ledger_url())
            ledger._writer = Writer(ledger._new_store())  # its own connection, for its thread
            _state.ledger, _state.home_key = ledger, key
            _state.generation += 1
        return _state.ledger


def ledger_url() -> str | None:
    """The shared ledger's URL: `YJMagics.ledger_url` if set, else `YJ_LEDGER_URL`, else the
    profile's `ledger_url`; None: the local file under `YJ_HOME`."""
    from .._config import configured_ledger_url

    return configured_ledger_url()


def _env_on(name: str) -> bool:
    return (getenv(name) or "").strip().lower() not in _OFF


def enabled() -> bool:
    """Whether calls are recorded: `YJMagics.ledger` if set, else `YJ_LEDGER` (default on)."""
    return _state.enabled if _state.enabled is not None else _env_on("YJ_LEDGER")


def prompts_enabled() -> bool:
    """Whether prompt text is stored: `YJMagics.ledger_prompts` if set, else `YJ_LEDGER_PROMPTS`."""
    return _state.prompts if _state.prompts is not None else _env_on("YJ_LEDGER_PROMPTS")


def configure(
    *, enabled: bool | None = None, prompts: bool | None = None, url: str | None = None
) -> None:
    """Switch recording / prompt storage / the shared ledger's URL for this process (what the
    YJMagics traitlets call). An argument left at None keeps the current setting; `url=""`
    goes back to `YJ_LEDGER_URL` or the profile's."""
    if url and not is_url(url):
        raise ConfigError(f"ledger_url {safe_url(url)!r} must start with postgresql://")
    with _lock:
        if url is not None:
            from .._config import set_ledger_url

            _state.url = url or None
            set_ledger_url(_state.url)  # the experiment cache follows it too
        if enabled is not None:
            _state.enabled = bool(enabled)
        if prompts is not None:
            _state.prompts = bool(prompts)
        _state.generation += 1


def sink(record: UsageRecord) -> None:
    """The usage-hook sink: queue `record` for the default ledger unless the ledger is off.

    It runs on the thread that made the call (the runner's event loop): it returns at once and
    the writer thread writes the record; a failure there is logged once, never raised here."""
    route = _route()
    if not route.enabled:
        return
    _tally(record)  # spent is spent, even if the file cannot be written
    try:
        ledger = route.ledger
        if ledger is None:
            ledger = route.ledger = default_ledger()
        ledger._queue(record, prompts=route.prompts, notebook=route.notebook)
    except Exception as exc:
        # A full disk or a read-only home must not cost the user the answer; say so once.
        if not _state.warned:
            _state.warned = True
            logger.warning("yjnb usage ledger: could not record a call (%s)", exc)


def _tally(record: UsageRecord) -> None:
    world = bool(record.demo)
    with _lock:
        if record.taskid:  # as the ledger row: a late `pending` does not undo an `ok`
            tasks = _state.tasks[world]
            tasks[record.taskid] = fold(tasks.get(record.taskid), record)
        else:
            deltas = _state.chat_deltas[world]
            deltas.append(chat_delta(record))
            if len(deltas) >= _SUM_AT:  # bounded, for a kernel that runs for weeks
                _chat_sums(world)


def _chat_sums(world: bool) -> list[float]:
    """The session's chat sums, with the chats recorded since added in (under `_lock`)."""
    deltas = _state.chat_deltas[world]
    if deltas:
        _state.chats[world] = summed(deltas, _state.chats[world])
        deltas.clear()
    return _state.chats[world]


def session_totals(*, demo: bool = False) -> Totals:
    """What this process spent since it started, on real calls (on demo calls with `demo`):
    calls, tokens, credits."""
    with _lock:
        calls, tokens, credits, unreported, estimated = _chat_sums(demo)
        chats = Totals(int(calls), int(tokens), credits, int(unreported), estimated)
        return sum(map(spend_totals, _state.tasks[demo].values()), chats)


def today_totals(*, fresh: bool = False, demo: bool = False) -> Totals:
    """Every kernel's real calls since midnight UTC on the default ledger (by their start
    time), or with `demo` their demo calls: the two are never added up.

    By default from memory, with no SQLite on the calling thread (the usage line runs on the
    event loop): the file's totals as the writer thread last read them (after each write, and
    when a couple of seconds old), plus this process's records since. `fresh=True` writes
    everything queued, re-reads the file on the writer thread and waits for it, raising if
    the file cannot be read: for the budget check, which must count every kernel's spending.
    """
    return default_ledger()._today_totals(fresh=fresh, demo=demo)


def team_budget(
    budget: float, models: Sequence[str] = (), *, demo: bool = False, force: bool = False
) -> TeamCheck:
    """Check today's spending of every user of the default ledger against `budget` and, if
    it passes (or `force`), reserve what a call to `models` is expected to cost, atomically
    (`_budget`). Runs on the writer thread after everything queued; raises if the ledger
    cannot be read (a shared one that is down: `LedgerUnavailable`)."""
    ledger = default_ledger()

    def check(store: Store) -> TeamCheck:
        # `store.call`: a shared ledger's connection dropped by a restart is replaced once.
        return store.call(lambda s: reserve(s, budget, list(models), demo=demo, force=force))

    if ledger._writer is not None:
        return ledger._writer.call(check)
    return check(ledger._store)


def flush() -> None:
    """Wait until every record queued for the default ledger is written. Reads of the default
    ledger (`yjnb.usage()`, `Ledger.frame()`, `.tasks()`, ...) do this themselves."""
    with _lock:
        ledger = _state.ledger
    if ledger is not None:
        ledger.flush()


def install() -> None:
    """Subscribe the ledger to the usage hook (idempotent). The hook calls this itself."""
    from .._hooks import add_usage_sink

    add_usage_sink(sink)


def uninstall() -> None:
    from .._hooks import remove_usage_sink

    remove_usage_sink(sink)


def usage(
    since: Since = None, kind: Names = None, model: Names = None, *, demo: bool | None = False
) -> pd.DataFrame:
    """The default ledger (`YJ_HOME/ledger.sqlite`) as a DataFrame, newest last.

    `demo=False` (the default): real calls only; `demo=True`: the calls made in demo mode
    (against the emulator); `demo=None`: both, told apart by the `demo` column.
    """
    return default_ledger().frame(since=since, kind=kind, model=model, demo=demo)


def _reset_default() -> None:
    """Write what is queued, then forget the default ledger, the switches and the session
    tally (for tests)."""
    with _lock:
        if _state.ledger is not None:
            _state.ledger.close()
        _state.ledger = None
        _state.home_key = None
        if _state.url is not None:
            from .._config import set_ledger_url

            set_ledger_url(None)
        _state.url = None
        _state.enabled = None
        _state.prompts = None
        _state.warned = False
        _state.chats = {False: _zero(), True: _zero()}
        _state.chat_deltas = {False: [], True: []}
        _state.tasks = {False: {}, True: {}}
        _state.generation += 1
        _state.route = None


def _close_at_exit() -> None:
    """Write what is still queued before the process ends."""
    with _lock:
        ledger = _state.ledger
    if ledger is not None:
        ledger.close()


_paused: Writer | None = None  # the writer held across a fork, to resume in the parent


def _pause_for_fork() -> None:
    global _paused
    ledger = _state.ledger  # no `_lock`: the forking thread may hold it, or another thread
    _paused = ledger._writer if ledger is not None else None
    if _paused is not None:
        _paused.pause()


def _resume_after_fork() -> None:
    global _paused
    if _paused is not None:
        _paused.resume()
    _paused = None


def _forget_after_fork() -> None:
    """In a forked child: the parent's writer thread did not come along, and what is in its
    queue is the parent's to write. The child makes its own default ledger on first use."""
    global _lock, _paused
    _lock = threading.RLock()  # the parent may have held it while forking
    _paused = None
    _state.ledger = None
    _state.home_key = None
    _state.generation += 1
    _state.route = None


atexit.register(_close_at_exit)
# `threading`'s exit hook also runs in a multiprocessing child, which ends with `os._exit`
# and so skips `atexit`; closing twice is harmless.
with contextlib.suppress(AttributeError, RuntimeError):  # not CPython, or already exiting
    threading._register_atexit(_close_at_exit)  # type: ignore[attr-defined]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_pause_for_fork,
        after_in_parent=_resume_after_fork,
        after_in_child=_forget_after_fork,
    )
