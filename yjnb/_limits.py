"""`Limits`: how much of an answer, and how much time, a call may take (DESIGN.md, "Everything
is bounded"). Passed as `AsyncClient(limits=Limits(...))` or `Client(limits=...)`.

Each limit ends the call with a one-line `YJError` that names the limit and keeps what had
arrived: `MalformedResponse` (an answer over `max_body_bytes`), `APIConnectionError` (no
complete answer within `deadline_s`) and `StreamInterrupted` for streams (an event over
`max_event_bytes`, an answer over `max_answer_chars`, a stall or the total deadline), with
the partial text.

The defaults are far above what a real answer needs and far below what hurts a kernel:
64 MiB holds an images answer with several base64 PNGs; 4 million characters is several
times the longest answer a model writes; 600 s is the openai SDK's default timeout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ._errors import ConfigError

__all__ = ["Limits"]

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The bounds of every call. All are positive numbers; none can be switched off."""

    # A JSON answer, counted after decompression (a gzip bomb stops here, not in memory).
    max_body_bytes: int = 64 * MiB
    # One server-sent event (a line that never ends, or an event that never does).
    max_event_bytes: int = 16 * MiB
    # A streamed answer's text and reasoning together.
    max_answer_chars: int = 4_000_000
    # A call that does not stream, from sending to its whole answer (retries included); for
    # a stream, from sending to the start of its answer.
    deadline_s: float = 600.0
    # A stream with no event while waiting for one (the read timeout misses slow drips).
    stream_stall_s: float = 120.0
    # A stream from its request to its last event.
    stream_total_s: float = 1800.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or value <= 0:
                raise ConfigError(f"Limits.{f.name} must be a positive number, got {value!r}")
