"""The OpenAI-style protocols without a server: roots, parts, bodies, statuses, Responses events."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from yjnb._client import load_attachment
from yjnb._errors import StreamInterrupted, ValidationError
from yjnb._prepare import as_list, prepare_chat
from yjnb._types import Task
from yjnb.protocols import create
from yjnb.protocols._openai_wire import ResponsesAccumulator, data_url, image_items

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
OPENAI = create("openai", "http://h")


def chat_body(
    prompt: str, *, images: Any = None, files: Any = None, protocol: str = "gateway", **kw: Any
) -> dict[str, Any]:
    """The JSON body a protocol builds for a chat, checked as the client checks it."""
    sent = create(protocol, "http://h", "google")
    chat = prepare_chat(
        sent, prompt, profile="p", images=images, files=files, model=kw.pop("model", "m"), **kw
    )
    loaded = [load_attachment(i, "images") for i in chat.images]
    body = sent.chat_request(chat, loaded, [load_attachment(f, "files") for f in chat.files]).json
    assert body is not None
    return body


def update_openai_task(task: Task, body: dict[str, Any], base_url: str = "http://h") -> Task:
    create("openai", base_url).parse_status(task, body)
    return task


def test_api_root() -> None:
    assert create("openai", "https://llm.example").root() == "/v1"
    # A base URL ending in /v1, as the openai SDK wants it, is not doubled.
    assert create("openai", "https://llm.example/v1").root() == ""
    assert create("gateway", "https://gw.example", "google").root() == "/google/v1"
    assert create("gateway", "https://gw.example").root("openai") == "/openai/v1"
    with pytest.raises(ValidationError, match="the gateway protocol needs a platform"):
        create("gateway", "https://gw.example").root()


def test_data_url(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0jpeg")
    assert data_url(load_attachment(photo, "images")) == "data:image/jpeg;base64," + (
        base64.b64encode(b"\xff\xd8\xff\xe0jpeg").decode("ascii")
    )
    assert data_url(load_attachment(PNG, "images")).startswith("data:image/png;base64,")
    url = "https://x.example/a.png"
    assert data_url(load_attachment(url, "images")) == url
    assert data_url(load_attachment(b"%PDF-1.7", "files")).startswith(
        "data:application/pdf;base64,"
    )
    with pytest.raises(ValidationError, match=r"images: cannot read '.*nope.png'"):
        load_attachment(tmp_path / "nope.png", "images")
    with pytest.raises(
        ValidationError, match="images: expected a path, bytes or a binary file, got float"
    ):
        load_attachment(3.5, "images")


def test_chat_body_parts_and_history() -> None:
    body = chat_body(
        "what is this?", system="be brief", stream=True, images=[PNG],
        files=["https://x.example/doc.pdf"], params={"temperature": 0.2},
    )  # fmt: skip
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    parts = body["messages"][1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url", "file"]
    assert parts[0]["text"] == "what is this?"
    assert parts[2]["file"]["file_data"] == "https://x.example/doc.pdf"
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.2

    history = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "and this?"},
    ]
    body = chat_body("and this?", images=[PNG], params={"messages": history})
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][0]["content"] == "hi"  # only the last user message gets the parts
    assert body["messages"][2]["content"][1]["type"] == "image_url"
    assert "stream_options" not in body and history[2]["content"] == "and this?"
    with pytest.raises(ValidationError, match="messages must be a list"):
        chat_body("x", params={"messages": "hi"})


def test_responses_body() -> None:
    body = chat_body(
        "colour?", model="gpt-4o", system="short", images=["https://x/a.png"], api="responses",
        protocol="openai",
    )  # fmt: skip
    assert body["instructions"] == "short"
    assert body["input"] == [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "colour?"},
                {"type": "input_image", "image_url": "https://x/a.png"},
            ],
        }
    ]


def test_responses_accumulator_events() -> None:
    acc = ResponsesAccumulator(model="gpt-4o", prompt="p")
    events = [
        {"type": "response.created", "response": {"id": "resp_1"}},
        {"type": "response.output_text.delta", "delta": "Hel"},
        {"type": "response.output_text.delta", "delta": "lo"},
        {
            "type": "response.completed",
            "response": {"id": "resp_1", "model": "gpt-4o-2024",
                         "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}},
        },
    ]  # fmt: skip
    chunks = [acc.feed(json.dumps(e)) for e in events]
    assert [c.text for c in chunks if c] == ["Hel", "lo"]
    result = acc.result()
    assert (result.text, result.id, result.model) == ("Hello", "resp_1", "gpt-4o-2024")
    assert result.usage is not None and (result.usage.prompt_tokens, result.usage.total_tokens) == (
        3,
        5,
    )
    assert acc.finished and acc.done
    broken = ResponsesAccumulator(model="gpt-4o")
    broken.feed(json.dumps({"type": "response.output_text.delta", "delta": "par"}))
    with pytest.raises(StreamInterrupted) as info:
        broken.feed(json.dumps({"type": "response.failed", "response": {"error": "boom"}}))
    assert info.value.partial_text == "par"


def test_image_items_accepts_both_base64_spellings() -> None:
    body = {
        "data": [{"b64_json": "data:image/png;base64,QUJD"}, {"b64_json": "REVG"}, {"url": "u"}]
    }
    assert image_items(body) == [("b64", "QUJD"), ("b64", "REVG"), ("url", "u")]
    assert image_items({"data": [{}, "x"]}) == []


@pytest.mark.parametrize(
    ("wire", "ours"),
    [
        ("pending", "PENDING"),
        ("queued", "PENDING"),
        ("processing", "RUNNING"),
        ("in_progress", "RUNNING"),
        ("completed", "SUCCEEDED"),
        ("succeeded", "SUCCEEDED"),
        ("failed", "FAILED"),
        ("FAILURE", "FAILED"),
        ("weird", "WEIRD"),
    ],
)
def test_video_statuses(wire: str, ours: str) -> None:
    task = update_openai_task(Task(taskid="v1"), {"status": wire})
    assert task.status == ours


def test_video_task_progress_failure_and_content_url() -> None:
    task = Task(taskid="v 1")
    update_openai_task(task, {"status": "processing", "progress": 45})
    assert (task.progress, task.done, task.video_url) == (45.0, False, None)
    update_openai_task(task, {"status": "completed", "progress": 100})
    assert task.video_url == "http://h/v1/videos/v%201/content" and task.finished_at
    failed = update_openai_task(Task(taskid="v2"), {"status": "FAILURE", "fail_reason": "nsfw"})
    assert (failed.status, failed.error, failed.video_url) == ("FAILED", "nsfw", None)
    nested = update_openai_task(
        Task(taskid="v3"), {"status": "failed", "error": {"message": "quota"}}
    )
    assert nested.error == "quota"


def test_one_data_url_is_not_split_at_its_comma() -> None:
    png = "data:image/png;base64," + base64.b64encode(PNG).decode("ascii")
    assert as_list(png) == [png]
    assert as_list("a.png, b.png") == ["a.png", "b.png"]
    assert as_list(None) == [] and as_list((PNG,)) == [PNG]
    body = chat_body("?", images=png)
    assert body["messages"][0]["content"][1] == {"type": "image_url", "image_url": {"url": png}}
