"""Everything is bounded: bodies (decompressed too), SSE events, streamed answers, and time,
each limit ending in a one-line `YJError` that keeps what had arrived (issue 13)."""

from __future__ import annotations

import asyncio
import math
import re
from typing import Any

import pytest

import yjnb

from .conftest import KEY
from .server import HostileServer

pytestmark = pytest.mark.timeout(30)


def client_for(hostile: HostileServer, scenario: str, **kw: Any) -> yjnb.Client:
    return yjnb.Client(api_key=KEY, base_url=hostile.base(scenario), **kw)


def test_the_defaults_are_sane() -> None:
    limits = yjnb.Limits()
    assert limits.max_body_bytes == 64 * 2**20
    assert limits.max_event_bytes == 16 * 2**20
    assert limits.max_answer_chars == 4_000_000
    assert (limits.deadline_s, limits.stream_stall_s, limits.stream_total_s) == (600, 120, 1800)


@pytest.mark.parametrize(
    "changes",
    [
        {"max_body_bytes": 0},
        {"max_answer_chars": -1},
        {"deadline_s": math.nan},
        {"stream_total_s": math.inf},
    ],
)
def test_limits_must_be_positive_numbers(changes: dict[str, Any]) -> None:
    with pytest.raises(yjnb.ConfigError, match=next(iter(changes))):
        yjnb.Limits(**changes)


# -- sizes ---------------------------------------------------------------------------------------


def test_a_json_body_that_never_ends(hostile: HostileServer, records: list[Any]) -> None:
    with pytest.raises(yjnb.MalformedResponse, match="max_body_bytes") as info:
        client_for(hostile, "endless_body").chat("hello")
    assert "\n" not in str(info.value) and info.value.excerpt.startswith('{"choices"')
    assert [(r.kind, r.status) for r in records] == [("chat", "failed")]


@pytest.mark.parametrize("stream", [False, True])
def test_an_error_whose_message_never_ends(hostile: HostileServer, stream: bool) -> None:
    # Only the start of an error answer is read: enough for its message.
    with pytest.raises(yjnb.ServerError, match=re.escape('500 {"error": "xxxx')) as info:
        client_for(hostile, "endless_error", max_retries=0).chat("hello", stream=stream)
    assert len(str(info.value)) < 400


def test_a_gzip_bomb_stops_at_the_decompressed_cap(hostile: HostileServer) -> None:
    # About 510 KB on the wire, 512 MiB inflated: the cap counts inflated bytes.
    with pytest.raises(yjnb.MalformedResponse, match="max_body_bytes"):
        client_for(hostile, "gzip_bomb").task("t-bomb")


def test_one_sse_line_that_never_ends(hostile: HostileServer, records: list[Any]) -> None:
    stream = client_for(hostile, "endless_line").chat("hello", stream=True)
    with pytest.raises(yjnb.StreamInterrupted, match="max_event_bytes"):
        list(stream)
    assert stream.result is not None and stream.result.interrupted
    assert [(r.kind, r.status) for r in records] == [("chat", "interrupted")]


def test_an_endless_stream_stops_at_max_answer_chars(
    hostile: HostileServer, records: list[Any]
) -> None:
    client = client_for(hostile, "endless_stream", limits=yjnb.Limits(max_answer_chars=100_000))
    stream = client.chat("hello", stream=True)
    got: list[str] = []
    with pytest.raises(yjnb.StreamInterrupted, match="max_answer_chars") as info:
        for chunk in stream:
            got.append(chunk.text)
    partial = info.value.partial_text
    assert len(partial) >= 100_000 and partial.startswith("all work and no play")
    assert "".join(got) == partial[: len("".join(got))]
    assert stream.result is not None and stream.result.text == partial
    assert [(r.kind, r.status) for r in records] == [("chat", "interrupted")]


# -- time ----------------------------------------------------------------------------------------


def test_a_body_that_drips_hits_the_deadline(hostile: HostileServer, records: list[Any]) -> None:
    client = client_for(hostile, "drip_body", limits=yjnb.Limits(deadline_s=0.5))
    with pytest.raises(yjnb.APIConnectionError, match="deadline_s") as info:
        client.chat("hello")
    assert "\n" not in str(info.value)
    assert [(r.kind, r.status) for r in records] == [("chat", "failed")]


def test_a_stream_whose_event_never_completes_stalls(
    hostile: HostileServer, records: list[Any]
) -> None:
    # Bytes keep coming, so the read timeout never fires; no event ever completes.
    client = client_for(hostile, "drip_line", limits=yjnb.Limits(stream_stall_s=0.3))
    with pytest.raises(yjnb.StreamInterrupted, match="stream_stall_s"):
        list(client.chat("hello", stream=True))
    assert [(r.kind, r.status) for r in records] == [("chat", "interrupted")]


def test_a_stream_that_drips_forever_hits_the_total_deadline(hostile: HostileServer) -> None:
    limits = yjnb.Limits(stream_stall_s=60, stream_total_s=1.5)
    stream = client_for(hostile, "drip_events", limits=limits).chat("hello", stream=True)
    got: list[str] = []
    with pytest.raises(yjnb.StreamInterrupted, match="stream_total_s") as info:
        for chunk in stream:
            got.append(chunk.text)
    assert got and info.value.partial_text == "".join(got)


def test_an_async_stall_leaves_the_consumers_task_usable(hostile: HostileServer) -> None:
    async def main() -> None:
        limits = yjnb.Limits(stream_stall_s=0.3)
        async with yjnb.AsyncClient(
            api_key=KEY, base_url=hostile.base("drip_line"), limits=limits
        ) as client:
            stream = await client.chat("hello", stream=True)
            with pytest.raises(yjnb.StreamInterrupted, match="stream_stall_s"):
                async for _ in stream:
                    pass
            # The deadline cancelled a read in this task; nothing of it may be left over.
            task = asyncio.current_task()
            assert task is not None
            if hasattr(task, "cancelling"):
                assert task.cancelling() == 0
            await asyncio.sleep(0.01)

    asyncio.run(main())


def test_a_slow_consumer_is_not_a_stalled_server(client_kwargs: dict[str, Any]) -> None:
    async def main() -> str:
        limits = yjnb.Limits(stream_stall_s=0.2)
        async with yjnb.AsyncClient(**client_kwargs, limits=limits) as client:
            stream = await client.chat("Tell me a story", max_tokens=50, stream=True)
            pieces: list[str] = []
            async for chunk in stream:
                if not pieces:
                    await asyncio.sleep(0.5)  # the consumer's time, not the server's
                pieces.append(chunk.text)
            return "".join(pieces)

    assert asyncio.run(main())


def test_a_user_cancel_during_a_read_stays_a_cancel(hostile: HostileServer) -> None:
    async def main() -> None:
        limits = yjnb.Limits(stream_stall_s=60)
        async with yjnb.AsyncClient(
            api_key=KEY, base_url=hostile.base("drip_line"), limits=limits
        ) as client:
            stream = await client.chat("hello", stream=True)

            async def consume() -> None:
                async for _ in stream:
                    pass

            task = asyncio.create_task(consume())
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert stream.result is not None and stream.result.interrupted

    asyncio.run(main())
