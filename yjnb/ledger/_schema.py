"""The ledger's schema: the columns, and how a record becomes a row (SQL both dialects run).

The ordered migrations and their history are in `_migrations.py` (re-exported here), written
in SQLite's dialect; `_dialect.pg_ddl` maps the two types that differ (`INTEGER PRIMARY KEY`,
`REAL`) for PostgreSQL. Column names are double-quoted in the SQL built here: `user` is a
reserved word in PostgreSQL.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from .._types import UsageRecord
from ._identity import who
from ._migrations import MIGRATIONS, SCHEMA_VERSION

__all__ = [
    "COLUMNS",
    "INSERT",
    "JSON_COLUMNS",
    "MAX_PARAMETERS",
    "MIGRATIONS",
    "ON_CONFLICT_PG",
    "SCHEMA_VERSION",
    "TIME_COLUMNS",
    "UPSERT",
    "UPSERT_PG",
    "WRITTEN",
    "insert_statement",
    "iso",
    "quoted",
    "record_row",
    "statements",
    "who",
]


COLUMNS: tuple[str, ...] = (
    "id",
    "started_at",
    "finished_at",
    "kind",
    "profile",
    "model",
    "catelog",
    "status",
    "taskid",
    "usage_id",
    "prompt",
    "params",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "total_tokens",
    "credits",
    "credits_estimate",
    "media_seconds",
    "resolution",
    "latency_s",
    "ttft_s",
    "error",
    "video_url",
    "image_url",
    "local_path",
    "notebook",
    "demo",
    "usage_raw",
    "partial_text",
    "forgotten_at",
    "experiment",
    "run_id",
    "user",
    "host",
)
# `id` is the database's; `forgotten_at` is set by `Store.forget` only, never by a record.
WRITTEN = tuple(c for c in COLUMNS if c not in ("id", "forgotten_at"))
JSON_COLUMNS = ("params", "usage_raw")
TIME_COLUMNS = ("started_at", "finished_at", "forgotten_at")
# Parameters that carry prompt text: dropped with the prompt when prompts are not stored.
_PROMPT_PARAMS = frozenset({"system", "sys_prompt", "negative_prompt", "prompt", "messages"})

# A task's states, weakest first. An update never moves a row to a weaker state, so a late
# `pending` cannot undo `ok`, while a `timeout` (the task may still finish) can become `ok`.
_RANK = "CASE {} WHEN 'pending' THEN 0 WHEN 'running' THEN 0 WHEN 'timeout' THEN 1 ELSE 2 END"
# Fields a later state of the same task fills in; NULL (unknown) never erases what was known.
_FILLED = (
    "finished_at",
    "usage_id",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "total_tokens",
    "credits",
    "credits_estimate",
    "media_seconds",
    "resolution",
    "ttft_s",
    "video_url",
    "image_url",
    "local_path",
    "usage_raw",
    "catelog",
    "prompt",
    "notebook",
)


def quoted(columns: tuple[str, ...] | list[str]) -> str:
    """Column names for SQL, each double-quoted (`user` is reserved in PostgreSQL)."""
    return ", ".join(f'"{c}"' for c in columns)


INSERT = f"INSERT INTO calls ({quoted(WRITTEN)}) VALUES ({', '.join('?' * len(WRITTEN))})"
# A resumed task (`client.wait(taskid)` in a new kernel) knows neither its model nor its kind,
# prompt or start: the first row's values are kept, and the latency is measured from its start.
# The seconds from the row's start to this state's finish, in each dialect.
_SECONDS_SQLITE = "(julianday(excluded.finished_at) - julianday(calls.started_at)) * 86400.0"
_SECONDS_PG = (
    "EXTRACT(EPOCH FROM (excluded.finished_at::timestamptz - calls.started_at::timestamptz))"
)


def _on_conflict(seconds: str) -> str:
    return (
        " ON CONFLICT (taskid) WHERE taskid IS NOT NULL DO UPDATE SET "
        + "status = excluded.status, "
        + "error = excluded.error, "
        + "model = CASE WHEN excluded.model <> '' THEN excluded.model ELSE calls.model END, "
        + "params = CASE WHEN calls.params IS NULL OR calls.params = '{}' "
        + "THEN excluded.params ELSE calls.params END, "
        + f"latency_s = CASE WHEN excluded.finished_at IS NOT NULL THEN {seconds} "
        + "ELSE COALESCE(excluded.latency_s, calls.latency_s) END, "
        + ", ".join(f"{c} = COALESCE(excluded.{c}, calls.{c})" for c in _FILLED)
        + f" WHERE {_RANK.format('excluded.status')} >= {_RANK.format('calls.status')}"
    )


_ON_CONFLICT = _on_conflict(_SECONDS_SQLITE)
ON_CONFLICT_PG = _on_conflict(_SECONDS_PG)
UPSERT = INSERT + _ON_CONFLICT
UPSERT_PG = INSERT + ON_CONFLICT_PG


# Statement parameters at most: SQLite's limit before 3.32 (later ones allow 32,766).
MAX_PARAMETERS = 999


@functools.lru_cache(maxsize=512)
def insert_statement(
    present: tuple[bool, ...], upsert: bool, rows: int = 1, postgres: bool = False
) -> str:
    """The INSERT (a task's: the UPSERT) naming only the `WRITTEN` columns marked `present`,
    for `rows` rows at once, in SQLite's SQL or, with `postgres`, PostgreSQL's (the UPSERT's
    time arithmetic differs). PostgreSQL's UPSERT takes one row (proposing one task twice in
    a statement is an error there; `_bulk` sends its batches as arrays); SQLite applies a
    multi-row UPSERT's rows in order, and `_bulk` never puts a task twice in one.

    The writer leaves out the columns a row has no value for: binding a NULL costs Python's
    sqlite3 an adapter lookup, so a chat's dozen empty columns were half of its insert. A
    column left out takes its default, which is NULL for every column a record may leave
    empty (`demo`, the one with another default, always has a value); in the UPSERT,
    `excluded.column` is that NULL as before. Several rows per statement: one step of the
    statement per run of rows instead of one per row (each step releases and takes back the
    GIL, which the recording thread holds while a flood of calls comes in)."""
    if upsert and postgres and rows != 1:
        raise ValueError("a PostgreSQL UPSERT takes one row at a time")
    columns = list(itertools.compress(WRITTEN, present))
    one = f"({', '.join('?' * len(columns))})"
    sql = f"INSERT INTO calls ({quoted(columns)}) VALUES {', '.join([one] * rows)}"
    if not upsert:
        return sql
    return sql + (ON_CONFLICT_PG if postgres else _ON_CONFLICT)


def iso(moment: datetime | None) -> str | None:
    """A fixed-width UTC ISO string, so that text order is time order in SQL."""
    if moment is None:
        return None
    if moment.tzinfo is not timezone.utc:  # the core's times are in UTC already
        if moment.tzinfo is None:  # the core makes aware datetimes; a naive one is taken as UTC
            moment = moment.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(timezone.utc)
    # What `isoformat(timespec="microseconds")` gives, in half the instructions of any
    # formatting of all seven fields (the writer formats two per record): the day's part is
    # made once per day, the rest pieced together from ready-made strings.
    m = moment
    day = _DAYS.get(m.toordinal())
    if day is None:
        if len(_DAYS) >= _DAYS_MAX:  # bounded, for a process that records many days' times
            _DAYS.clear()
        day = _DAYS[m.toordinal()] = f"{m.year:04d}-{m.month:02d}-{m.day:02d}T"
    # 1,000,000 + microseconds: seven digits, whose last six are the zero-padded microseconds.
    micro = str(m.microsecond + 1000000)[1:]
    return f"{day}{_HH[m.hour]}{_HH[m.minute]}{_SS[m.second]}{micro}+00:00"


_DAYS: dict[int, str] = {}  # "YYYY-MM-DDT" by the day's ordinal
_DAYS_MAX = 1024
_HH = tuple(f"{i:02d}:" for i in range(60))  # hours and minutes, with their colon
_SS = tuple(f"{i:02d}." for i in range(60))  # seconds (never 60 in a datetime), with the dot


def _json_encoder() -> Callable[[Any], str]:
    """`json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)`, three times faster.

    `JSONEncoder.encode` makes a new C encoder on every call (with a dict for spotting
    cycles), which was most of its cost: the writer encodes two small values per record.
    This makes the C encoder once, as `JSONEncoder.iterencode` does, without the cycle check
    (a value holding itself fails with a RecursionError, which the writer logs for that
    record). Where there is no C encoder, or it takes other arguments, the plain one."""
    plain = json.JSONEncoder(ensure_ascii=False, default=str, sort_keys=True).encode
    make: Any = getattr(json.encoder, "c_make_encoder", None)
    sample = {"b": [1.5, None, float("inf")], "a": "é\n"}
    try:
        # The arguments of `JSONEncoder.iterencode`'s call, for the options above.
        encode_once = make(
            None, str, json.encoder.encode_basestring, None, ": ", ", ", True, False, True
        )
        if "".join(encode_once(sample, 0)) != plain(sample):
            return plain
    except Exception:  # not CPython's C encoder, or it takes other arguments
        return plain

    def encode(value: Any) -> str:
        if isinstance(value, str):  # the C encoder takes containers and numbers
            return plain(value)
        return "".join(encode_once(value, 0))

    return encode


_encode = _json_encoder()


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return _encode(value)


def record_row(
    record: UsageRecord,
    *,
    prompts: bool = True,
    notebook: str | None = None,
    identity: tuple[str, str] | None = None,
) -> tuple[Any, ...]:
    """The values of `WRITTEN` for one record, in its order (`tests/ledger` checks each
    column by name). Without `prompts`, no prompt text is kept. `identity`: `who()`, looked
    up once for a batch (two environment reads a row).

    A tuple, not a dict by column name: the writer makes one per record."""
    r = record
    params = r.params or {}
    if not prompts:
        params = {k: v for k, v in params.items() if k not in _PROMPT_PARAMS}
    user, host = identity or who()
    return (
        iso(r.started_at), iso(r.finished_at), r.kind, r.profile, r.model, r.catelog, r.status,
        r.taskid or None, r.usage_id, r.prompt if prompts else None, _json(params),
        r.prompt_tokens, r.completion_tokens, r.cached_tokens, r.total_tokens,
        r.credits, r.credits_estimate, r.media_seconds, r.resolution, r.latency_s, r.ttft_s,
        r.error, r.video_url, r.image_url, r.local_path, notebook, 1 if r.demo else 0,
        _json(r.usage_raw), r.partial_text if prompts else None, r.experiment, r.run_id,
        user, host,
    )  # fmt: skip


def statements(script: str) -> list[str]:
    """Split a migration script into statements (they hold no string literals with ';')."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
