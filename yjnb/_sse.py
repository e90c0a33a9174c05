"""An incremental Server-Sent Events decoder (WHATWG "event stream interpretation").

Bytes go in, in reads split anywhere (inside a line, between the CR and LF of a CRLF, inside a
multi-byte UTF-8 character); `ServerSentEvent`s come out. `[DONE]` is ordinary data here: the
caller decides what it means.

Speed: the common case is a chat stream of `data: {...}\\n\\n` events. The decoder works on
bytes. A read with CR is first normalised to LF (CRLF by deleting the CRs, one C call). A read
that completes no event (no blank line in it) is only appended to a list, so a large event costs
linear time. Otherwise `bytes.rfind` finds the last blank line, and if every complete event is a
single `data: ` line, the complete part is decoded from UTF-8 once and split on
"\\n\\ndata: ", one `ServerSentEvent` per part. Anything else (comments, `event:`/`id:`/`retry:`,
multi-line data, a field without the space) is parsed line by line. Lines are parsed only once
their event is complete, so no field state is pending between reads.

Choices where the spec leaves room or where a client wants more:

- `flush()` at EOF is lenient: the spec discards an event that is not followed by a blank line,
  but a server that omits the final blank line (`data: [DONE]` then EOF) still gets its last
  event dispatched, and a final line without a line end is treated as complete.
- `retry:` (ASCII digits only) is attached to the event it was sent with and kept as
  `SSEDecoder.retry`; `id:` sets the last event id, which later events carry (per the spec),
  kept as `SSEDecoder.last_event_id`. An `id:` value containing NUL is ignored.
- Invalid UTF-8 is replaced with U+FFFD, as the spec's UTF-8 decode does.
- `max_event_bytes` bounds the bytes held for an event that has not ended (one line without a
  line end, or lines without a blank line): past it, `feed` raises `EventTooLarge` rather than
  let a hostile server fill the memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["EventTooLarge", "SSEDecoder", "ServerSentEvent", "aiter_events", "iter_events"]

_BOM = b"\xef\xbb\xbf"
_LONE_CR = re.compile(rb"\r(?!\n)")


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event. `data` lines are joined with "\\n"."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None

    def __init__(
        self, data: str, event: str = "message", id: str | None = None, retry: int | None = None
    ) -> None:
        # Same result as the generated frozen __init__, which goes through object.__setattr__
        # and costs about twice as much; an event is built per streamed chunk.
        _set_data(self, data)
        _set_event(self, event)
        _set_id(self, id)
        _set_retry(self, retry)

    def json(self) -> Any:
        """`data` parsed as JSON."""
        return json.loads(self.data)


_slot = vars(ServerSentEvent)
_set_data, _set_event, _set_id, _set_retry = (
    _slot[name].__set__ for name in ("data", "event", "id", "retry")
)
del _slot


class EventTooLarge(ValueError):
    """An event grew past `max_event_bytes` without ending."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"an event passed {limit} bytes without ending")


class SSEDecoder:
    """Feed bytes with `feed()`, call `flush()` at EOF; both return the events completed."""

    __slots__ = (
        "_cr", "_data", "_event", "_head", "_id", "_max", "_pending", "_retry", "_tail", "retry",
    )  # fmt: skip

    def __init__(self, max_event_bytes: int | None = None) -> None:
        self._max = max_event_bytes
        self._tail: list[bytes] = []  # unparsed bytes from a line start; never contains CR
        self._pending = 0  # bytes in `_tail`
        self._head: bytes | None = b""  # bytes seen before deciding on the BOM; None once done
        self._cr = False  # the last read ended with CR: skip a LF that starts the next one
        self._data: list[str] = []
        self._event: str | None = None
        self._retry: int | None = None
        self._id: str | None = None
        self.retry: int | None = None  # the last reconnection time (ms) the server sent

    @property
    def last_event_id(self) -> str | None:
        return self._id

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one read; return the events it completes (often none or several)."""
        if self._head is not None:
            head = self._head + chunk
            if len(head) < 3 and _BOM.startswith(head):
                self._head = head
                return []
            self._head = None
            chunk = head[3:] if head.startswith(_BOM) else head
        if self._cr:
            self._cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if not chunk:
            return []
        if b"\r" in chunk:
            # Normalise line ends to LF: CRLF and a lone CR are each one line end. A CR that
            # ends the read may be the first half of a CRLF: skip a LF that starts the next.
            cr_end = self._cr = chunk[-1] == 13
            if _LONE_CR.search(chunk, 0, len(chunk) - cr_end) is None:
                chunk = chunk.translate(None, b"\r")  # all CRLF: deleting CRs is cheapest
                if cr_end:
                    chunk += b"\n"
            else:
                chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        tail = self._tail
        if tail:
            # Nothing completes unless this read holds a blank line (or starts one).
            if b"\n\n" not in chunk and not (chunk[0] == 10 and tail[-1][-1] == 10):
                tail.append(chunk)
                self._hold(self._pending + len(chunk))
                return []
            tail.append(chunk)
            chunk = b"".join(tail)
            self._tail = []
            self._pending = 0
        return self._lf(chunk)

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: dispatch a pending event that has data (lenient, see module doc)."""
        rest = b"".join(self._tail)
        if self._head:
            rest = self._head + rest
        out: list[ServerSentEvent] = []
        for line in rest.splitlines():
            self._line(line, out)
        self._dispatch(out)
        self._tail = []
        self._pending = 0
        self._head = b""
        self._cr = False
        self._id = None
        return out

    # -- internals ---------------------------------------------------------------------------

    def _hold(self, pending: int) -> None:
        """Count the bytes kept for an unfinished event; refuse past the limit."""
        self._pending = pending
        if self._max is not None and pending > self._max:
            self._tail = []
            self._pending = 0
            raise EventTooLarge(self._max)

    def _lf(self, buf: bytes) -> list[ServerSentEvent]:
        """LF-only bytes starting at a line start."""
        end = buf.rfind(b"\n\n")
        if end < 0:
            self._tail = [buf]
            self._hold(len(buf))
            return []
        if end + 2 < len(buf):
            self._tail = [buf[end + 2 :]]
            self._hold(len(buf) - end - 2)
        # No field state is pending here: lines are parsed only once their event is complete.
        if buf.startswith(b"data: "):
            # Fastest path: split the complete events on "\n\ndata: " after one decode. It
            # applies when no part holds another LF, i.e. every event is one `data: ` line.
            parts = buf[6:end].decode("utf-8", "replace").split("\n\ndata: ")
            if not any(["\n" in part for part in parts]):
                ident = self._id
                return [ServerSentEvent(part, "message", ident) for part in parts]
        blocks = buf[:end].split(b"\n\n")
        out: list[ServerSentEvent] = []
        for block in blocks:
            for line in block.split(b"\n"):
                self._line(line, out)
            self._dispatch(out)
        return out

    def _line(self, line: bytes, out: list[ServerSentEvent]) -> None:
        if not line:
            self._dispatch(out)
            return
        if line[0] == 58:  # ":" comment / keep-alive
            return
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value.decode("utf-8", "replace"))
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            if b"\0" not in value:
                self._id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():
            self._retry = self.retry = int(value)
        # any other field is ignored

    def _dispatch(self, out: list[ServerSentEvent]) -> None:
        if self._data:
            out.append(
                ServerSentEvent(
                    "\n".join(self._data), self._event or "message", self._id, self._retry
                )
            )
            self._data = []
        self._event = None
        self._retry = None


def iter_events(
    byte_chunks: Iterable[bytes], max_event_bytes: int | None = None
) -> Iterator[ServerSentEvent]:
    """Events from an iterable of byte reads (e.g. `httpx.Response.iter_bytes()`)."""
    decoder = SSEDecoder(max_event_bytes)
    feed = decoder.feed
    for chunk in byte_chunks:
        yield from feed(chunk)
    yield from decoder.flush()


async def aiter_events(
    byte_chunks: AsyncIterator[bytes], max_event_bytes: int | None = None
) -> AsyncIterator[ServerSentEvent]:
    """Events from an async iterator of byte reads (e.g. `httpx.Response.aiter_bytes()`)."""
    decoder = SSEDecoder(max_event_bytes)
    feed = decoder.feed
    async for chunk in byte_chunks:
        for event in feed(chunk):
            yield event
    for event in decoder.flush():
        yield event
