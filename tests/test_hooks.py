"""The usage hook: sinks added and removed, a failing sink skipped, a sink changing the list
while a record is handed out."""

from __future__ import annotations

import logging

import pytest

from yjnb import _hooks
from yjnb._hooks import add_usage_sink, emit, remove_usage_sink
from yjnb._types import UsageRecord


def record() -> UsageRecord:
    return UsageRecord(kind="chat", status="ok", model="qwen3-max", profile="yuanjing")


def test_sinks_get_each_record_until_removed() -> None:
    first: list[UsageRecord] = []
    second: list[UsageRecord] = []
    add_usage_sink(first.append)
    add_usage_sink(first.append)  # once only
    add_usage_sink(second.append)
    try:
        emit(one := record())
        remove_usage_sink(first.append)
        emit(two := record())
    finally:
        remove_usage_sink(first.append)
        remove_usage_sink(second.append)
    assert first == [one] and second == [one, two]
    assert first.append not in _hooks._sinks and second.append not in _hooks._sinks


def test_a_failing_sink_is_logged_and_the_others_still_get_the_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    got: list[UsageRecord] = []

    def broken(_: UsageRecord) -> None:
        raise RuntimeError("disk full")

    add_usage_sink(broken)
    add_usage_sink(got.append)
    try:
        with caplog.at_level(logging.ERROR, logger="yjnb"):
            emit(one := record())
    finally:
        remove_usage_sink(broken)
        remove_usage_sink(got.append)
    assert got == [one]
    assert "usage sink" in caplog.text and "disk full" in caplog.text


def test_a_sink_removing_itself_while_called_does_not_disturb_the_others() -> None:
    got: list[UsageRecord] = []

    def once(_: UsageRecord) -> None:
        remove_usage_sink(once)

    add_usage_sink(once)
    add_usage_sink(got.append)
    try:
        emit(one := record())
        emit(two := record())
    finally:
        remove_usage_sink(got.append)
    assert got == [one, two] and once not in _hooks._sinks
