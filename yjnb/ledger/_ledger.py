"""The `Ledger` class: one ledger file, written through `record()`, read as dicts or pandas."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from .._types import UsageRecord
from ._dialect import is_url, safe_url
from ._schema import record_row, who
from ._store import Store, Totals, parse_since
from ._team import TeamStore
from ._writer import Writer

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FILENAME", "Ledger", "Names", "Since", "home"]

FILENAME = "ledger.sqlite"

Since: TypeAlias = str | date | datetime | timedelta | None
Names: TypeAlias = str | Sequence[str] | None


class Ledger:
    """One ledger. `Ledger()` is the file under `YJ_HOME`; `Ledger("postgresql://...")` a shared
    one on a PostgreSQL server; the connection opens on first use.

    Writing goes through `record()` (the sink does this for you); reading through `frame()`
    (pandas), `summary()`, `export()`, `tasks()`, `totals()`. The process default
    (`default_ledger()`) writes through its writer thread and every read flushes it first.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        # A `postgresql://` URL: a shared ledger (`_team`), queuing in the local file if down.
        self.url = str(path) if is_url(path) else None
        local = None if path is None or self.url else path
        self.path = Path(local) if local is not None else home() / FILENAME
        self._store = self._new_store()
        # The default ledger's queue and thread (`default_ledger()`); None: writes are direct.
        self._writer: Writer | None = None

    def _new_store(self) -> Store:
        """A connection of its own to this ledger (the writer thread has one)."""
        return TeamStore(self.url, self.path) if self.url else Store(self.path)

    def __repr__(self) -> str:
        return f"Ledger({self.where!r})"

    @property
    def where(self) -> str:
        """The file, or the shared ledger's URL without its password (for messages)."""
        return safe_url(self.url) if self.url else str(self.path)

    @property
    def shared(self) -> bool:
        """Whether this is a shared (PostgreSQL) ledger."""
        return self.url is not None

    def __len__(self) -> int:
        self.flush()
        return self._store.count()

    def flush(self) -> None:
        """Wait until every record queued for this ledger is in the file. Only the default
        ledger queues (its writer thread); for any other, writes are direct and this is a no-op."""
        if self._writer is not None:
            self._writer.flush()

    # -- writing ----------------------------------------------------------------------------

    def record(
        self, record: UsageRecord, *, prompts: bool = True, notebook: str | None = None
    ) -> None:
        """Write one record: a chat as a new row, a task inserted or updated by its task id.
        Returns once it is written (on the default ledger, by its writer thread)."""
        self.record_many([record], prompts=prompts, notebook=notebook)

    def record_many(
        self, records: Sequence[UsageRecord], *, prompts: bool = True, notebook: str | None = None
    ) -> None:
        """Write several records in one transaction (imports, benchmarks), raising on failure."""
        if self._writer is not None:
            self._writer.submit(list(records), prompts=prompts, notebook=notebook, wait=True)
        else:
            identity = who()
            self._store.write(
                record_row(r, prompts=prompts, notebook=notebook, identity=identity)
                for r in records
            )

    def _queue(self, record: UsageRecord, *, prompts: bool, notebook: str | None) -> None:
        """The sink's write: queued for the writer thread, which logs a failure; never waits."""
        if self._writer is not None:
            self._writer.queue(record, prompts=prompts, notebook=notebook)
        else:
            self._store.write([record_row(record, prompts=prompts, notebook=notebook)])

    def set_local_path(self, taskid: str, path: str | os.PathLike[str]) -> bool:
        """Note where a task's media were saved. False if the task is not in this ledger.
        On the default ledger the writer thread does it, after the task's queued records."""
        where = os.fspath(path)
        if self._writer is not None:
            return self._writer.call(lambda store: store.set_local_path(taskid, where))
        return self._store.set_local_path(taskid, where)

    def forget(self, taskid: str) -> bool:
        """Hide one task from `tasks(forgotten=False)` and `pending_tasks()` (so from
        `%yj_tasks` and `--resume`). The row stays, with its credits: nothing paid for is
        deleted. False if the ledger has no such task (or it was forgotten already)."""
        return self._forget([str(taskid)], None) > 0

    def forget_lost(self) -> int:
        """Forget every task marked `lost`; returns how many were newly forgotten."""
        return self._forget(None, "lost")

    def _forget(self, taskids: list[str] | None, status: str | None) -> int:
        if self._writer is not None:  # after what is queued: a `lost` on its way counts
            return self._writer.call(lambda store: store.forget(taskids, status=status))
        return self._store.forget(taskids, status=status)

    # -- reading without pandas -------------------------------------------------------------

    def tasks(
        self,
        statuses: Sequence[str] | None = None,
        limit: int | None = None,
        *,
        forgotten: bool = True,
        everyone: bool = False,
    ) -> list[dict[str, Any]]:
        """Media tasks, newest first, as plain dicts (times aware, params/usage_raw decoded);
        `forgotten=False` leaves out those `forget` hid. On a shared ledger, this user's tasks
        only (`%yj_tasks`, `--resume`: a teammate's tasks are theirs to follow, with their
        key) unless `everyone`."""
        self.flush()
        user = who()[0] if self.shared and not everyone else None
        return self._store.dicts(
            statuses=statuses,
            tasks_only=True,
            forgotten=forgotten,
            newest_first=True,
            limit=limit,
            user=user,
        )

    def pending_tasks(self, *, include_timeout: bool = False) -> list[dict[str, Any]]:
        """Tasks still `pending` or `running` (and, if asked, those whose wait timed out: the
        platform may still finish them), newest first: what `%yj_tasks --resume` picks up.
        Forgotten tasks are left out; `lost` ones are never unfinished."""
        statuses = ["pending", "running"] + (["timeout"] if include_timeout else [])
        return self.tasks(statuses, forgotten=False)

    def rows(
        self,
        since: Since = None,
        kind: Names = None,
        model: Names = None,
        *,
        demo: bool | None = False,
    ) -> list[dict[str, Any]]:
        """Every row matching the filters, oldest first, as plain dicts. `demo`: real calls
        only (False, the default), demo calls only (True), or both (None)."""
        self.flush()
        return self._store.dicts(since=parse_since(since), kind=kind, model=model, demo=demo)

    def totals(self, since: Since = None, *, demo: bool = False) -> Totals:
        """Calls, tokens and credits of real calls (demo ones with `demo=True`) since a moment
        (all rows if None)."""
        self.flush()
        return self._store.totals(parse_since(since), demo=demo)

    def schema_version(self) -> int:
        self.flush()
        return self._store.schema_version()

    # -- reading with pandas ----------------------------------------------------------------

    def frame(
        self,
        since: Since = None,
        kind: Names = None,
        model: Names = None,
        *,
        demo: bool | None = False,
    ) -> pd.DataFrame:
        """The rows as a DataFrame, newest last: UTC datetimes, `Int64` token counts, floats.

        `since`: a date ("2026-05-01"), ISO time, datetime (naive = UTC), timedelta or "today".
        `kind` / `model`: one name or several. `params` and `usage_raw` stay JSON text.
        `demo`: real calls only (False, the default), demo calls only (True), or both (None);
        the `demo` column says which each row is.
        """
        from ._frame import arrow_text, to_frame

        self.flush()
        # Loading makes millions of small objects (~30 per row), none of them cyclic: without
        # pausing the cyclic GC, its repeated full passes cost a third of the load time. The
        # rows go before it resumes, or its first pass would walk all of them.
        with _gc_paused():
            columns, rows = self._store.select(
                since=parse_since(since), kind=kind, model=model, demo=demo, raw_text=arrow_text()
            )
            frame = to_frame(columns, rows)
            del rows
        return frame

    def summary(
        self,
        by: str = "model",
        since: Since = None,
        *,
        demo: bool | None = False,
        profile: str | None = None,
    ) -> pd.DataFrame:
        """Calls, tokens, credits, failures and mean latency per model, kind, day or profile
        (of real calls unless `demo` says otherwise, as in `frame()`; of one profile's calls
        with `profile`). Grouped by the database: no row is loaded.

        `credits` is NaN for a group where the platform reported none (chat on Yuanjing);
        `credits_estimate` sums the price table's estimates of the calls without credits.
        Days are UTC days, oldest first; other groups are ordered by credits, then calls."""
        from ._summary import Filters, summary

        self.flush()
        return summary(
            self._store, by, Filters(since=parse_since(since), demo=demo, profile=profile)
        )

    def timeline(
        self, since: Since = None, *, demo: bool | None = False, profile: str | None = None
    ) -> pd.DataFrame:
        """Credits, estimated credits and tokens per UTC hour (every call within two days)
        or day, for `%yj_usage --plot`; filters as in `summary()`. Grouped by the database."""
        from ._summary import Filters, timeline

        self.flush()
        return timeline(self._store, Filters(since=parse_since(since), demo=demo, profile=profile))

    def export(
        self,
        path: str | os.PathLike[str],
        *,
        since: Since = None,
        kind: Names = None,
        model: Names = None,
        demo: bool | None = False,
    ) -> Path:
        """Write the rows to `.csv` or `.parquet` (Parquet needs pyarrow). Returns the path.
        `demo` as in `frame()`."""
        from ._frame import export

        return export(self.frame(since=since, kind=kind, model=model, demo=demo), Path(path))

    def close(self) -> None:
        """Write what is queued, stop the writer thread (if any) and close the file."""
        if self._writer is not None:
            self._writer.close()
        self._store.close()

    def _today_totals(self, *, fresh: bool, demo: bool = False) -> Totals:
        if self._writer is None:  # not the default ledger: no tally, read the file
            return self.totals("today", demo=demo)
        return self._writer.today(fresh=fresh, demo=demo)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def home() -> Path:
    """YJ_HOME as the settings resolve it (env, .env), falling back to the bare variable."""
    from .._config import load_settings
    from .._errors import ConfigError

    try:
        return load_settings().home
    except ConfigError:  # a bad profile must not stop the ledger from recording
        return Path(os.environ.get("YJ_HOME") or "~/.yjnb").expanduser()
