"""Many rows in a few statements, not one statement per row: PostgreSQL's and SQLite's.

A batch of the writer thread's rows (a fan-out's chats, a flood of calls, the outbox sent
after an outage) is sent as one array per column and unpacked by the server (`unnest`, which
keeps the rows' order): one INSERT ... SELECT for the whole batch, with the task upsert's
ON CONFLICT clause, instead of a statement per run of same-shaped rows and one per task state
(4,000 rows/s, most of it psycopg's own work per statement).

A statement may not update the same row twice (PostgreSQL refuses "ON CONFLICT DO UPDATE
command cannot affect row a second time"), so a task reported twice in a batch (pending,
then ok) goes in two statements: the k-th state of each task in the batch in statement k,
each statement in the batch's order. A task's states are applied in the order they came, as
the upsert needs; chats all go in the first statement. A column left NULL is what the
single-row statements' omitted column was (its default is NULL; `demo` always has a value).

SQLite gets the same parts, each as multi-row UPSERTs in the batch's order (a chat, its
`taskid` NULL, never conflicts), naming the columns any row of the part has a value for.
Runs of rows of one shape (which columns have a value) gave a statement every few rows
wherever chats and task states alternate: a third of the writer's time, and each statement
hands the GIL back and forth with the recording thread. The NULLs a part's union of columns
binds cost a few percent.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Sequence
from typing import Any

from ._dialect import Database
from ._schema import (
    MAX_PARAMETERS,
    MIGRATIONS,
    ON_CONFLICT_PG,
    WRITTEN,
    insert_statement,
    quoted,
    statements,
)

__all__ = ["bulk_insert", "column_types", "generations", "shape", "sqlite_insert"]

_PG_TYPE = {"TEXT": "text", "INTEGER": "integer", "REAL": "double precision"}
_COLUMN = re.compile(r'^\s*("?\w+"?)\s+(TEXT|INTEGER|REAL)\b')
_ADDED = re.compile(r'^ALTER TABLE calls ADD COLUMN\s+("?\w+"?\s+\w+)')
_TASKID_AT = WRITTEN.index("taskid")


def column_types() -> dict[str, str]:
    """Each column of `calls` and its PostgreSQL type, as the migrations made it."""
    types: dict[str, str] = {}
    for _, script in MIGRATIONS:
        for statement in statements(script):
            lines: list[str] = []
            if statement.startswith("CREATE TABLE calls"):
                lines = statement.splitlines()[1:]
            elif added := _ADDED.match(statement):
                lines = [added.group(1)]
            for line in lines:
                if match := _COLUMN.match(line):
                    types[match.group(1).strip('"')] = _PG_TYPE[match.group(2)]
    return types


def _statement() -> str:
    types = column_types()
    # %b: psycopg's binary arrays, a fifth of the cost of its text ones (which escape each
    # value in Python). PostgreSQL only: `PostgresDatabase` leaves them as they are.
    arrays = ", ".join(f"%b::{types[c]}[]" for c in WRITTEN)
    return (
        f"INSERT INTO calls ({quoted(WRITTEN)}) SELECT {quoted(WRITTEN)} "
        f"FROM unnest({arrays}) WITH ORDINALITY AS t({quoted(WRITTEN)}, n) ORDER BY n"
        + ON_CONFLICT_PG
    )


BULK_INSERT = _statement()
# An array holds one type: a REAL column's whole numbers (credits=3) are sent as floats.
_REAL_AT = frozenset(i for i, c in enumerate(WRITTEN) if column_types()[c] == "double precision")


def generations(rows: Sequence[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
    """The rows split so that no task is in a part twice: a task's k-th row in part k."""
    parts: list[list[tuple[Any, ...]]] = [[]]
    seen: dict[str, int] = {}
    for row in rows:
        taskid = row[_TASKID_AT]
        part = 0
        if taskid is not None:
            part = seen[taskid] = seen.get(taskid, -1) + 1
            if part == len(parts):
                parts.append([])
        parts[part].append(row)
    return parts


def bulk_insert(db: Database, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert chat rows and upsert task rows (whole `WRITTEN` rows), in a statement per
    `generations` part. Inside the caller's transaction."""
    for part in generations(rows):
        if part:
            columns = [list(column) for column in zip(*part, strict=True)]
            for at in _REAL_AT:
                columns[at] = [None if v is None else float(v) for v in columns[at]]
            db.execute(BULK_INSERT, columns)


_NONES = (None,) * len(WRITTEN)


def shape(row: tuple[Any, ...]) -> tuple[tuple[bool, ...], bool]:
    """Which of a row's columns have a value, and whether it is a task's (an upsert): a lone
    row's statement names only those."""
    return tuple(map(operator.is_not, row, _NONES)), row[_TASKID_AT] is not None


def sqlite_insert(db: Database, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert chat rows and upsert task rows (whole `WRITTEN` rows) into SQLite, in order:
    per `generations` part, multi-row statements naming the columns some row of the part has
    a value for (see `insert_statement`). Inside the caller's transaction."""
    for part in generations(rows):
        # Transposed in C (cheaper than row by row), a column at a time, to find those with
        # a value; the values are then taken row by row through iterators: no second tuple
        # per row is kept alive (fewer passes of the cyclic GC in a flood of calls).
        columns = zip(*part, strict=True)
        present = tuple(column.count(None) != len(part) for column in columns)
        upsert = present[_TASKID_AT]
        per = MAX_PARAMETERS // sum(present)
        for start in range(0, len(part), per):
            chunk = part[start : start + per]
            values = map(itertools.compress, chunk, itertools.repeat(present))
            flat = tuple(itertools.chain.from_iterable(values))
            db.execute(insert_statement(present, upsert, len(chunk)), flat)
