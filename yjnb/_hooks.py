"""The usage hook: every chat call and media task is reported to registered sinks.

The ledger subscribes here; so can users (`yjnb.add_usage_sink(print)`). A sink that raises
is logged and skipped: a broken sink must never cost the user the answer they paid for.

The default sinks (the usage ledger) are installed on the first record rather than at import,
so `import yjnb` stays cheap and the core never imports the ledger until there is something to
record. `YJ_LEDGER=0` turns the ledger off; `yjnb.ledger.uninstall()` unsubscribes it.
"""

from __future__ import annotations

import contextvars
import importlib
import logging
import threading
from collections.abc import Callable

from ._types import UsageRecord

__all__ = ["UsageSink", "add_usage_sink", "current_experiment", "emit", "remove_usage_sink"]

UsageSink = Callable[[UsageRecord], None]

logger = logging.getLogger("yjnb")
# Replaced, never changed in place: `emit` reads it without the lock (once per call).
_sinks: tuple[UsageSink, ...] = ()
_lock = threading.Lock()
# "module:function" called once, on the first record, to subscribe the default sinks.
DEFAULT_SINKS: tuple[str, ...] = ("yjnb.ledger:install",)
_defaults_installed = False
# (experiment name, run id) of the experiment whose calls run in this context: their records
# carry them, so the ledger can group spend by experiment.
current_experiment: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "yjnb_current_experiment", default=None
)


def add_usage_sink(sink: UsageSink) -> UsageSink:
    """Register `sink` to receive every `UsageRecord`. Returns it, so it works as a decorator."""
    global _sinks
    with _lock:
        if sink not in _sinks:
            _sinks = (*_sinks, sink)
    return sink


def remove_usage_sink(sink: UsageSink) -> None:
    global _sinks
    with _lock:
        if sink in _sinks:
            at = _sinks.index(sink)
            _sinks = _sinks[:at] + _sinks[at + 1 :]


def _install_default_sinks() -> None:
    global _defaults_installed
    with _lock:
        if _defaults_installed:
            return
        _defaults_installed = True
    for spec in DEFAULT_SINKS:
        module, _, function = spec.partition(":")
        try:
            getattr(importlib.import_module(module), function)()
        except Exception:
            logger.exception("could not install the default usage sink %s", spec)


def emit(record: UsageRecord) -> None:
    tag = current_experiment.get()
    if tag is not None and record.experiment is None:
        # Tagged in place (each call makes its own record): a copy per call cost more.
        record.experiment, record.run_id = tag
    if not _defaults_installed:
        _install_default_sinks()
    for sink in _sinks:
        try:
            sink(record)
        except Exception:
            logger.exception("usage sink %r failed", sink)
