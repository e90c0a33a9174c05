"""Streams you can leave: `break`, `close()` or dropping the stream stops reading at once,
records the call as interrupted and leaves the partial answer in `.result` (issue 13).

The server here streams forever, fast: a stream that kept reading after it was left would
keep growing (about 40 MB/s in the report). "Stopped" is checked by letting the runner loop
run for a moment and seeing that nothing more arrived.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import yjnb

from .conftest import KEY
from .server import HostileServer

pytestmark = pytest.mark.timeout(30)
LET_THE_LOOP_RUN_S = 0.3


def endless(hostile: HostileServer) -> yjnb.Client:
    return yjnb.Client(api_key=KEY, base_url=hostile.base("endless_stream"))


def chat_statuses(records: list[Any]) -> list[str]:
    return [r.status for r in records if r.kind == "chat"]


def test_break_out_of_a_sync_stream(hostile: HostileServer, records: list[Any]) -> None:
    stream = endless(hostile).chat("hello", stream=True)
    for chunk in stream:
        first = chunk.text
        break
    result = stream.result
    assert result is not None and result.interrupted
    assert result.text.startswith(first)
    assert chat_statuses(records) == ["interrupted"]
    time.sleep(LET_THE_LOOP_RUN_S)
    assert stream.text == result.text  # nothing read after the break
    assert list(stream) == []


def test_close_a_sync_stream(hostile: HostileServer, records: list[Any]) -> None:
    stream = endless(hostile).chat("hello", stream=True)
    first = next(stream).text
    stream.close()
    assert stream.result is not None and stream.result.text.startswith(first)
    assert chat_statuses(records) == ["interrupted"]
    seen = stream.text
    time.sleep(LET_THE_LOOP_RUN_S)
    assert stream.text == seen


def test_drop_a_sync_stream(hostile: HostileServer, records: list[Any]) -> None:
    stream = endless(hostile).chat("hello", stream=True)
    next(stream)
    del stream  # no close(), no gc.collect(): dropping the last reference is enough
    assert chat_statuses(records) == ["interrupted"]
    assert records[-1].error and "dropped" in records[-1].error


def test_an_exception_in_the_loop_body_leaves_the_stream(
    hostile: HostileServer, records: list[Any]
) -> None:
    stream = endless(hostile).chat("hello", stream=True)
    with pytest.raises(KeyError):
        for _ in stream:
            raise KeyError("the caller's own bug")
    assert stream.result is not None and stream.result.interrupted
    assert chat_statuses(records) == ["interrupted"]


def test_break_out_of_an_async_stream(hostile: HostileServer, records: list[Any]) -> None:
    async def main() -> None:
        async with yjnb.AsyncClient(api_key=KEY, base_url=hostile.base("endless_stream")) as c:
            stream = await c.chat("hello", stream=True)
            async for chunk in stream:
                first = chunk.text
                break
            # At once: no await between the break and these checks.
            result = stream.result
            assert result is not None and result.interrupted
            assert result.text.startswith(first)
            assert chat_statuses(records) == ["interrupted"]
            await asyncio.sleep(LET_THE_LOOP_RUN_S)
            assert stream.text == result.text
            assert [chunk async for chunk in stream] == []

    asyncio.run(main())


def test_drop_an_async_stream(hostile: HostileServer, records: list[Any]) -> None:
    async def main() -> None:
        async with yjnb.AsyncClient(api_key=KEY, base_url=hostile.base("endless_stream")) as c:
            stream = await c.chat("hello", stream=True)
            await stream.__anext__()
            del stream
            assert chat_statuses(records) == ["interrupted"]

    asyncio.run(main())


def test_aclose_an_async_stream(hostile: HostileServer, records: list[Any]) -> None:
    async def main() -> None:
        async with yjnb.AsyncClient(api_key=KEY, base_url=hostile.base("endless_stream")) as c:
            stream = await c.chat("hello", stream=True)
            await stream.__anext__()
            await stream.aclose()
            assert stream.result is not None and stream.result.interrupted
            assert chat_statuses(records) == ["interrupted"]

    asyncio.run(main())


def test_a_finished_stream_left_afterwards_stays_ok(
    client_kwargs: dict[str, Any], records: list[Any]
) -> None:
    stream = yjnb.Client(**client_kwargs).chat("Hello", max_tokens=5, stream=True)
    text = "".join(chunk.text for chunk in stream)
    stream.close()
    del stream
    assert chat_statuses(records) == ["ok"] and text
