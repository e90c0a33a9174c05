"""The usage hook: every chat call and media task is reported to registered sinks.

The ledger subscribes here; so can users (`yjnb.add_usage_sink(print)`). A sink that raises
is logged and skipped: a broken sink must never cost the user the answer they paid for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ._types import UsageRecord

__all__ = ["UsageSink", "add_usage_sink", "emit", "remove_usage_sink"]

UsageSink = Callable[[UsageRecord], None]

logger = logging.getLogger("yjnb")
_sinks: list[UsageSink] = []
_lock = threading.Lock()


def add_usage_sink(sink: UsageSink) -> UsageSink:
    """Register `sink` to receive every `UsageRecord`. Returns it, so it works as a decorator."""
    with _lock:
        if sink not in _sinks:
            _sinks.append(sink)
    return sink


def remove_usage_sink(sink: UsageSink) -> None:
    with _lock:
        if sink in _sinks:
            _sinks.remove(sink)


def emit(record: UsageRecord) -> None:
    with _lock:
        sinks = list(_sinks)
    for sink in sinks:
        try:
            sink(record)
        except Exception:
            logger.exception("usage sink %r failed", sink)
