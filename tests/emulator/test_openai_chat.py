"""The OpenAI-compatible service (seed 004): chat, responses, models, errors and faults."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
import pytest

from yjnb.emulator import DEMO_KEY, Emulator
from yjnb.emulator.media import png_for

from .helpers import openai_chunks, openai_error, sse_events, sse_lines

CHAT = "/v1/chat/completions"
PNG_URL = "data:image/png;base64," + base64.b64encode(png_for("x")).decode()


def ask(client: httpx.Client, content: Any = "echo: hello world", **body: Any) -> httpx.Response:
    messages = body.pop("messages", [{"role": "user", "content": content}])
    headers = body.pop("headers", None)
    body = {"model": "gemini-2.5-pro", "messages": messages, **body}
    return client.post(CHAT, json=body, headers=headers)


def test_completion_has_the_seed_shape(client: httpx.Client) -> None:
    r = ask(client)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert list(body) == ["id", "object", "created", "model", "choices", "usage"]
    assert re.fullmatch(r"foaicmpl-[0-9a-f]{24}", body["id"])
    assert body["object"] == "chat.completion" and body["model"] == "gemini-2.5-pro"
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "hello world"},
            "finish_reason": "stop",
        }
    ]
    assert body["usage"] == {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
    assert r.text == json.dumps(body, separators=(",", ":"))  # compact, like seed 003


def test_stream_chunks_follow_seed_003(client: httpx.Client) -> None:
    r = ask(client, "echo: 你好 world", stream=True)
    assert r.headers["content-type"].startswith("text/event-stream")
    assert "你" in r.text and "\\u" not in r.text  # raw UTF-8
    chunks = openai_chunks(r.text)
    first, stop = chunks[0], chunks[-1]
    assert list(first) == ["id", "object", "created", "model", "choices"]
    assert first["object"] == "chat.completion.chunk"
    assert first["choices"] == [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]
    assert stop["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    middle = chunks[1:-1]
    assert all(c["choices"][0]["finish_reason"] is None for c in middle)
    assert "".join(c["choices"][0]["delta"]["content"] for c in middle) == "你好 world"
    assert {c["id"] for c in chunks} == {first["id"]}
    assert not any("usage" in c for c in chunks)  # only with stream_options.include_usage


def test_stream_options_include_usage(client: httpx.Client) -> None:
    r = ask(client, stream=True, stream_options={"include_usage": True})
    chunks = openai_chunks(r.text)
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}


def test_image_and_file_parts_are_noticed(client: httpx.Client) -> None:
    content = [
        {"type": "text", "text": "echo: what is this"},
        {"type": "image_url", "image_url": {"url": PNG_URL}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0xLjQ="}},
    ]
    body = ask(client, content).json()
    assert body["choices"][0]["message"]["content"] == "I see 2 images and 1 file. what is this"
    assert body["usage"]["prompt_tokens"] == 5 + 2 * 85 + 258
    one = ask(client, [{"type": "image_url", "image_url": {"url": PNG_URL}}]).json()
    assert one["choices"][0]["message"]["content"].startswith("I see 1 image. ")
    plain = ask(client, "echo: hi").json()["choices"][0]["message"]["content"]
    assert plain == "hi"


def test_conversation_uses_the_last_user_message(client: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "echo: first"},
        {"role": "assistant", "content": "first"},
        {"role": "user", "content": "echo: second"},
    ]
    body = ask(client, messages=messages).json()
    assert body["choices"][0]["message"]["content"] == "second"
    assert body["usage"]["prompt_tokens"] == 3 + 3 + 1 + 3


def test_stop_and_max_tokens_cut_the_reply(client: httpx.Client) -> None:
    r = ask(client, "echo: one two three four", stop=[" three", "zzz"])
    assert r.json()["choices"][0]["message"]["content"] == "one two"
    r = ask(client, "echo: one two three four", max_tokens=3)
    assert r.json()["choices"][0]["message"]["content"] == "one two three"
    r = ask(client, "Tell me a story", max_tokens=40, temperature=0.5, top_p=1, user="u1")
    assert r.json()["usage"]["completion_tokens"] == 40


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"temperature": 1.5}, "temperature"),
        ({"top_p": -0.1}, "top_p"),
        ({"frequency_penalty": 3}, "frequency_penalty"),
        ({"presence_penalty": "high"}, "presence_penalty"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 2.5}, "max_tokens"),
        ({"stop": [1]}, "stop"),
        ({"user": 7}, "user"),
        ({"stream": "yes"}, "stream"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "user", "content": ""}]}, "empty"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "role"),
        ({"messages": [{"role": "user", "content": [{"type": "video", "x": 1}]}]}, "video"),
        ({"model": ""}, "model"),
    ],
)
def test_bad_parameters_are_400(client: httpx.Client, extra: dict[str, Any], needle: str) -> None:
    message = openai_error(ask(client, **extra), 400, None)
    assert needle in message
    assert ask(client, **extra).json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "url", ["", "data:image/png;base64,%%%", "data:text/plain,hello", "bm90IGFuIGltYWdl"]
)
def test_bad_images_are_400(client: httpx.Client, url: str) -> None:
    r = ask(
        client, [{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": url}}]
    )
    assert "image_url" in openai_error(r, 400)


def test_unknown_and_wrong_kind_models(client: httpx.Client) -> None:
    r = ask(client, model="no-such-model")
    assert openai_error(r, 404, "model_not_found") == "The model `no-such-model` does not exist"
    assert "not a chat model" in openai_error(ask(client, model="sora-2"), 400, "invalid_model")
    assert ask(client, model="gpt-5.2-anything").status_code == 200  # "GPT全系列"
    assert ask(client, model="auto").status_code == 200


def test_auth_and_quota(emu: Emulator, client: httpx.Client) -> None:
    r = httpx.post(emu.url + CHAT, json={"model": "gpt-4o", "messages": []})
    assert openai_error(r, 401, "invalid_api_key") == "Invalid API Key"
    r = httpx.get(emu.url + "/v1/models", headers={"Authorization": "Bearer nope"})
    openai_error(r, 401)
    emu.set_balance(DEMO_KEY, 0)
    openai_error(ask(client), 429, "insufficient_quota")
    assert client.get("/v1/models").status_code == 200
    emu.set_balance(DEMO_KEY, 10)
    ask(client)
    assert emu.balance(DEMO_KEY) == 10  # tokens are reported, credits never charged


def test_models_list(client: httpx.Client) -> None:
    body = client.get("/v1/models").json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    for name in ("gemini-2.5-pro", "gpt-4o", "claude-sonnet-4-5", "nano-banana-pro", "veo-3.1"):
        assert name in ids
    assert body["data"][1] == {
        "id": ids[1],
        "object": "model",
        "created": 1640995200,
        "owned_by": "openllms",
    }


def test_faults_use_openai_bodies(emu: Emulator, client: httpx.Client) -> None:
    r = ask(client, headers={"X-Emulator-Fault": "status=503"})
    assert "emulated fault" in openai_error(r, 503, "service_unavailable")
    r = client.get("/v1/models", headers={"X-Emulator-Fault": "rate_limit=1;retry_after=4"})
    openai_error(r, 429, "rate_limit_exceeded")
    assert r.headers["Retry-After"] == "4"
    openai_error(client.get("/v1/models", headers={"X-Emulator-Fault": "bogus=1"}), 400)
    emu.set_faults(status=500, path="/v1/chat", times=1)
    assert openai_error(ask(client), 500, "server_error").startswith("Internal server error")
    assert ask(client).status_code == 200
    assert emu.count("POST /v1/chat/completions") == 3
    assert emu.count("GET /v1/models") == 2


def test_stream_faults_apply(client: httpx.Client) -> None:
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Tell me a story"}],
        "stream": True,
    }
    r = client.post(CHAT, json=body, headers={"X-Emulator-Fault": "no_finish=1"})
    lines = sse_lines(r.text)
    assert "[DONE]" not in lines
    assert all(json.loads(x)["choices"][0]["finish_reason"] is None for x in lines)
    got = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("POST", CHAT, json=body, headers={"X-Emulator-Fault": "drop_after=3"}) as s,
    ):
        for line in s.iter_lines():
            if line.startswith("data: "):
                got.append(line)
    assert len(got) == 3


def test_unknown_v1_route_is_an_openai_404(client: httpx.Client) -> None:
    assert "GET /v1/nothing" in openai_error(client.get("/v1/nothing"), 404, "not_found")
    openai_error(client.get(CHAT), 405)


# ---- /v1/responses ---------------------------------------------------------------------


def test_responses_whole(client: httpx.Client) -> None:
    r = client.post("/v1/responses", json={"model": "gpt-4o", "input": "echo: 蓝色"})
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["id", "object", "created_at", "model", "status", "output", "usage"]
    assert body["id"].startswith("resp_") and body["object"] == "response"
    assert body["status"] == "completed" and body["model"] == "gpt-4o"
    [message] = body["output"]
    assert message["type"] == "message" and message["id"].startswith("msg_")
    assert message["role"] == "assistant" and message["status"] == "completed"
    assert message["content"] == [{"type": "output_text", "text": "蓝色", "annotations": []}]
    assert body["usage"] == {"input_tokens": 4, "output_tokens": 2, "total_tokens": 6}


def test_responses_with_images(client: httpx.Client) -> None:
    content = [
        {"type": "input_text", "text": "echo: colour?"},
        {"type": "input_image", "image_url": PNG_URL},
        {"type": "input_image", "image_url": "https://storage.example/bg.png"},
    ]
    body = {"model": "gpt-4o-mini", "input": [{"role": "user", "content": content}]}
    r = client.post("/v1/responses", json=body)
    text = r.json()["output"][0]["content"][0]["text"]
    assert text == "I see 2 images. colour?"
    bad = {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}
    body["input"] = [{"role": "user", "content": [*content, bad]}]
    openai_error(client.post("/v1/responses", json=body), 400, "invalid_image_format")


def test_responses_stream(client: httpx.Client) -> None:
    r = client.post(
        "/v1/responses", json={"model": "gpt-4o", "input": "echo: a b c", "stream": True}
    )
    events = sse_events(r.text)
    kinds = [kind for kind, _ in events]
    assert kinds == ["response.created"] + ["response.output_text.delta"] * 3 + [
        "response.completed"
    ]
    assert all(data["type"] == kind for kind, data in events)
    assert events[0][1]["response"]["status"] == "in_progress"
    assert "".join(d["delta"] for k, d in events if k.endswith(".delta")) == "a b c"
    final = events[-1][1]["response"]
    assert final["status"] == "completed"
    assert final["output"][0]["content"][0]["text"] == "a b c"
    assert final["id"] == events[0][1]["response"]["id"]


def test_responses_errors(client: httpx.Client) -> None:
    r = client.post("/v1/responses", json={"model": "gemini-2.5-pro", "input": "hi"})
    message = openai_error(r, 400, "unsupported_model")
    assert message == "The responses API supports OpenAI series models only"
    openai_error(client.post("/v1/responses", json={"model": "nope", "input": "hi"}), 404)
    openai_error(client.post("/v1/responses", json={"model": "gpt-4o"}), 400)
    openai_error(client.post("/v1/responses", json={"model": "gpt-4o", "input": " "}), 400)
    assert client.post("/google/v1/responses", json={}).status_code == 404  # openai only
