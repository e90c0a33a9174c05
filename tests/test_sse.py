"""The SSE decoder against byte-exact fixtures, every split of the byte stream, and a reference."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from yjnb._sse import EventTooLarge, ServerSentEvent, SSEDecoder, aiter_events, iter_events

FIXTURES = Path(__file__).parent / "fixtures"
SEED_TEXT = (
    "我是通义千问，阿里巴巴集团旗下的超大规模语言模型。我能够回答问题、创作文字，"
    "比如写故事、写公文、写邮件、写剧本、逻辑推理、编程等等，还能表达观点，玩游戏等。"
    "如果你有任何问题或需要帮助，欢迎随时告诉我！"
)


def decode(*reads: bytes) -> list[ServerSentEvent]:
    return list(iter_events(reads))


def ev(
    data: str, event: str = "message", id: str | None = None, retry: int | None = None
) -> ServerSentEvent:
    return ServerSentEvent(data, event, id, retry)


# -- the captured qwen3-max stream ------------------------------------------------------------


@pytest.mark.parametrize("name", ["qwen3_max_stream.sse", "qwen3_max_stream_crlf.sse"])
def test_seed_stream(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    events = decode(raw)
    # The seed holds 15 JSON chunks and then `data: [DONE]`.
    assert len(events) == 16
    assert events[-1] == ev("[DONE]")
    chunks = [e.json() for e in events[:-1]]
    assert all(e.event == "message" and e.id is None for e in events)
    delta = "".join(c["delta"].get("content") or "" for ch in chunks for c in ch["choices"])
    # The stream uses full-width "，" (\uff0c); the seed's non-streamed answer shows ",".
    assert delta == SEED_TEXT
    assert "".join(ch.get("content") or "" for ch in chunks) == SEED_TEXT
    assert chunks[-1]["choices"] == [] and chunks[-1]["finish"] == "1"
    assert chunks[-1]["usage"]["total_tokens"] == 70
    assert {ch["llmusageid"] for ch in chunks} == {"K9_veNBxeqvrFfbGWXs0R"}


def test_seed_fixture_is_the_seed_byte_for_byte() -> None:
    lf = (FIXTURES / "qwen3_max_stream.sse").read_bytes()
    crlf = (FIXTURES / "qwen3_max_stream_crlf.sse").read_bytes()
    assert lf.endswith(b"data: [DONE]\n\n") and b"\r" not in lf
    assert crlf == lf.replace(b"\n", b"\r\n")
    assert lf.count(b"\n\n") == 16 and b"\n\n\n" not in lf
    # Each event of the fixture appears exactly once in the fixture text as one line.
    first = lf.split(b"\n\n")[0]
    assert first.startswith(b'data: {"id": "chatcmpl-2665dfd8-e05f-9d7f-adff-3c53c174a454"')


@pytest.mark.parametrize("size", [1, 7, 64, 4096])
def test_seed_stream_in_small_reads(size: int) -> None:
    for name in ("qwen3_max_stream.sse", "qwen3_max_stream_crlf.sse"):
        raw = (FIXTURES / name).read_bytes()
        reads = [raw[i : i + size] for i in range(0, len(raw), size)]
        assert decode(*reads) == decode(raw)


# -- the mixed fixture: BOM, comments, fields, CR/CRLF ----------------------------------------

MIXED = [
    ev('{"stage": "queued"}', "status", "1"),
    ev("first line\nsecond line, no space\n two spaces kept one", id="1"),
    ev("你好", "进度", "2"),
    ev("", id="2"),  # a `data` line without colon is the field `data` with an empty value
    ev("after retry", id="2", retry=1500),
    ev("[DONE]", id="2"),
]


def test_mixed_fixture() -> None:
    raw = (FIXTURES / "mixed_fields.sse").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b"\r" in raw.replace(b"\r\n", b"")
    assert decode(raw) == MIXED


def test_every_split_position() -> None:
    raw = (FIXTURES / "mixed_fields.sse").read_bytes()
    assert decode(*[raw[i : i + 1] for i in range(len(raw))]) == MIXED
    for i in range(len(raw) + 1):
        assert decode(raw[:i], raw[i:]) == MIXED, i


def test_every_pair_of_splits_short_stream() -> None:
    raw = "\ufeffdata: a\r\n\r\n:c\rdata: é\r\rdata:x\ndata: 你\n\n".encode()
    want = [ev("a"), ev("é"), ev("x\n你")]
    assert decode(raw) == want
    for i in range(len(raw) + 1):
        for j in range(i, len(raw) + 1):
            assert decode(raw[:i], raw[i:j], raw[j:]) == want, (i, j)


@pytest.mark.parametrize(
    ("name", "end"), [("qwen3_max_stream.sse", b"\n\n"), ("qwen3_max_stream_crlf.sse", b"\r\n\r")]
)
def test_each_event_is_returned_by_the_read_that_completes_it(name: str, end: bytes) -> None:
    raw = (FIXTURES / name).read_bytes()
    for i in range(0, len(raw) + 1):
        d = SSEDecoder()
        assert len(d.feed(raw[:i])) == raw[:i].count(end), i
        assert len(d.feed(raw[i:])) == 16 - raw[:i].count(end), i
    d = SSEDecoder()
    assert d.feed(b"data: a\n") == []
    assert d.feed(b"\n") == [ev("a")]


# -- line ends ----------------------------------------------------------------------------------


def test_crlf_split_across_reads_is_one_line_end() -> None:
    # If CR and LF were two line ends, "a" would be dispatched alone.
    assert decode(b"data: a\r", b"\ndata: b\r\n\r", b"\n") == [ev("a\nb")]
    assert decode(b"data: a\r", b"\n", b"\r", b"\n") == [ev("a")]


def test_lone_cr_line_ends() -> None:
    assert decode(b"data: x\r\rdata: y\r\r") == [ev("x"), ev("y")]
    assert decode(b"data: x\r", b"\r", b"data: y\r", b"\r") == [ev("x"), ev("y")]
    # CR then CRLF: the first CR ends a line, CRLF ends the blank one.
    assert decode(b"data: x\r\r\n") == [ev("x")]
    assert decode(b"data: x\r\r\ndata: y\n\n") == [ev("x"), ev("y")]


def test_mixed_line_ends_in_one_read() -> None:
    assert decode(b"data: a\ndata: b\r\ndata: c\r\r\ndata: d\n\r") == [ev("a\nb\nc"), ev("d")]


# -- UTF-8 ----------------------------------------------------------------------------------------


def test_utf8_split_inside_character() -> None:
    raw = "data: 你好，世界\n\n".encode()
    for i in range(len(raw) + 1):
        assert decode(raw[:i], raw[i:]) == [ev("你好，世界")]
    assert decode(*[raw[i : i + 1] for i in range(len(raw))]) == [ev("你好，世界")]


def test_invalid_utf8_is_replaced() -> None:
    assert decode(b"data: a\xffb\n\n") == [ev("a\ufffdb")]
    assert decode(b"data: a\xe4\xbd\n\n") == [ev("a\ufffd")]


# -- fields -------------------------------------------------------------------------------------


def test_multiline_data_and_space_rule() -> None:
    assert decode(b"data: a\ndata:b\ndata:  c\ndata:\ndata\n\n") == [ev("a\nb\n c\n\n")]


def test_comments_and_keepalives_ignored() -> None:
    raw = b": ping\n\n:\n\ndata: x\n: inside\ndata: y\n\n: bye\n\n"
    assert decode(raw) == [ev("x\ny")]


def test_bom_stripped_only_at_start() -> None:
    assert decode(b"\xef\xbb\xbfdata: a\n\n") == [ev("a")]
    assert decode(b"\xef", b"\xbb", b"\xbf", b"data: a\n\n") == [ev("a")]
    # A second BOM makes the field name "\ufeffdata": an unknown field, ignored.
    assert decode(b"\xef\xbb\xbfdata: a\n\n\xef\xbb\xbfdata: b\n\n") == [ev("a")]
    # Bytes that only start like a BOM are kept.
    assert decode(b"\xef", b"data: a\n\n") == []  # "\ufffddata" is an unknown field
    assert decode(b"da", b"ta: a\n\n") == [ev("a")]


def test_event_id_retry() -> None:
    raw = b"event: a\nid: 7\nretry: 250\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n"
    assert decode(raw) == [ev("1", "a", "7", 250), ev("2", id="7"), ev("3", id="7")]


def test_id_persists_and_nul_id_ignored() -> None:
    raw = b"id: 1\n\ndata: a\n\nid: x\x00y\ndata: b\n\nid\ndata: c\n\n"
    assert decode(raw) == [ev("a", id="1"), ev("b", id="1"), ev("c", id="")]


def test_retry_must_be_digits() -> None:
    d = SSEDecoder()
    out = d.feed(b"retry: 1.5\ndata: a\n\nretry: -3\ndata: b\n\nretry: 12x\ndata: c\n\n")
    assert out == [ev("a"), ev("b"), ev("c")]
    assert d.retry is None
    assert d.feed(b"retry: 3000\n\n") == [] and d.retry == 3000


def test_events_without_data_are_not_dispatched() -> None:
    d = SSEDecoder()
    assert d.feed(b"event: ping\n\nid: 5\n\nretry: 10\n\n: c\n\n\n\n") == []
    assert d.last_event_id == "5" and d.retry == 10
    # The event type of an undispatched event does not leak into the next one.
    assert d.feed(b"data: x\n\n") == [ev("x", id="5")]
    assert d.flush() == []


def test_unknown_fields_ignored() -> None:
    assert decode(b"foo: bar\nDATA: no\ndata : no\ndata: yes\nbaz\n\n") == [ev("yes")]


# -- EOF ----------------------------------------------------------------------------------------


def test_flush_is_lenient() -> None:
    d = SSEDecoder()
    assert d.feed(b"data: a\n\ndata: [DONE]") == [ev("a")]
    assert d.flush() == [ev("[DONE]")]
    assert decode(b"data: x\n") == [ev("x")]
    assert decode(b"data: x\ndata: y") == [ev("x\ny")]
    assert decode(b"data: x\r") == [ev("x")]
    assert decode(b"event: only\n") == []
    assert decode(b"") == []


def test_decoder_reusable_after_flush() -> None:
    d = SSEDecoder()
    d.feed(b"id: 3\ndata: a")
    assert d.flush() == [ev("a", id="3")]
    assert d.feed(b"\xef\xbb\xbfdata: b\n\n") == [ev("b")]


def test_large_event_in_small_reads() -> None:
    payload = json.dumps({"content": "字" * 300_000})
    raw = f"data: {payload}\n\n".encode()
    reads = [raw[i : i + 4096] for i in range(0, len(raw), 4096)]
    events = decode(*reads)
    assert len(events) == 1 and events[0].json()["content"] == "字" * 300_000


# -- iterators and the event type --------------------------------------------------------------


def test_aiter_events() -> None:
    raw = (FIXTURES / "qwen3_max_stream.sse").read_bytes()

    async def reads() -> AsyncIterator[bytes]:
        for i in range(0, len(raw), 100):
            yield raw[i : i + 100]
        yield b"data: tail"

    async def collect() -> list[ServerSentEvent]:
        return [e async for e in aiter_events(reads())]

    events = asyncio.run(collect())
    assert events == [*decode(raw), ev("tail")]


def test_event_is_frozen_value() -> None:
    e = ev("[1]", "x", "2", 3)
    assert e == ServerSentEvent(data="[1]", event="x", id="2", retry=3)
    assert ServerSentEvent("a") == ev("a") and ServerSentEvent("a").event == "message"
    assert hash(e) == hash(ev("[1]", "x", "2", 3))
    assert e.json() == [1]
    assert repr(e) == "ServerSentEvent(data='[1]', event='x', id='2', retry=3)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.data = "b"  # type: ignore[misc]
    assert dataclasses.replace(e, data="z").data == "z"


# -- a reference parser written straight from the spec, against random streams ---------------


def reference(raw: bytes) -> list[ServerSentEvent]:
    text = raw.decode("utf-8", "replace").removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()  # the text ended with a line end
    lines.append("")  # lenient EOF: dispatch what is pending
    out: list[ServerSentEvent] = []
    data: list[str] = []
    event = ""
    last_id: str | None = None
    retry: int | None = None
    for line in lines:
        if line == "":
            if data:
                out.append(ev("\n".join(data), event or "message", last_id, retry))
            data, event, retry = [], "", None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            retry = int(value)
    return out


PIECES = [
    'data: {"a": 1}',
    "data: 你好，世界",
    "data:x",
    "data",
    "data:  sp",
    ": keep-alive",
    "event: e",
    "event:",
    "id: 9",
    "retry: 100",
    "retry: x",
    "other: 1",
    "",
    "",
    "",
]


@pytest.mark.parametrize("seed", range(40))
def test_random_streams_match_reference(seed: int) -> None:
    rng = random.Random(seed)
    ends = ["\n"] * 6 + ["\r\n", "\r"] if seed % 2 else ["\n"]
    parts = ["\ufeff"] if rng.random() < 0.3 else []
    for _ in range(rng.randint(1, 60)):
        parts.append(rng.choice(PIECES) + rng.choice(ends))
    raw = "".join(parts).encode()
    want = reference(raw)
    assert decode(raw) == want
    cuts = sorted(rng.sample(range(len(raw) + 1), min(len(raw) + 1, rng.randint(1, 12))))
    reads = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    assert decode(*reads) == want


# -- the bound on an unfinished event -----------------------------------------------------------


def test_a_line_that_never_ends_is_refused_past_the_limit() -> None:
    d = SSEDecoder(max_event_bytes=100)
    assert d.feed(b"data: " + b"a" * 50) == []
    assert d.feed(b"a" * 44) == []  # exactly 100 bytes held: still allowed
    with pytest.raises(EventTooLarge, match="100 bytes"):
        d.feed(b"a")


def test_an_event_of_many_lines_counts_as_one() -> None:
    d = SSEDecoder(max_event_bytes=100)
    with pytest.raises(EventTooLarge):
        for _ in range(20):
            d.feed(b"data: aaaa\n")  # line ends, but never the blank line that ends the event


def test_only_the_unfinished_part_counts() -> None:
    d = SSEDecoder(max_event_bytes=100)
    many = b"data: " + b"x" * 60 + b"\n\n"
    assert d.feed(many * 10 + b"data: " + b"y" * 90) == [ev("x" * 60)] * 10
    assert d.feed(b"\n\n") == [ev("y" * 90)]
    with pytest.raises(EventTooLarge):
        d.feed(b"data: " + b"z" * 200)


def test_iter_events_passes_the_limit_on() -> None:
    with pytest.raises(EventTooLarge):
        list(iter_events([b"data: " + b"a" * 64] * 3, max_event_bytes=128))
