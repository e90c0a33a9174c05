"""Chat completions: the seed's exact stream format, determinism, tokens, directives, errors."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from yjnb.emulator import DEMO_KEY, Emulator
from yjnb.emulator.text import count_tokens

from .helpers import CHAT, content_text, sse_lines, stream

SEED_FIRST_KEYS = [
    "id", "object", "created", "choices", "model", "reasoning_content", "content", "finish",
    "llmusageid",
]  # fmt: skip


def test_stream_is_byte_exact_json_dumps(client: httpx.Client) -> None:
    chunks, raw = stream(client, prompt="你是谁")
    lines = sse_lines(raw)
    # Each line is exactly json.dumps of its own parse: key order, ", " separators, \u escapes.
    for line, chunk in zip(lines[:-1], chunks, strict=True):
        assert line == json.dumps(chunk)
    assert "\\u" in raw and not re.search(r"[\u4e00-\u9fff]", raw)
    first, stop, final = chunks[0], chunks[-2], chunks[-1]
    assert list(first) == SEED_FIRST_KEYS
    assert first["choices"] == [
        {"logprobs": None, "index": 0, "delta": {"content": "", "role": "assistant"}}
    ]
    assert first["object"] == "chat.completion.chunk"
    assert re.fullmatch(r"chatcmpl-[0-9a-f-]{36}", first["id"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{21}", first["llmusageid"])
    for c in chunks[1:-2]:
        assert list(c) == SEED_FIRST_KEYS
        assert c["choices"] == [
            {"delta": {"content": c["content"], "role": None}, "index": 0}
        ]  # text twice: in the delta and at top level
        assert c["finish"] == "0" and c["reasoning_content"] is None
    assert stop["choices"] == [
        {"delta": {"content": "", "role": None}, "index": 0, "finish_reason": "stop"}
    ]
    assert list(final) == ["id", "object", "created", "choices", "model", "finish", "usage",
                           "llmusageid"]  # fmt: skip
    assert final["choices"] == [] and final["finish"] == "1"
    assert {c["id"] for c in chunks} == {first["id"]}
    assert {c["llmusageid"] for c in chunks} == {first["llmusageid"]}


def test_usage_counts_match_the_text(client: httpx.Client) -> None:
    chunks, _ = stream(client, prompt="你是谁", sys_prompt="You are helpful.")
    text = content_text(chunks)
    usage = chunks[-1]["usage"]
    content_chunks = [c for c in chunks[1:-2] if c["content"]]
    assert usage["completion_tokens"] == count_tokens(text) == len(content_chunks)
    assert usage["prompt_tokens"] == 3 + 4  # 你 是 谁 + You are helpful .
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0}
    assert 30 <= usage["completion_tokens"] <= 80


def test_cached_tokens_for_a_repeated_sys_prompt(client: httpx.Client) -> None:
    body = {"model": "qwen-plus", "sys_prompt": "Answer in one line please."}
    first = client.post(CHAT, json={**body, "prompt": "one"}).json()
    second = client.post(CHAT, json={**body, "prompt": "two"}).json()
    assert first["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    assert second["usage"]["prompt_tokens_details"]["cached_tokens"] == 6


def test_same_prompt_same_stream(client: httpx.Client) -> None:
    a, _ = stream(client, prompt="Tell me about cats", sys_prompt="s")
    b, _ = stream(client, prompt="Tell me about cats", sys_prompt="s")
    c, _ = stream(client, prompt="Tell me about dogs", sys_prompt="s")
    assert [x["content"] for x in a[:-1]] == [x["content"] for x in b[:-1]]
    assert a[0]["id"] != b[0]["id"]  # ids are per call
    assert content_text(a) != content_text(c)


def test_language_follows_the_prompt(client: httpx.Client) -> None:
    zh = content_text(stream(client, prompt="介绍一下你自己")[0])
    en = content_text(stream(client, prompt="Introduce yourself")[0])
    assert re.search(r"[\u4e00-\u9fff]", zh) and zh.endswith(("。", "！"))
    assert not re.search(r"[\u4e00-\u9fff]", en) and en.endswith(".")
    assert re.fullmatch(r"[A-Za-z ,.]+", en)


def test_max_tokens_sets_the_length(client: httpx.Client) -> None:
    chunks, _ = stream(client, prompt="hello", max_tokens=500)
    assert chunks[-1]["usage"]["completion_tokens"] == 500
    assert len([c for c in chunks[1:-2] if c["content"]]) == 500
    short = client.post(CHAT, json={"model": "qwen3-max", "prompt": "hi", "max_tokens": 5})
    assert short.json()["usage"]["completion_tokens"] == 5
    assert count_tokens(short.json()["content"]) == 5


def test_non_streaming_matches_the_seed_shape(client: httpx.Client) -> None:
    r = client.post(CHAT, json={"model": "qwen3-max", "prompt": "你是谁", "catelogid": "t2t"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["id", "object", "created", "choices", "model", "reasoning_content",
                          "content", "finish", "usage", "llmusageid"]  # fmt: skip
    assert body["object"] == "chat.completion" and body["finish"] == "1"
    message = body["choices"][0]["message"]
    assert message["role"] == "assistant" and message["content"] == body["content"]
    assert body["choices"][0]["finish_reason"] == "stop"
    assert list(body["usage"]) == ["completion_tokens", "prompt_tokens",
                                   "prompt_tokens_details", "total_tokens"]  # fmt: skip
    assert body["usage"]["completion_tokens"] == count_tokens(body["content"])
    streamed = content_text(stream(client, prompt="你是谁")[0])
    assert streamed == body["content"]


def test_reasoning_model_streams_reasoning_first(client: httpx.Client) -> None:
    chunks, _ = stream(client, model="deepseek-r1", prompt="Why is the sky blue?")
    body = chunks[1:-2]
    thinking = [c for c in body if c["reasoning_content"] is not None]
    answer = [c for c in body if c["reasoning_content"] is None]
    assert thinking and answer
    assert body.index(thinking[-1]) < body.index(answer[0])
    for c in thinking:
        delta = c["choices"][0]["delta"]
        assert delta["content"] == "" and c["content"] == ""
        assert delta["reasoning_content"] == c["reasoning_content"]
    reasoning = "".join(c["reasoning_content"] for c in thinking)
    assert reasoning.startswith("Okay, let me think")
    usage = chunks[-1]["usage"]
    assert usage["completion_tokens"] == len(thinking) + len(answer)
    plain = client.post(CHAT, json={"model": "deepseek-r1", "prompt": "Why is the sky blue?"})
    assert plain.json()["reasoning_content"] == reasoning
    assert plain.json()["choices"][0]["message"]["reasoning_content"] == reasoning


def test_echo_directive(client: httpx.Client) -> None:
    prompt = "Please repeat.\necho: The answer is 42, 你好!"
    chunks, _ = stream(client, prompt=prompt)
    assert content_text(chunks) == "The answer is 42, 你好!"
    assert chunks[-1]["usage"]["completion_tokens"] == 8  # The answer is 42 , 你 好 !


def test_json_and_code_directives(client: httpx.Client) -> None:
    r = client.post(CHAT, json={"model": "qwen3-max", "prompt": "Give me json please"})
    text = r.json()["content"]
    block = re.search(r"```json\n(.*?)\n```", text, re.S)
    assert block is not None
    assert set(json.loads(block.group(1))) == {"answer", "confidence", "tags"}
    zh = client.post(CHAT, json={"model": "qwen3-max", "prompt": "用JSON格式回答"}).json()
    assert "```json\n" in zh["content"]
    code = client.post(CHAT, json={"model": "qwen3-max", "prompt": "write some code"}).json()
    assert re.search(r"```python\ndef scale\(.*\n```$", code["content"], re.S)
    assert code["usage"]["completion_tokens"] == count_tokens(code["content"])


def test_openai_messages_are_accepted(client: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "echo: from messages"}]},
    ]
    r = client.post(CHAT, json={"model": "qwen3-max", "messages": messages})
    assert r.json()["content"] == "from messages"
    assert r.json()["usage"]["prompt_tokens"] == 4 + 3  # echo : from messages / Be brief .


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "qwen3-max"}, "Missing required parameter: prompt"),
        ({"model": "qwen3-max", "prompt": ""}, "Missing required parameter: prompt"),
        ({"prompt": "hi"}, "Missing required parameter: model"),
    ],
)
def test_missing_parameters(client: httpx.Client, body: dict[str, str], message: str) -> None:
    r = client.post(CHAT, json=body)
    assert r.status_code == 400
    assert r.json() == {"error": message}


def test_invalid_parameters(client: httpx.Client) -> None:
    r = client.post(CHAT, json={"model": "gpt-9", "prompt": "hi"})
    assert r.status_code == 400 and r.json()["error"].startswith("Invalid parameter: model")
    r = client.post(CHAT, json={"model": "viduq3-pro", "prompt": "hi"})
    assert r.status_code == 400
    r = client.post(CHAT, json={"model": "qwen3-max", "prompt": "hi", "max_tokens": 0})
    assert r.status_code == 400 and "max_tokens" in r.json()["error"]
    r = client.post(CHAT, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json() == {"error": "Invalid JSON body"}


def test_auth_errors(emu: Emulator) -> None:
    body = {"model": "qwen3-max", "prompt": "hi"}
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": DEMO_KEY}):
        r = httpx.post(emu.url + CHAT, json=body, headers=headers)
        assert r.status_code == 401
        assert r.json() == {"error": "Invalid API Key"}


def test_chat_is_charged_per_token(emu: Emulator, client: httpx.Client) -> None:
    before = emu.balance(DEMO_KEY)
    usage = client.post(CHAT, json={"model": "qwen3-max", "prompt": "hi"}).json()["usage"]
    assert emu.balance(DEMO_KEY) == pytest.approx(before - usage["total_tokens"] * 0.002)
    before = emu.balance(DEMO_KEY)
    chunks, _ = stream(client, model="qwen-plus", prompt="hi")
    spent = chunks[-1]["usage"]["total_tokens"] * 0.0005
    assert emu.balance(DEMO_KEY) == pytest.approx(before - spent)


def test_insufficient_balance(emu: Emulator, client: httpx.Client) -> None:
    emu.set_balance(DEMO_KEY, 0)
    r = client.post(CHAT, json={"model": "qwen3-max", "prompt": "hi", "stream": True})
    assert r.status_code == 429
    assert r.json() == {"error": "Insufficient balance"}
    emu.set_balance(DEMO_KEY, 0.001)  # positive: the call runs and the bill goes negative
    assert client.post(CHAT, json={"model": "qwen3-max", "prompt": "hi"}).status_code == 200
    assert emu.balance(DEMO_KEY) < 0
