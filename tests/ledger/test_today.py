"""What a record adds to the totals (`fold`), and today's totals in memory (`TodayTally`)."""

from __future__ import annotations

import gc
from datetime import date, datetime, timedelta, timezone

import pytest

from yjnb._hooks import emit
from yjnb.ledger import Ledger, Totals, session_totals
from yjnb.ledger._today import TodayTally, fold, spend_totals

from .helpers import T0, chat_record, task_record


def test_a_late_pending_does_not_undo_a_finished_task_in_the_session(ledger: Ledger) -> None:
    emit(task_record("ok"))
    emit(task_record("pending"))  # a retried report arriving late: the row keeps its `ok`
    assert session_totals() == Totals(1, 0, 25.0) == ledger.totals()


def test_fold_is_what_the_upsert_leaves() -> None:
    pending = fold(None, task_record("pending"))
    # No credits yet: not reported (never a 0 that was said), until `ok` brings them.
    assert (pending[0], spend_totals(pending)) == (
        date(2026, 5, 1),
        Totals(1, 0, 0.0, unreported=1),
    )
    done = fold(pending, task_record("ok", started_at=T0 + timedelta(days=3)))
    assert (done[0], spend_totals(done)) == (date(2026, 5, 1), Totals(1, 0, 25.0))  # the first day
    assert fold(done, task_record("pending")) == done  # a weaker state changes nothing
    assert (
        spend_totals(fold(done, task_record("ok", credits=None))).credits == 25.0
    )  # None: unknown
    timed_out = fold(pending, task_record("timeout"))
    assert spend_totals(fold(timed_out, task_record("ok"))).credits == 25.0  # may still finish


def test_fold_of_a_chat_counts_its_utc_day() -> None:
    east = timezone(timedelta(hours=8))
    late = fold(None, chat_record(started_at=datetime(2026, 5, 2, 7, 30, tzinfo=east)))
    assert (late[0], spend_totals(late)) == (date(2026, 5, 1), Totals(1, 36, 0.0, unreported=1))
    naive = fold(None, chat_record(started_at=datetime(2026, 5, 2, 7, 30)))
    assert naive[0] == date(2026, 5, 2)  # naive means UTC, as the ledger stores it


def test_the_tally_starts_each_utc_day_afresh() -> None:
    day1, day2 = date(2026, 5, 1), date(2026, 5, 2)
    late = datetime(2026, 5, 1, 23, 59, tzinfo=timezone.utc)
    tally = TodayTally()
    tally.synced(0, day1, Totals(5, 500, 50.0))  # the file as the writer read it
    tally.note(1, chat_record(started_at=late))
    assert tally.totals(day1) == Totals(6, 536, 50.0, unreported=1)
    assert not tally.stale(day1, max_age_s=60)
    assert tally.totals(day2) == Totals()  # past midnight: yesterday's totals are not today's
    assert tally.stale(day2, max_age_s=60)
    tally.note(2, chat_record(started_at=late + timedelta(minutes=2)))
    chat = Totals(1, 36, 0.0, unreported=1)  # a chat: its credits are not reported
    assert tally.totals(day2) == chat
    tally.synced(1, day2, Totals())  # read with record 1 written, not yet record 2
    assert tally.totals(day2) == chat
    tally.synced(2, day2, chat)  # and now with it
    assert tally.totals(day2) == chat


def test_estimates_count_only_for_calls_without_reported_credits() -> None:
    chat = fold(None, chat_record(credits_estimate=0.25))
    assert spend_totals(chat) == Totals(1, 36, 0.0, unreported=1, estimated=0.25)
    pending = fold(None, task_record("pending"))
    done = fold(pending, task_record("ok", credits=3.0))
    assert spend_totals(done) == Totals(1, 0, 3.0)  # reported: no longer "not reported"
    guessed = fold(pending, task_record("ok", credits=None, credits_estimate=1.5))
    assert spend_totals(guessed) == Totals(1, 0, 0.0, unreported=1, estimated=1.5)


def test_partial_syncs_leave_exactly_the_unsynced_records() -> None:
    """Each read of the file drops the records it includes; credits carry no float residue."""
    today = date(2026, 5, 1)
    tally = TodayTally()
    for seq in range(1, 11):
        tally.note(seq, chat_record(started_at=T0, credits=0.1, total_tokens=1))
    file_totals = Totals()
    for written in (3, 7, 10):  # the writer reads after each of three batches
        file_totals = Totals(written, written, 0.1 * written)
        tally.synced(written, today, file_totals)
        unsynced = 10 - written
        assert tally.totals(today).calls == 10 and tally.totals(today).tokens == 10
        assert tally.totals(today).credits == pytest.approx(1.0)
        assert tally.totals(today) - file_totals == Totals(
            unsynced, unsynced, tally.totals(today).credits - file_totals.credits
        )
    assert tally.totals(today) == file_totals  # all read: exactly the file's, nothing left over


def test_session_totals_count_every_chat_past_the_point_where_they_are_summed(
    ledger: Ledger,
) -> None:
    """The session's chats are kept as deltas and summed now and then (`_SUM_AT`): the
    totals are exact across that point, and what is kept stays bounded."""
    import yjnb.ledger as ledger_module

    n = ledger_module._SUM_AT * 2 + 3
    for i in range(n):
        emit(chat_record(credits=0.5, total_tokens=i % 7, prompt=f"p{i}"))
    emit(chat_record(credits=None, credits_estimate=0.25, total_tokens=1, demo=True))
    assert 0 < len(ledger_module._state.chat_deltas[False]) < ledger_module._SUM_AT
    expected = Totals(n, sum(i % 7 for i in range(n)), 0.5 * n)
    assert session_totals() == expected == ledger.totals()
    assert session_totals() == expected  # read twice: what the first read added up stays
    assert session_totals(demo=True) == Totals(1, 1, 0.0, unreported=1, estimated=0.25)


def test_a_task_spend_is_plain_values_the_gc_stops_tracking() -> None:
    """The sink keeps two `Spend`s per task (the session's and today's): plain tuples, which
    the cyclic GC stops tracking once it has seen them, so thousands of tasks do not make its
    passes longer."""
    spend = fold(fold(None, task_record("pending")), task_record("ok", credits=3.0))
    gc.collect()  # untracks the inner tuple of numbers,
    gc.collect()  # and then the tuple holding it
    assert not gc.is_tracked(spend) and spend_totals(spend) == Totals(1, 0, 3.0)


def test_a_read_takes_off_every_record_of_its_batch() -> None:
    """`Ledger.record_many` notes its records under one number: a read that includes the
    number includes them all, and one that does not leaves them all."""
    today = date(2026, 5, 1)
    tally = TodayTally()
    tally.note(1, chat_record(started_at=T0, credits=1.0))
    for _ in range(3):
        tally.note(2, chat_record(started_at=T0, credits=1.0))
    tally.synced(1, today, Totals(1, 36, 1.0))
    assert tally.totals(today) == Totals(4, 4 * 36, 4.0)
    tally.synced(2, today, Totals(4, 4 * 36, 4.0))
    assert tally.totals(today) == Totals(4, 4 * 36, 4.0) and not tally._unsynced
