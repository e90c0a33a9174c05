"""The default ledger's writer thread: usage records reach SQLite off the recording thread.

The core reports each call on the runner's event loop. A SQLite write there (a commit, or a
busy wait of up to a minute behind another kernel's write) would stall every call in flight,
so the sink only queues the record, and one daemon thread per default ledger writes the queue
in order, a run of records in one transaction. Records of one task are applied in the order
they were queued, so the upsert by task id sees them as before.

Reads of the default ledger first `flush()`: they wait until everything queued before them is
written, so code that records and then reads sees its own records. Process exit, a new
`YJ_HOME` and `_reset_default()` `close()` the writer: it writes what is queued, then stops.

After writing, at most every `RESYNC_GAP_S` and always before a flush, the thread re-reads
today's totals into the `TodayTally`s (one for real calls, one for demo calls: two worlds that
never mix), which is what the usage line shows without touching SQLite on its own thread.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import datetime, timezone
from typing import TypeVar

from .._types import UsageRecord
from ._identity import who
from ._items import STOP, SYNC, Call, Settings, Write, nobody_waits, rows
from ._store import Store, Totals
from ._today import TodayTally

__all__ = ["THREAD_NAME", "Writer"]

logger = logging.getLogger("yjnb")
T = TypeVar("T")

THREAD_NAME = "yjnb-ledger-writer"
MAX_BATCH = 1000  # queue items taken at once: bounds one transaction under a flood of records
# How long `today()` waits for the writer's first read of the file, off the event loop only:
# the first usage line of a kernel should count the day's earlier rows, not only its own.
SEED_WAIT_S = 2.0
# How old the tally may get before `today()` asks the writer to re-read the file, so that
# other kernels' spending shows up even while this one records nothing.
RESYNC_AFTER_S = 2.0
# How often at most the writer re-reads today's totals after writing (a flush, a call and
# `today()` when the tally is `RESYNC_AFTER_S` old re-read at once).
RESYNC_GAP_S = 0.5
# How long the writer waits after waking for a record, so that a burst of calls (a fan-out,
# an experiment's cells) is written in one transaction and wakes the thread once, not once per
# call. Anything someone waits for (a flush, a read, `record()`) cuts the wait short. At
# 0.02 s an experiment's 64 calls in flight made a transaction every 7 rows, and the commits
# were a tenth of its CPU per call; a SIGKILL loses at most this long's records.
LINGER_S = 0.1
# Waits are sliced so that a kernel interrupt is seen promptly (see `yjnb._runner`).
WAIT_SLICE_S = 0.2


class Writer:
    """One thread writing one ledger file through its own connection, fed by a queue."""

    def __init__(self, store: Store) -> None:
        self.tally = TodayTally()  # real calls
        self.demo_tally = TodayTally()  # demo calls (the demo emulator's)
        self._store = store
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._lock = threading.Lock()  # orders seq numbers with the queue; guards the state
        self._thread: threading.Thread | None = None  # started by the first use
        self._closed = False
        self._seq = 0  # the last record item queued
        self._written_seq = 0  # the last record item the thread has finished (writer only)
        self._taken_seq = 0  # the last record item the thread has taken (writer only)
        # The settings of the sink's bare records: as last queued, and as the thread last read.
        self._queued_settings = Settings(prompts=True, notebook=None)
        self._settings = self._queued_settings
        self._queued = 0  # items put, and items finished: their difference is the backlog
        self._finished = 0
        self._sync_asked = False
        self._seeded = threading.Event()  # set after the thread's first read of the file
        self._wanted = threading.Event()  # set when something someone waits for is queued
        # Held by the thread while it is inside SQLite, and by `pause()` around a fork: a
        # child that inherits a connection mid-transaction finds the file locked for good.
        self._busy = threading.Lock()
        self._warned = False
        self._unsynced_writes = False  # written since the last read of today's totals
        self._synced_at = float("-inf")  # time.monotonic() of that read

    @property
    def backlog(self) -> int:
        """Queue items not finished yet (records, flushes, calls)."""
        return self._queued - self._finished

    def on_writer_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    # -- the recording side ---------------------------------------------------------------

    def submit(
        self,
        records: Sequence[UsageRecord],
        *,
        prompts: bool,
        notebook: str | None,
        wait: bool = False,
    ) -> None:
        """Queue `records` and return at once, or with `wait` once they are written (raising
        what the write raised). Never blocks without `wait`: the queue has no bound."""
        done: Future[None] | None = Future() if wait else None
        item: Write | None = None
        with self._lock:
            if not self._closed:
                self._start()
                self._seq += 1
                for record in records:  # counted before the writer can read the file past it
                    self._tally(record.demo).note(self._seq, record)
                item = Write(self._seq, records, prompts, notebook, done)
                self._put(item)
        if item is None:  # closed: a record racing `close()` is written here, not dropped
            self._write_now(Write(0, records, prompts, notebook, done))
        if done is not None:
            _wait(done)

    def queue(self, record: UsageRecord, *, prompts: bool, notebook: str | None) -> None:
        """The sink's `submit`: queue one record nobody waits for and return at once.

        The record itself is queued, with a `Settings` item before it only when `prompts` or
        `notebook` changed: under a flood of calls the backlog then holds nothing but the
        records (a wrapper per record kept alive made the cyclic GC's passes a fifth of the
        work), and the writer wraps them as it takes them."""
        with self._lock:
            if not self._closed:
                if self._thread is None:
                    self._start()
                self._seq += 1
                # `_tally(record.demo)` spelled out, as `_start`'s check above: once per call.
                (self.demo_tally if record.demo else self.tally).note(self._seq, record)
                settings = self._queued_settings
                if settings.prompts != prompts or settings.notebook != notebook:
                    self._queued_settings = Settings(prompts, notebook)
                    self._put(self._queued_settings)
                # `_put` spelled out: nobody waits for a record, so there is no one to wake.
                self._queued += 1
                self._queue.put(record)
                return
        # Closed: a record racing `close()` is written here, not dropped.
        self._write_now(Write(0, (record,), prompts, notebook, None))

    def call(self, fn: Callable[[Store], T]) -> T:
        """`fn(store)` run on the writer thread after everything queued before; its result."""
        done: Future[T] = Future()
        with self._lock:
            queued = not self._closed and not self.on_writer_thread()
            if queued:
                self._start()
                self._put(Call(fn, done))
        if not queued:  # closed (everything was written), or on the thread itself
            return fn(self._store)
        return _wait(done)

    def flush(self) -> None:
        """Wait until everything queued before this call is written (or failed: logged).

        On the writer thread it returns at once (it cannot wait for itself). Elsewhere, the
        event loop included, it waits: the writer never needs the loop, so it cannot deadlock.
        """
        if self._thread is None or self.on_writer_thread():
            return
        self.call(_nothing)

    def _tally(self, demo: bool) -> TodayTally:
        return self.demo_tally if demo else self.tally

    def today(self, *, fresh: bool = False, demo: bool = False) -> Totals:
        """Today's totals of real calls (of demo calls with `demo`). From memory unless
        `fresh`: then everything queued is written and the file re-read on the writer thread
        (raising if it cannot be read)."""
        if fresh:
            return self.call(self._resync)[demo]
        with self._lock:
            running = not self._closed
            if running:
                self._start()
        if running and not self.on_writer_thread() and not _in_event_loop():
            self._seeded.wait(SEED_WAIT_S)
        today = datetime.now(timezone.utc).date()
        if self._tally(demo).stale(today, RESYNC_AFTER_S):
            self._ask_sync()
        return self._tally(demo).totals(today)

    def close(self) -> None:
        """Write everything queued, end the thread and close its connection (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._put(STOP)
        if thread is None:
            self._store.close()
        elif thread is not threading.current_thread():
            thread.join()

    def pause(self) -> None:
        """Hold the thread between batches (before `os.fork()`) until `resume()`."""
        self._busy.acquire()

    def resume(self) -> None:
        self._busy.release()

    def _start(self) -> None:
        """Start the thread on first use (under `_lock`): a ledger only looked at needs none."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
            self._thread.start()

    def _put(self, item: object) -> None:
        self._queued += 1
        self._queue.put(item)
        if not nobody_waits(item):
            self._wanted.set()  # no lingering for a burst while someone waits

    def _ask_sync(self) -> None:
        with self._lock:
            if self._sync_asked or self._closed:
                return
            self._sync_asked = True
            self._start()
            self._put(SYNC)

    # -- the writer thread ----------------------------------------------------------------

    def _run(self) -> None:
        try:
            with self._busy:
                self._sync_quietly()  # the seed: the day's rows written before this kernel
            self._seeded.set()
            keep_going = True
            while keep_going:
                batch = self._take()
                with self._busy:
                    keep_going = self._serve(batch)
        finally:
            # Normally nothing is left after the stop. Should the thread ever die, whoever
            # records from now on writes for themselves, and what is queued is written here.
            with self._lock:
                self._closed = True
            self._drain()
            self._seeded.set()
            self._store.close()

    def _drain(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            self._serve([item])

    def _take(self) -> list[object]:
        batch = [self._queue.get()]
        self._take_more(batch)
        if len(batch) == 1 and nobody_waits(batch[0]):
            # A lone record nobody waits for: let its burst come along. Not when more was
            # queued already: under a flood, a pause per batch only made the backlog longer.
            self._wanted.clear()
            self._take_more(batch)  # what was queued before the clear is taken here
            if len(batch) == 1:
                self._wanted.wait(LINGER_S)
                self._take_more(batch)
        return batch

    def _take_more(self, batch: list[object]) -> None:
        while len(batch) < MAX_BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                return

    def _serve(self, batch: list[object]) -> bool:
        """Write the batch's records (each run in one transaction), run its calls in order.
        False once the batch held the stop.

        Today's totals are re-read after a write only every `RESYNC_GAP_S` (a re-read scans
        the day's rows: after every write, a fan-out of calls cost the square of its rows),
        and always before a call or a flush runs: a flushed tally is in step with the file.
        Between re-reads the tally counts this process's records from memory."""
        writes: list[Write] = []
        items = 0  # the queue items `writes` stand for
        bare: list[UsageRecord] = []  # a run of the sink's records, numbered in queue order
        for item in [*batch, None]:  # None: the end of the batch writes the last run
            if isinstance(item, UsageRecord):
                bare.append(item)
                continue
            if bare:  # one `Write` for the run, not one per record
                self._taken_seq += len(bare)
                writes.append(Write(self._taken_seq, bare, *self._settings.astuple(), None))
                items += len(bare)
                bare = []
            if isinstance(item, Write):
                self._taken_seq = item.seq
                writes.append(item)
                items += 1
                continue
            if isinstance(item, Settings):  # in queue order: after the writes before it
                self._settings = item
                self._finished += 1
                continue
            if writes:
                self._write(writes)
                self._finished += items
                writes, items = [], 0
                self._unsynced_writes = True
            if item is None:
                if self._unsynced_writes and time.monotonic() - self._synced_at >= RESYNC_GAP_S:
                    self._sync_quietly()
                continue
            if isinstance(item, Call) or item is SYNC:
                if self._unsynced_writes or item is SYNC:
                    self._sync_quietly()
                if item is SYNC:
                    self._sync_asked = False
                else:
                    self._run_call(item)  # type: ignore[arg-type]
            self._finished += 1
            if item is STOP:
                return False
        return True

    def _write(self, writes: list[Write]) -> None:
        try:
            identity = who()  # once a batch, not once a row
            self._store.write(row for w in writes for row in rows(w, identity))
        except Exception:
            # One bad record must not take the rest of its transaction with it: one by one
            # (a run of the sink's records record by record).
            for w in writes:
                if w.done is None and len(w.records) > 1:
                    for record in w.records:
                        self._write_now(Write(w.seq, (record,), w.prompts, w.notebook, None))
                else:
                    self._write_now(w)
        else:
            for w in writes:
                if w.done is not None:
                    w.done.set_result(None)
        self._written_seq = writes[-1].seq

    def _write_now(self, w: Write) -> None:
        try:
            self._store.write(rows(w))
        except Exception as exc:
            self._failed(w, exc)
        else:
            if w.done is not None:
                w.done.set_result(None)

    def _failed(self, w: Write, exc: Exception) -> None:
        if w.done is not None:  # `Ledger.record()`: its caller gets the error, as before
            w.done.set_exception(exc)
            return
        # A full disk or a read-only home must not cost the user the answer; say so once.
        if not self._warned:
            self._warned = True
            logger.warning("yjnb usage ledger: could not record a call (%s)", exc)

    def _run_call(self, call: Call) -> None:
        try:
            call.done.set_result(call.fn(self._store))
        except Exception as exc:
            call.done.set_exception(exc)

    def _resync(self, store: Store) -> dict[bool, Totals]:
        """Read today's totals, real and demo (everything queued so far is written), into the
        tallies."""
        now = datetime.now(timezone.utc)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        totals = store.totals_by_world(midnight)
        for demo, tally in ((False, self.tally), (True, self.demo_tally)):
            tally.synced(self._written_seq, midnight.date(), totals[demo])
        return totals

    def _sync_quietly(self) -> None:
        self._unsynced_writes = False
        self._synced_at = time.monotonic()
        try:
            self._resync(self._store)
        except Exception:  # an unreadable file: the tally counts from memory until it reads
            logger.debug("yjnb usage ledger: could not read today's totals", exc_info=True)


def _nothing(store: Store) -> None:
    return None


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _wait(done: Future[T]) -> T:
    while True:
        try:
            return done.result(timeout=WAIT_SLICE_S)
        except TimeoutError:
            continue
