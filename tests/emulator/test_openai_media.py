"""``/v1`` images (generations, edits) and Sora-2 compatible videos (seed 004)."""

from __future__ import annotations

import base64
import re
import struct
from typing import Any

import httpx
import pytest

from yjnb.emulator import DEMO_KEY, Emulator
from yjnb.emulator.media import asset, png_for

from .helpers import openai_error

GEN = "/v1/images/generations"
EDIT = "/v1/images/edits"
VIDEOS = "/v1/videos"
PNG = png_for("input")
JPEG = asset("cover.jpeg")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def files(n: int, name: str = "image") -> list[tuple[str, tuple[str, bytes, str]]]:
    return [(name, (f"in{i}.png", png_for(f"in{i}"), "image/png")) for i in range(n)]


# ---- images ----------------------------------------------------------------------------


def test_generation_b64_json(client: httpx.Client) -> None:
    r = client.post(GEN, json={"model": "nano-banana-pro", "prompt": "A cute sea otter"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["created", "data", "usage"] and isinstance(body["created"], int)
    [item] = body["data"]
    assert list(item) == ["b64_json"]
    assert png_size(base64.b64decode(item["b64_json"])) == (128, 128)
    assert body["usage"] == {
        "total_tokens": 1294,
        "input_tokens": 4,
        "output_tokens": 1290,
        "input_tokens_details": {"text_tokens": 4, "image_tokens": 0},
    }
    again = client.post(GEN, json={"model": "nano-banana-pro", "prompt": "A cute sea otter"})
    other = client.post(GEN, json={"model": "nano-banana-pro", "prompt": "A dog"})
    assert again.json()["data"] == body["data"] != other.json()["data"]


@pytest.mark.parametrize(
    ("size", "pixels"),
    [("16:9", (128, 72)), ("9:16", (72, 128)), ("1024x1024", (128, 128)), ("512x256", (128, 64))],
)
def test_generation_sizes(client: httpx.Client, size: str, pixels: tuple[int, int]) -> None:
    r = client.post(GEN, json={"model": "nano-banana", "prompt": "p", "size": size})
    assert png_size(base64.b64decode(r.json()["data"][0]["b64_json"])) == pixels


def test_generation_url_n_and_form(emu: Emulator, client: httpx.Client) -> None:
    body = {"model": "dall-e-3", "prompt": "sky", "n": 3, "response_format": "url"}
    data = client.post(GEN, json=body).json()["data"]
    assert len(data) == 3 and len({d["url"] for d in data}) == 3
    for item in data:
        assert re.fullmatch(re.escape(emu.url) + r"/files/img_[0-9a-f]{24}\.png", item["url"])
        got = httpx.get(item["url"])  # no key needed
        assert got.headers["content-type"] == "image/png" and png_size(got.content)
    form = client.post(GEN, data={"model": "nano-banana", "prompt": "sky", "n": "2"})
    assert len(form.json()["data"]) == 2
    openai_error(httpx.get(emu.url + "/files/img_nope.png"), 404)


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"prompt": "x"}, 400, "model"),
        ({"model": "nano-banana", "prompt": ""}, 400, "prompt"),
        ({"model": "nano-banana", "prompt": "x", "n": 5}, 400, "n 5"),
        ({"model": "nano-banana", "prompt": "x", "size": "7:5"}, 400, "size"),
        ({"model": "nano-banana", "prompt": "x", "response_format": "png"}, 400, "response_format"),
        ({"model": "midjourney", "prompt": "x"}, 404, "does not exist"),
        ({"model": "gpt-4o", "prompt": "x"}, 400, "not an image model"),
    ],
)
def test_generation_errors(
    client: httpx.Client, body: dict[str, Any], status: int, needle: str
) -> None:
    assert needle in openai_error(client.post(GEN, json=body), status)


def test_edit_multipart_with_mask(client: httpx.Client) -> None:
    data = {"model": "nano-banana-pro", "prompt": "Put the cloth on the girl", "size": "16:9"}
    mask = [("mask", ("mask.png", PNG, "image/png"))]
    r = client.post(EDIT, data=data, files=[*files(2), *mask])
    assert r.status_code == 200, r.text
    body = r.json()
    assert png_size(base64.b64decode(body["data"][0]["b64_json"])) == (128, 72)
    assert body["usage"]["input_tokens_details"]["image_tokens"] == 3 * 258
    other = client.post(EDIT, data=data, files=files(1)).json()
    assert other["data"] != body["data"]  # the inputs change the picture
    b64_mask = {**data, "mask": base64.b64encode(PNG).decode()}
    assert client.post(EDIT, data=b64_mask, files=files(1)).status_code == 200


def test_edit_accepts_up_to_seven_images(client: httpx.Client) -> None:
    data = {"model": "nano-banana-pro", "prompt": "collage"}
    ok = client.post(EDIT, data=data, files=files(4) + files(3, "image[]"))
    assert ok.json()["usage"]["input_tokens_details"]["image_tokens"] == 7 * 258
    too_many = client.post(EDIT, data=data, files=files(8))
    assert "at most 7" in openai_error(too_many, 400, "too_many_images")


def test_edit_json_with_urls_and_base64(client: httpx.Client) -> None:
    image = [
        "https://example.com/a.png",
        "data:image/jpeg;base64," + base64.b64encode(JPEG).decode(),
    ]
    r = client.post(EDIT, json={"model": "nano-banana", "prompt": "mix", "image": image})
    assert r.status_code == 200 and len(r.json()["data"]) == 1


@pytest.mark.parametrize(
    ("upload", "needle"),
    [(None, "Missing required parameter: image"), (b"not an image", "PNG, JPEG"), (b"", "empty")],
)
def test_edit_bad_inputs(client: httpx.Client, upload: bytes | None, needle: str) -> None:
    data = {"model": "nano-banana", "prompt": "x"}
    up = [("image", ("a.png", upload, "image/png"))] if upload is not None else None
    r = client.post(EDIT, data=data, files=up) if up else client.post(EDIT, data=data)
    assert needle in openai_error(r, 400)


def test_images_faults(emu: Emulator, client: httpx.Client) -> None:
    body = {"model": "nano-banana", "prompt": "x"}
    r = client.post(GEN, json=body, headers={"X-Emulator-Fault": "status=503"})
    openai_error(r, 503)
    emu.set_faults(rate_limit=1, path="/v1/images/edits")
    openai_error(client.post(EDIT, data=body, files=files(1)), 429)
    assert client.post(GEN, json=body).status_code == 200
    assert emu.count("POST /v1/images/generations") == 2
    assert emu.count("POST /v1/images/edits") == 1


# ---- videos ----------------------------------------------------------------------------


def create(client: httpx.Client, **body: Any) -> dict[str, Any]:
    r = client.post(VIDEOS, json={"model": "sora-2", "prompt": "a cat running", **body})
    assert r.status_code == 200, r.text
    return dict(r.json())


def get(client: httpx.Client, video_id: str) -> dict[str, Any]:
    r = client.get(f"{VIDEOS}/{video_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_video_lifecycle(emu: Emulator, client: httpx.Client) -> None:
    emu.set_speed(1e-6)  # advance() alone moves the job clock
    job = create(client, seconds="8", size="1280x720")
    assert re.fullmatch(r"video_[0-9a-f]{24}", job["id"])
    assert job == {
        "id": job["id"],
        "object": "video",
        "model": "sora-2",
        "status": "pending",
        "progress": 0,
        "fail_reason": None,
        "created_at": job["created_at"],
        "seconds": "8",
        "size": "1280x720",
    }
    r = client.get(f"{VIDEOS}/{job['id']}/content")
    assert "pending" in openai_error(r, 400, "video_not_ready")
    emu.advance(2.0)
    seen = []
    for _ in range(4):
        emu.advance(4.0)
        state = get(client, job["id"])
        seen.append((state["status"], state["progress"]))
    assert [s for s, _ in seen] == ["processing"] * 4
    assert [p for _, p in seen] == [20, 40, 60, 80]  # rising through processing
    emu.advance(4.0)
    done = get(client, job["id"])
    assert (done["status"], done["progress"], done["fail_reason"]) == ("completed", 100, None)
    video = client.get(f"{VIDEOS}/{job['id']}/content")
    assert video.headers["content-type"] == "video/mp4" and video.content[4:8] == b"ftyp"
    thumb = client.get(f"{VIDEOS}/{job['id']}/content", params={"variant": "thumbnail"})
    assert thumb.headers["content-type"] == "image/jpeg"


def test_video_defaults_and_multipart(client: httpx.Client) -> None:
    assert (create(client)["seconds"], create(client)["size"]) == ("4", "720x1280")
    veo = create(client, model="veo-3.1")
    assert (veo["seconds"], veo["size"]) == ("8", "1280x720")
    r = client.post(
        VIDEOS,
        data={"model": "veo-3.1", "prompt": "cat on grass", "seconds": "8"},
        files=[("input_reference", ("ref.jpg", JPEG, "image/jpeg"))],
    )
    assert r.status_code == 200 and r.json()["model"] == "veo-3.1"
    assert create(client, seconds=12, input_reference="https://x.test/a.png")["seconds"] == "12"


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"model": "veo-3.1", "seconds": "4"}, 400, "seconds '4' for veo-3.1"),
        ({"seconds": "5"}, 400, "seconds"),
        ({"size": "1024x1792"}, 400, "size '1024x1792' for sora-2"),
        ({"model": "sora-3"}, 404, "The model `sora-3` does not exist"),
        ({"model": "dall-e-3"}, 400, "not a video model"),
        ({"prompt": ""}, 400, "prompt"),
        ({"input_reference": "zzz"}, 400, "input_reference"),
    ],
)
def test_video_rules(client: httpx.Client, body: dict[str, Any], status: int, needle: str) -> None:
    r = client.post(VIDEOS, json={"model": "sora-2", "prompt": "cat", **body})
    assert needle in openai_error(r, status)


def test_pro_succeeds_and_fails_with_its_own_spelling(emu: Emulator, client: httpx.Client) -> None:
    emu.set_speed(1e-6)
    pro = create(client, model="sora-2-pro", size="1792x1024")
    fault = {"X-Emulator-Fault": "task=fail"}
    body = {"model": "sora-2-pro", "prompt": "x"}
    bad_pro = client.post(VIDEOS, json=body, headers=fault).json()
    bad = client.post(VIDEOS, json={**body, "model": "sora-2"}, headers=fault).json()
    emu.advance(12.0)
    failed = get(client, bad["id"])
    assert (failed["status"], failed["progress"]) == ("failed", 50)
    assert "emulated fault" in failed["fail_reason"]
    assert failed["error"]["code"] == "video_generation_failed"
    assert get(client, bad_pro["id"])["status"] == "FAILURE"
    assert get(client, pro["id"])["status"] == "processing"
    emu.advance(1e6)
    assert get(client, pro["id"])["status"] == "succeeded"
    assert client.get(f"{VIDEOS}/{pro['id']}/content").status_code == 200
    openai_error(client.get(f"{VIDEOS}/{bad['id']}/content"), 400, "video_not_ready")


def test_stuck_video_stays_processing(emu: Emulator, client: httpx.Client) -> None:
    emu.set_faults(task="stuck", path="/v1/videos")
    job = create(client)
    emu.advance(1e6)
    assert (get(client, job["id"])["status"], get(client, job["id"])["progress"]) == (
        "processing",
        99,
    )


def test_remix(emu: Emulator, client: httpx.Client) -> None:
    emu.set_speed(1e-6)
    source = create(client, seconds="8")
    r = client.post(f"{VIDEOS}/{source['id']}/remix", json={"prompt": "now in snow"})
    assert "remix needs a completed video" in openai_error(r, 400, "video_not_ready")
    emu.advance(1e6)
    remix = client.post(f"{VIDEOS}/{source['id']}/remix", json={"prompt": "now in snow"}).json()
    assert remix["remixed_from_video_id"] == source["id"] and remix["id"] != source["id"]
    assert (remix["model"], remix["seconds"], remix["status"]) == ("sora-2", "8", "pending")
    r = client.post(f"{VIDEOS}/video_nope/remix", json={"prompt": "x"})
    assert "video_nope" in openai_error(r, 404, "not_found")


def test_videos_belong_to_their_key(emu: Emulator, client: httpx.Client) -> None:
    job = create(client)
    emu.add_key("yj-other")
    other = {"Authorization": "Bearer yj-other"}
    openai_error(client.get(f"{VIDEOS}/{job['id']}", headers=other), 404)
    openai_error(client.get(f"{VIDEOS}/video_unknown"), 404)
    openai_error(client.get(f"/google/v1/videos/{job['id']}"), 404)  # not a gateway job
    emu.set_balance(DEMO_KEY, 0)
    openai_error(client.post(VIDEOS, json={"model": "sora-2", "prompt": "x"}), 429)
    assert get(client, job["id"])["id"] == job["id"]
