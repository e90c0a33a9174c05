"""The multi-platform gateway (seed 003): ``/{platform}/v1/...`` beside ``/llmage`` and ``/v1``."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from yjnb.emulator import Emulator
from yjnb.emulator.media import png_for

from .helpers import CHAT as LLMAGE_CHAT
from .helpers import openai_chunks, openai_error

PNG = png_for("gateway input")
B64 = base64.b64encode(PNG).decode()


def test_platform_model_lists(client: httpx.Client) -> None:
    expected = {
        "openai": ["gpt-4o", "gpt-4o-mini", "dall-e-3", "sora-2"],
        "google": [
            "gemini-2.5-pro",
            "gemini-2.5-flash",
            "nano-banana",
            "nano-banana-pro",
            "veo-3.1",
        ],
        "doubao": ["doubao-seed-1.6", "seedream-4.0", "seedance-1.0-pro"],
        "qwen": ["qwen3-max", "qwen-vl-max", "wan2.5-t2i", "wan2.5-t2v"],
    }
    for platform, names in expected.items():
        body = client.get(f"/{platform}/v1/models").json()
        assert body["object"] == "list"
        assert [m["id"] for m in body["data"]] == names
        assert {m["owned_by"] for m in body["data"]} == {platform}
        assert {m["created"] for m in body["data"]} == {1640995200}


def test_unknown_platform_and_llmage_is_not_one(client: httpx.Client) -> None:
    r = client.get("/azure/v1/models")
    assert "Unknown platform `azure`" in openai_error(r, 404, "platform_not_found")
    r = client.post("/llmage/v1/videos", json={"model": "sora-2", "prompt": "x"})
    openai_error(r, 404, "platform_not_found")
    # the Yuanjing routes under /llmage/v1 still win over /{platform}/v1
    r = client.post(LLMAGE_CHAT, json={"model": "qwen3-max", "prompt": "echo: still here"})
    assert r.json()["content"] == "still here"
    assert client.get("/llmage/v1/models").json()["data"][0]["catelogid"] == "t2t"


def test_chat_on_a_platform(client: httpx.Client) -> None:
    content = [
        {"type": "text", "text": "echo: summarise"},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0xLjQ="}},
        {"type": "file", "file": {"file_data": "https://example.com/report.pdf"}},
        {"type": "image_url", "image_url": {"url": B64}},  # bare base64, as seed 003 allows
    ]
    body = {"model": "qwen-vl-max", "messages": [{"role": "user", "content": content}]}
    r = client.post("/qwen/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    reply = r.json()
    assert reply["object"] == "chat.completion" and reply["model"] == "qwen-vl-max"
    assert reply["choices"][0]["message"]["content"] == "I see 1 image and 2 files. summarise"
    stream = client.post("/qwen/v1/chat/completions", json={**body, "stream": True})
    chunks = openai_chunks(stream.text)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "I see 1 image and 2 files. summarise"


def test_models_must_belong_to_the_platform(client: httpx.Client) -> None:
    body = {"model": "gemini-2.5-pro", "messages": [{"role": "user", "content": "hi"}]}
    r = client.post("/doubao/v1/chat/completions", json=body)
    message = openai_error(r, 404, "model_not_found")
    assert message == "model gemini-2.5-pro is not available on platform doubao"
    r = client.post("/google/v1/chat/completions", json={**body, "model": "veo-3.1"})
    openai_error(r, 400, "invalid_model")
    r = client.post("/google/v1/videos", json={"model": "sora-2", "prompt": "x"})
    openai_error(r, 404, "model_not_found")


# ---- images ----------------------------------------------------------------------------


def poll_image(client: httpx.Client, platform: str, task_id: str) -> dict[str, Any]:
    r = client.get(f"/{platform}/v1/images/{task_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_sync_generation_multipart_and_json(client: httpx.Client) -> None:
    r = client.post(
        "/google/v1/images/generations", data={"prompt": "a fox", "model": "nano-banana"}
    )
    assert r.status_code == 200, r.text
    assert base64.b64decode(r.json()["data"][0]["b64_json"])[:4] == b"\x89PNG"
    r = client.post(
        "/doubao/v1/images/generations",
        json={"prompt": "a fox", "model": "seedream-4.0", "response_format": "url"},
    )
    assert httpx.get(r.json()["data"][0]["url"]).content[:4] == b"\x89PNG"


def test_async_generation_is_a_polled_task(emu: Emulator, client: httpx.Client) -> None:
    emu.set_speed(1e-6)
    r = client.post(
        "/google/v1/images/generations?async=true",
        json={"prompt": "a fox", "model": "nano-banana-pro", "response_format": "url"},
    )
    task = r.json()
    assert task["id"].startswith("imgtask_") and task["object"] == "image.task"
    assert (task["model"], task["status"], task["progress"]) == ("nano-banana-pro", "pending", 0)
    assert isinstance(task["created_at"], int) and "data" not in task
    emu.advance(3.0)
    running = poll_image(client, "google", task["id"])
    assert (running["status"], running["progress"]) == ("processing", 50)
    emu.advance(2.0)
    done = poll_image(client, "google", task["id"])
    assert (done["status"], done["progress"]) == ("completed", 100)
    assert done["usage"]["output_tokens"] == 1290
    assert httpx.get(done["data"][0]["url"]).headers["content-type"] == "image/png"
    openai_error(client.get(f"/openai/v1/images/{task['id']}"), 404)  # another platform
    openai_error(client.get("/google/v1/images/imgtask_nope"), 404, "not_found")


def test_async_edit_json_and_failure(emu: Emulator, client: httpx.Client) -> None:
    emu.set_speed(1e-6)
    body = {"prompt": "make it blue", "model": "wan2.5-t2i", "image": B64, "async": True}
    ok = client.post("/qwen/v1/images/edits", json=body).json()
    bad = client.post(
        "/qwen/v1/images/edits", json=body, headers={"X-Emulator-Fault": "task=fail"}
    ).json()
    emu.advance(1e6)
    done = poll_image(client, "qwen", ok["id"])
    assert done["status"] == "completed"
    assert done["usage"]["input_tokens_details"]["image_tokens"] == 258
    assert base64.b64decode(done["data"][0]["b64_json"])[:4] == b"\x89PNG"
    failed = poll_image(client, "qwen", bad["id"])
    assert failed["status"] == "failed" and "emulated fault" in failed["fail_reason"]
    assert "data" not in failed


def test_edit_with_image_array_fields(client: httpx.Client) -> None:
    files = [("image[]", (f"{i}.png", PNG, "image/png")) for i in range(2)]
    r = client.post(
        "/openai/v1/images/edits?async=false",
        data={"prompt": "merge", "model": "dall-e-3"},
        files=files,
    )
    assert r.status_code == 200 and "created" in r.json()
    files = [("image[]", (f"{i}.png", PNG, "image/png")) for i in range(8)]
    r = client.post(
        "/openai/v1/images/edits", data={"prompt": "merge", "model": "dall-e-3"}, files=files
    )
    openai_error(r, 400, "too_many_images")


# ---- videos ----------------------------------------------------------------------------


def video(client: httpx.Client, platform: str, model: str, **extra: Any) -> dict[str, Any]:
    headers = extra.pop("headers", None)
    body = {"prompt": "a cat", "model": model, **extra}
    r = client.post(f"/{platform}/v1/videos", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def status(client: httpx.Client, platform: str, video_id: str, **params: str) -> dict[str, Any]:
    r = client.get(f"/{platform}/v1/videos/{video_id}", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_video_detail_and_download(emu: Emulator, client: httpx.Client) -> None:
    emu.set_speed(1e-6)
    refs = [("input_reference[]", (f"{i}.png", PNG, "image/png")) for i in range(2)]
    r = client.post("/google/v1/videos", data={"prompt": "a cat", "model": "veo-3.1"}, files=refs)
    job = r.json()
    assert (job["status"], job["seconds"], job["size"]) == ("pending", "8", "1280x720")
    plain = status(client, "google", job["id"])
    assert "detail" not in plain
    emu.advance(12.0)
    detailed = status(client, "google", job["id"], detail="true")
    assert (detailed["status"], detailed["progress"]) == ("processing", 50)
    assert detailed["detail"]["platform"] == "google"
    assert detailed["detail"]["input_references"] == 2
    assert detailed["detail"]["prompt"] == "a cat"
    openai_error(client.get(f"/google/v1/videos/{job['id']}/content"), 400, "video_not_ready")
    emu.advance(1e6)
    assert status(client, "google", job["id"])["status"] == "completed"
    mp4 = client.get(f"/google/v1/videos/{job['id']}/content")
    assert mp4.headers["content-type"] == "video/mp4" and mp4.content[4:8] == b"ftyp"


@pytest.mark.parametrize(
    ("platform", "model", "success", "failure"),
    [
        ("doubao", "seedance-1.0-pro", "succeeded", "failed"),
        ("qwen", "wan2.5-t2v", "completed", "FAILURE"),
        ("openai", "sora-2", "completed", "failed"),
    ],
)
def test_video_status_spellings(
    emu: Emulator, client: httpx.Client, platform: str, model: str, success: str, failure: str
) -> None:
    emu.set_speed(1e-6)
    ok = video(client, platform, model, input_reference=[B64, "https://x.test/ref.png"])
    bad = video(client, platform, model, headers={"X-Emulator-Fault": "task=fail"})
    emu.advance(1e6)
    assert status(client, platform, ok["id"])["status"] == success
    failed = status(client, platform, bad["id"])
    assert failed["status"] == failure and failed["fail_reason"]


def test_gateway_remix(emu: Emulator, client: httpx.Client) -> None:
    emu.set_speed(1e-6)
    source = video(client, "doubao", "seedance-1.0-pro", seconds="10", size="1920x1080")
    emu.advance(1e6)
    r = client.post(
        f"/doubao/v1/videos/{source['id']}/remix",
        data={"prompt": "at night", "model": "seedance-1.0-pro"},
        files=[("input_reference[]", ("r.png", PNG, "image/png"))],
    )
    remix = r.json()
    assert remix["remixed_from_video_id"] == source["id"]
    assert (remix["seconds"], remix["size"], remix["status"]) == ("10", "1920x1080", "pending")
    emu.advance(1e6)
    assert status(client, "doubao", remix["id"])["status"] == "succeeded"
    r = client.post("/doubao/v1/videos/video_missing/remix", json={"prompt": "x"})
    openai_error(r, 404)
    r = client.post(f"/qwen/v1/videos/{source['id']}/remix", json={"prompt": "x"})
    openai_error(r, 404)  # jobs live on their own platform


def test_gateway_faults_and_counts(emu: Emulator, client: httpx.Client) -> None:
    emu.set_faults(status=503, path="/google/")
    openai_error(client.get("/google/v1/models"), 503, "service_unavailable")
    assert client.get("/qwen/v1/models").status_code == 200
    emu.set_faults()
    r = client.get("/qwen/v1/models", headers={"X-Emulator-Fault": "rate_limit=1"})
    openai_error(r, 429, "rate_limit_exceeded")
    r = httpx.get(emu.url + "/qwen/v1/models")
    openai_error(r, 401, "invalid_api_key")
    assert emu.count("GET /google/v1/models") == 1
    assert emu.count("GET /qwen/v1/models") == 3
