"""An answer as aiohttp reads it (`yjnb._transport_answer`), on aiohttp's own objects."""

from __future__ import annotations

import asyncio

import aiohttp
import httpx
import pytest


def test_what_arrived_before_a_body_failed_is_read_before_its_error() -> None:
    """aiohttp's reads raise a body's error before what it has buffered. An answer whose last
    events came with the end of its connection (a loaded machine reads both in one turn of
    the event loop) lost them: the partial answer the user paid for."""
    from aiohttp.base_protocol import BaseProtocol
    from aiohttp.streams import StreamReader

    from yjnb._transport_answer import CHUNK_BYTES, AiohttpBody

    async def read_all() -> tuple[list[bytes], BaseException]:
        loop = asyncio.get_running_loop()
        content = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
        events = b"data: one\\n\\n" * (CHUNK_BYTES // 5)  # more than one read's worth
        content.feed_data(events)
        content.set_exception(aiohttp.ClientPayloadError("Response payload is not completed"))
        answer = type("Answer", (), {"content": content})()
        body, chunks = AiohttpBody(answer), []  # type: ignore[arg-type]
        with pytest.raises(httpx.TransportError) as failed:
            async for chunk in body:
                chunks.append(chunk)
        assert b"".join(chunks) == events
        return chunks, failed.value

    chunks, error = asyncio.run(read_all())
    assert max(len(c) for c in chunks) <= CHUNK_BYTES  # bounded as every read is
    assert isinstance(error, httpx.RemoteProtocolError | httpx.ReadError)
