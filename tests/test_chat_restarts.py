"""A broken chat stream is started again (issue 13): dropped, cut without a finish signal or
sent a malformed chunk, it is sent again from scratch, `stream_retries` times (default 1),
never after the caller left it. The broken attempt is recorded as interrupted with its
partial text. Against the emulator's stream faults and the hostile server; the waits go
through `RetryPolicy.sleep` where the test does not need them to pass for real."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from typing import Any

import pytest

import yjnb
from tests.hostile.server import HostileServer
from tests.test_retries import CHAT, CHAT_PATH, VIDEO, VIDEO_PATH, Waits, recording

FAULT = "X-Emulator-Fault"
BREAKS = [
    ("drop_after=4", "connection dropped"),
    ("no_finish=1", "cut without a finish signal"),
    ("bad_chunk_after=4", "malformed chunk"),
]


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture(scope="module")
def hostile() -> Any:
    server = HostileServer().start()
    yield server
    server.close()


def recording_policy(client: yjnb.AsyncClient, waits: Waits) -> Any:
    return dataclasses.replace(client._retry, sleep=waits)


def chat_rows(records: list[Any]) -> list[Any]:
    return [r for r in records if r.kind == "chat"]


@pytest.mark.parametrize(("fault", "why"), BREAKS)
def test_a_stream_broken_once_ends_with_the_new_attempts_answer(
    client_kwargs: dict[str, Any], emulator: Any, records: list[Any], fault: str, why: str
) -> None:
    key, value = fault.split("=")
    emulator.set_faults(path=CHAT_PATH, times=1, **{key: value})
    waits = Waits()

    async def main() -> tuple[yjnb.AsyncChatStream, list[yjnb.ChatChunk]]:
        async with yjnb.AsyncClient(**client_kwargs) as client:
            client._retry = recording_policy(client, waits)
            stream = await client.chat("Tell me a story", max_tokens=30, stream=True)
            chunks: list[yjnb.ChatChunk] = []
            async for chunk in stream:
                if chunks and chunks[-1].restart:
                    assert stream.text == chunk.text  # it started over with the new attempt
                chunks.append(chunk)
            return stream, chunks

    stream, chunks = asyncio.run(main())
    marks = [i for i, c in enumerate(chunks) if c.restart]
    assert [chunks[i].restart for i in marks] == [why]
    assert emulator.count(CHAT) == 2
    result = stream.result
    assert result is not None and not result.interrupted
    assert "".join(c.text for c in chunks[marks[0] + 1 :]) == result.text != ""
    (broken,) = stream.broken_attempts
    assert broken.interrupted and broken.text
    assert "".join(c.text for c in chunks[: marks[0]]) == broken.text
    first, second = chat_rows(records)
    assert (first.status, first.partial_text) == ("interrupted", broken.text)
    assert f"{why}: started again (1 of 1)" in first.error
    assert (second.status, second.partial_text) == ("ok", None)
    assert len(waits.seen) == 1 and 0 < waits.seen[0] <= 0.5  # a backoff, not a hint


def test_a_stream_that_keeps_breaking_is_started_again_exactly_once(
    client_kwargs: dict[str, Any], emulator: Any, records: list[Any], waits: Waits
) -> None:
    client = recording(yjnb.Client(**client_kwargs, headers={FAULT: "drop_after=4"}), waits)
    stream = client.chat("Tell me a story", stream=True)
    with pytest.raises(yjnb.StreamInterrupted, match="connection dropped") as info:
        list(stream)
    assert "started again 1 time(s), stream_retries=1" in str(info.value)
    assert emulator.count(CHAT) == 2 and len(waits.seen) == 1
    assert info.value.partial_text and stream.result is not None
    assert stream.result.text == info.value.partial_text  # the last attempt's partial text
    assert [r.status for r in chat_rows(records)] == ["interrupted", "interrupted"]
    assert all(r.partial_text for r in chat_rows(records))


def test_stream_retries_0_never_starts_a_stream_again(
    client_kwargs: dict[str, Any], emulator: Any, records: list[Any], waits: Waits
) -> None:
    emulator.set_faults(path=CHAT_PATH, times=1, drop_after=4)
    client = recording(yjnb.Client(**client_kwargs, stream_retries=0), waits)
    chunks: list[yjnb.ChatChunk] = []
    with pytest.raises(yjnb.StreamInterrupted, match="connection dropped"):
        chunks.extend(client.chat("Tell me a story", stream=True))
    assert not any(c.restart for c in chunks)
    assert emulator.count(CHAT) == 1 and waits.seen == []
    assert [r.status for r in chat_rows(records)] == ["interrupted"]


def test_stream_retries_2_starts_it_again_twice_with_growing_waits(
    client_kwargs: dict[str, Any], emulator: Any, waits: Waits
) -> None:
    emulator.set_faults(path=CHAT_PATH, times=2, no_finish=1)
    client = recording(yjnb.Client(**client_kwargs, stream_retries=2), waits)
    stream = client.chat("Tell me a story", stream=True)
    chunks = list(stream)
    assert [c.restart for c in chunks if c.restart] == ["cut without a finish signal"] * 2
    assert stream.result is not None and not stream.result.interrupted
    assert emulator.count(CHAT) == 3 and len(stream.broken_attempts) == 2
    first, second = waits.seen
    assert 0 < first < second


@pytest.mark.parametrize("value", [-1, 1.5, True, "1"])
def test_stream_retries_must_be_a_whole_number(value: Any) -> None:
    with pytest.raises(yjnb.ConfigError, match="stream_retries must be a whole number"):
        yjnb.Client(api_key="sk-x", base_url="http://127.0.0.1:9", stream_retries=value)


# -- what is never started again ------------------------------------------------------------------


def test_a_break_out_of_the_loop_is_never_retried(
    client_kwargs: dict[str, Any], emulator: Any, records: list[Any]
) -> None:
    slow = {FAULT: "chunk_delay=0.01;drop_after=40"}
    stream = yjnb.Client(**client_kwargs, headers=slow).chat("Tell me a story", stream=True)
    for _ in stream:
        break
    time.sleep(0.6)  # longer than the restart's backoff: a restart would have been sent
    assert emulator.count(CHAT) == 1
    assert [r.status for r in chat_rows(records)] == ["interrupted"]


def test_leaving_at_the_restart_notice_sends_nothing_more(
    client_kwargs: dict[str, Any], emulator: Any, records: list[Any]
) -> None:
    stream = yjnb.Client(**client_kwargs, headers={FAULT: "drop_after=4"}).chat(
        "Tell me a story", stream=True
    )
    seen = []
    for chunk in stream:
        if chunk.restart:
            break
        seen.append(chunk.text)
    time.sleep(0.6)
    assert emulator.count(CHAT) == 1
    (row,) = chat_rows(records)
    assert row.status == "interrupted" and row.partial_text == "".join(seen)
    assert stream.result is not None and stream.result.text == "".join(seen)


def test_leaving_an_async_stream_at_the_restart_notice_sends_nothing_more(
    client_kwargs: dict[str, Any], emulator: Any, records: list[Any]
) -> None:
    async def main() -> None:
        headers = {FAULT: "drop_after=4"}
        async with yjnb.AsyncClient(**client_kwargs, headers=headers) as client:
            stream = await client.chat("Tell me a story", stream=True)
            async for chunk in stream:
                if chunk.restart:
                    break
            assert stream.result is not None and stream.result.interrupted
            await asyncio.sleep(0.6)

    asyncio.run(main())
    assert emulator.count(CHAT) == 1
    assert [r.status for r in chat_rows(records)] == ["interrupted"]


def test_a_stall_is_not_started_again(client_kwargs: dict[str, Any], emulator: Any) -> None:
    client = yjnb.Client(**client_kwargs, timeout=0.5, headers={FAULT: "stall_after=3"})
    with pytest.raises(yjnb.StreamInterrupted, match="stalled"):
        list(client.chat("Tell me a story", stream=True))
    assert emulator.count(CHAT) == 1


def test_an_error_reported_mid_stream_is_not_started_again(
    hostile: HostileServer, records: list[Any]
) -> None:
    client = yjnb.Client(
        api_key="sk-" + uuid.uuid4().hex, base_url=hostile.base("stream_error_echo")
    )
    with pytest.raises(yjnb.StreamInterrupted, match="error mid-stream"):
        list(client.chat("hello", stream=True))
    assert [r.status for r in chat_rows(records)] == ["interrupted"]


def test_a_restart_that_is_refused_keeps_the_partial_text_and_hides_the_key(
    hostile: HostileServer, records: list[Any], waits: Waits
) -> None:
    key = "sk-restart-" + uuid.uuid4().hex
    client = recording(
        yjnb.Client(api_key=key, base_url=hostile.base("stream_cut_then_refused")), waits
    )
    with pytest.raises(yjnb.StreamInterrupted) as info:
        list(client.chat("hello", stream=True))
    message = str(info.value)
    assert "cut without a finish signal, and starting it again failed" in message
    assert "BadRequestError" in message or "400" in message or "refused" in message
    assert info.value.partial_text.startswith("Hello, you sent")
    (row,) = chat_rows(records)
    assert row.status == "interrupted" and row.partial_text.startswith("Hello, you sent")
    for text in (message, row.error, row.partial_text):
        assert key[:12] not in text and key[-12:] not in text


def test_media_submissions_are_not_affected(
    client_kwargs: dict[str, Any], emulator: Any, waits: Waits
) -> None:
    emulator.set_faults(status=503, times=1, path=VIDEO_PATH)
    client = recording(yjnb.Client(**client_kwargs, stream_retries=5), waits)
    with pytest.raises(yjnb.ServerError):
        client.video("a cat", model="viduq3-pro", duration=1, wait=False)
    assert emulator.count(VIDEO) == 1 and waits.seen == []
