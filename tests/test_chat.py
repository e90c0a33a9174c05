"""Chat through the real client against the emulator: results, streams, usage, breakage."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import yjnb
from yjnb._chat import StreamAccumulator

FAULT = "X-Emulator-Fault"


def test_chat_returns_text_usage_and_ids(client_kwargs: dict[str, Any]) -> None:
    client = yjnb.Client(**client_kwargs)
    result = client.chat("你是谁", model="qwen3-max")
    assert isinstance(result, yjnb.ChatResult)
    assert result.text and any("\u4e00" <= ch <= "\u9fff" for ch in result.text)
    assert result.model == "qwen3-max"
    assert result.id and result.id.startswith("chatcmpl-")
    assert result.usage_id
    assert result.finish_reason == "stop"
    assert result.usage is not None
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    assert result.usage.completion_tokens > 0
    assert result.latency_s is not None and result.latency_s > 0


def test_stream_counts_text_once_and_matches_the_non_streamed_answer(
    client_kwargs: dict[str, Any],
) -> None:
    client = yjnb.Client(**client_kwargs)
    whole = client.chat("Tell me about the moon", model="qwen3-max")
    stream = client.chat("Tell me about the moon", model="qwen3-max", stream=True)
    pieces = [chunk.text for chunk in stream]
    assert len(pieces) > 5
    assert "".join(pieces) == whole.text  # once, although every chunk carries it twice
    result = stream.result
    assert result is not None and result.text == whole.text
    assert result.usage == whole.usage
    assert result.ttft_s is not None and result.latency_s is not None
    assert 0 <= result.ttft_s <= result.latency_s
    assert result.usage_id and result.usage_id != whole.usage_id


def test_system_prompt_and_extra_params_are_sent(client_kwargs: dict[str, Any]) -> None:
    client = yjnb.Client(**client_kwargs)
    short = client.chat("Write a long story", max_tokens=5)
    assert short.usage is not None and short.usage.completion_tokens <= 5
    plain = client.chat("Hello there")
    with_system = client.chat("Hello there", system="You are a pirate")
    assert with_system.usage is not None and plain.usage is not None
    assert with_system.usage.prompt_tokens > plain.usage.prompt_tokens


def test_reasoning_model_streams_reasoning_separately(client_kwargs: dict[str, Any]) -> None:
    client = yjnb.Client(**client_kwargs)
    stream = client.chat("Why is the sky blue?", model="deepseek-r1", stream=True)
    chunks = list(stream)
    assert any(c.reasoning for c in chunks) and any(c.text for c in chunks)
    result = stream.result
    assert result is not None and result.reasoning and result.text
    assert result.reasoning not in result.text


def test_async_client_streams_many_chats_concurrently(client_kwargs: dict[str, Any]) -> None:
    async def main() -> list[str]:
        async with yjnb.AsyncClient(**client_kwargs) as client:

            async def one(i: int) -> str:
                stream = await client.chat(f"question {i}", stream=True)
                return "".join([chunk.text async for chunk in stream])

            return await asyncio.gather(*(one(i) for i in range(20)))

    answers = asyncio.run(main())
    assert len(answers) == 20 and all(answers)
    assert len(set(answers)) > 1  # different prompts, different answers


def test_models_lists_catelogs(client_kwargs: dict[str, Any]) -> None:
    client = yjnb.Client(**client_kwargs)
    every = client.models()
    t2v = client.models(catelog="t2v")
    assert {"qwen3-max", "viduq3-pro", "wan2.2-t2i-flash"} <= {m.id for m in every}
    assert t2v and all(m.catelog == "t2v" for m in t2v)
    assert "happyhorse-1.0-t2v" in {m.id for m in t2v}


@pytest.mark.parametrize(
    "body",
    [
        {"object": "list", "data": [{"id": "m1", "catelogid": "t2t", "owned_by": "v"}]},
        [{"id": "m1", "catelogid": "t2t", "vendor": "v"}],
        ["m1"],
    ],
)
def test_model_list_shapes(body: Any) -> None:
    items = body["data"] if isinstance(body, dict) else body
    infos = [yjnb.ModelInfo.from_wire(item) for item in items]
    assert [i.id for i in infos if i] == ["m1"]


def test_emulator_bare_list_format_is_accepted(
    client_kwargs: dict[str, Any], emulator: Any
) -> None:
    import httpx

    url = f"{emulator.url}/llmage/v1/models?format=bare"
    bare = httpx.get(url, headers={"Authorization": f"Bearer {emulator.api_key}"}).json()
    assert isinstance(bare, list)
    ids = {info.id for info in map(yjnb.ModelInfo.from_wire, bare) if info}
    assert ids == {m.id for m in yjnb.Client(**client_kwargs).models()}


# -- breakage -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        ("drop_after=5", "connection dropped"),
        ("no_finish=1", "without a finish signal"),
        ("bad_chunk_after=5", "not JSON"),
    ],
)
def test_broken_streams_raise_and_keep_the_partial_text(
    client_kwargs: dict[str, Any], records: list[Any], fault: str, why: str
) -> None:
    client = yjnb.Client(**client_kwargs, headers={FAULT: fault}, stream_retries=0)
    stream = client.chat("Tell me a long story about the sea", stream=True)
    got: list[str] = []
    with pytest.raises(yjnb.StreamInterrupted, match=why) as info:
        for chunk in stream:
            got.append(chunk.text)
    assert got, "some chunks arrived before the break"
    assert info.value.partial_text == "".join(got)
    assert stream.result is not None and stream.result.interrupted
    assert stream.result.text == "".join(got)
    chat_records = [r for r in records if r.kind == "chat"]
    assert [r.status for r in chat_records] == ["interrupted"]


def test_stalled_stream_hits_the_read_timeout(client_kwargs: dict[str, Any]) -> None:
    client = yjnb.Client(**client_kwargs, timeout=0.5, headers={FAULT: "stall_after=3"})
    stream = client.chat("Tell me a story", stream=True)
    with pytest.raises(yjnb.StreamInterrupted, match="stalled") as info:
        list(stream)
    assert info.value.partial_text


def test_cancelling_an_async_stream_keeps_the_partial_text(
    client_kwargs: dict[str, Any], records: list[Any]
) -> None:
    async def main() -> yjnb.AsyncChatStream:
        client = yjnb.AsyncClient(**client_kwargs, headers={FAULT: "chunk_delay=0.05"})
        stream = await client.chat("Tell me a long story", max_tokens=200, stream=True)

        async def consume() -> None:
            async for _ in stream:
                pass

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.4)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return stream

    stream = asyncio.run(main())
    assert stream.result is not None and stream.result.interrupted
    assert len(stream.result.text) > 0
    assert [r.status for r in records if r.kind == "chat"] == ["interrupted"]


def test_closing_a_sync_stream_early_keeps_the_partial_text(client_kwargs: dict[str, Any]) -> None:
    # Slow enough (500 chunks x 10 ms) that close() always lands mid-stream.
    client = yjnb.Client(**client_kwargs, headers={FAULT: "chunk_delay=0.01"})
    stream = client.chat("Tell me a long story", max_tokens=500, stream=True)
    first = [next(stream).text for _ in range(3)]
    stream.close()
    assert stream.result is not None and stream.result.interrupted
    assert stream.result.text.startswith("".join(first))
    assert list(stream) == []


def test_accumulator_counts_duplicated_text_once() -> None:
    acc = StreamAccumulator(model="m")
    data = (
        '{"choices": [{"delta": {"content": "ab"}}], "content": "ab", "finish": "0",'
        ' "reasoning_content": null}'
    )
    chunk = acc.feed(data)
    assert chunk is not None and chunk.text == "ab"
    acc.feed(
        '{"choices": [], "finish": "1", "usage": {"prompt_tokens": 1,'
        ' "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": 1}}}'
    )
    acc.feed("[DONE]")
    result = acc.result()
    assert result.text == "ab" and acc.finished and acc.done
    assert result.usage is not None
    assert (result.usage.total_tokens, result.usage.cached_tokens) == (3, 1)
