"""What the ledger's writer thread takes from its queue: records to write, and the rest.

The sink queues bare `UsageRecord`s (with `Settings` before them when how they are stored
changes); `Ledger.record_many` queues a `Write` it waits for; reads queue a `Call`; `SYNC`
asks for a re-read of today's totals and `STOP` ends the thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from .._types import UsageRecord
from ._identity import who
from ._schema import record_row
from ._store import Store

__all__ = ["STOP", "SYNC", "Call", "Settings", "Write", "nobody_waits", "rows"]


@dataclass
class Write:
    """Records to write in one go (`Ledger.record_many` queues several), and who waits."""

    seq: int
    records: Sequence[UsageRecord]
    prompts: bool
    notebook: str | None
    done: Future[None] | None  # None: nobody waits (the sink); a failure is logged instead


@dataclass(frozen=True)
class Settings:
    """How the records queued after this are stored (the sink queues bare records)."""

    prompts: bool
    notebook: str | None

    def astuple(self) -> tuple[bool, str | None]:
        return self.prompts, self.notebook


@dataclass
class Call:
    """Something to run on the writer thread after everything queued before it."""

    fn: Callable[[Store], Any]
    done: Future[Any]


SYNC = object()  # re-read today's totals
STOP = object()  # write what is queued before this, then end the thread


def nobody_waits(item: object) -> bool:
    return isinstance(item, UsageRecord) or (isinstance(item, Write) and item.done is None)


def rows(w: Write, identity: tuple[str, str] | None = None) -> list[tuple[Any, ...]]:
    identity = identity or who()
    return [
        record_row(r, prompts=w.prompts, notebook=w.notebook, identity=identity) for r in w.records
    ]
