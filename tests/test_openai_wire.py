"""The OpenAI-style formats without a server: roots, parts, bodies, statuses, Responses events."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from yjnb._errors import StreamInterrupted, ValidationError
from yjnb._openai import (
    ResponsesAccumulator,
    api_root,
    chat_body,
    data_url,
    image_items,
    responses_body,
    update_openai_task,
)
from yjnb._types import Task

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


def test_api_root() -> None:
    assert api_root("https://llm.example", "openai", None) == "/v1"
    assert api_root("https://llm.example/v1", "openai", None) == ""  # as the openai SDK wants it
    assert api_root("https://gw.example", "gateway", "google") == "/google/v1"
    with pytest.raises(ValidationError, match="the gateway protocol needs a platform"):
        api_root("https://gw.example", "gateway", None)


def test_data_url(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0jpeg")
    assert data_url(photo, "images") == "data:image/jpeg;base64," + base64.b64encode(
        b"\xff\xd8\xff\xe0jpeg"
    ).decode("ascii")
    assert data_url(PNG, "images").startswith("data:image/png;base64,")
    assert data_url("https://x.example/a.png", "images") == "https://x.example/a.png"
    assert data_url(b"%PDF-1.7", "files").startswith("data:application/pdf;base64,")
    with pytest.raises(ValidationError, match=r"images: cannot read '.*nope.png'"):
        data_url(tmp_path / "nope.png", "images")
    with pytest.raises(
        ValidationError, match="images: expected a path, bytes or a binary file, got float"
    ):
        data_url(3.5, "images")


def test_chat_body_parts_and_history() -> None:
    body = chat_body(
        "what is this?", model="m", system="be brief", stream=True, images=[PNG],
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
    body = chat_body(
        "and this?", model="m", system=None, stream=False, images=[PNG], files=None,
        params={"messages": history},
    )  # fmt: skip
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][0]["content"] == "hi"  # only the last user message gets the parts
    assert body["messages"][2]["content"][1]["type"] == "image_url"
    assert "stream_options" not in body and history[2]["content"] == "and this?"
    with pytest.raises(ValidationError, match="messages must be a list"):
        chat_body("x", model="m", system=None, stream=False, images=None, files=None,
                  params={"messages": "hi"})  # fmt: skip


def test_responses_body() -> None:
    body = responses_body(
        "colour?", model="gpt-4o", system="short", stream=False, images=["https://x/a.png"],
        params={},
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
    task = update_openai_task(Task(taskid="v1"), {"status": wire}, "http://h/v1")
    assert task.status == ours


def test_video_task_progress_failure_and_content_url() -> None:
    task = Task(taskid="v 1")
    update_openai_task(task, {"status": "processing", "progress": 45}, "http://h/v1")
    assert (task.progress, task.done, task.video_url) == (45.0, False, None)
    update_openai_task(task, {"status": "completed", "progress": 100}, "http://h/v1")
    assert task.video_url == "http://h/v1/videos/v%201/content" and task.finished_at
    failed = update_openai_task(
        Task(taskid="v2"), {"status": "FAILURE", "fail_reason": "nsfw"}, "http://h/v1"
    )
    assert (failed.status, failed.error, failed.video_url) == ("FAILED", "nsfw", None)
    nested = update_openai_task(
        Task(taskid="v3"), {"status": "failed", "error": {"message": "quota"}}, "http://h"
    )
    assert nested.error == "quota"


def test_one_data_url_is_not_split_at_its_comma() -> None:
    from yjnb._openai import as_list

    png = "data:image/png;base64," + base64.b64encode(PNG).decode("ascii")
    assert as_list(png) == [png]
    assert as_list("a.png, b.png") == ["a.png", "b.png"]
    assert as_list(None) == [] and as_list((PNG,)) == [PNG]
    body = chat_body("?", model="m", system=None, stream=False, images=png, files=None, params={})
    assert body["messages"][0]["content"][1] == {"type": "image_url", "image_url": {"url": png}}
