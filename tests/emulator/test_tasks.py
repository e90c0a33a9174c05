"""Image and video tasks: submission shapes, validation, pricing, the state machine."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from yjnb.emulator import DEMO_KEY, Emulator

VIDEO = "/llmage/v1/video/generations"
IMAGE = "/llmage/v1/image/generations"
TASKS = "/llmage/v1/tasks"
JPEG = b"\xff\xd8\xff\xe0fake-jpeg"


def submit(client: httpx.Client, path: str = VIDEO, **body: Any) -> httpx.Response:
    return client.post(
        path, json={"model": "viduq3-pro", "catelogid": "t2v", "prompt": "cat", **body}
    )


def status(client: httpx.Client, taskid: str) -> dict[str, Any]:
    r = client.get(TASKS, params={"taskid": taskid})
    assert r.status_code == 200, r.text
    return r.json()


def test_video_task_walks_through_every_state(emu: Emulator, client: httpx.Client) -> None:
    emu.set_speed(1e-6)  # freeze the wall clock's share; advance() steps it exactly
    r = submit(client, duration=1, resolution="540p")
    assert r.status_code == 200
    taskid = r.json()["taskid"]
    assert r.json() == {"taskid": taskid, "status": "CREATED"} and taskid.isdigit()
    assert status(client, taskid) == {"taskid": taskid, "status": "CREATED"}
    emu.advance(2.0)
    assert status(client, taskid)["status"] == "PENDING"
    emu.advance(4.0)
    assert status(client, taskid)["status"] == "RUNNING"
    emu.advance(20.0)
    done = status(client, taskid)
    assert done["status"] == "SUCCEEDED" and done["taskid"] == taskid
    assert done["usage"] == {
        "action": "t2v",
        "credits": 10,
        "type": "text2video",
        "model": "viduq3-pro",
        "resolution": "540p",
        "off_peak": False,
        "duration": 1,
    }
    base = re.escape(emu.url)
    assert re.fullmatch(base + r"/idfile\?path=/tmp/\d+/\d+/\d+/\d+/video\.mp4", done["video"])
    assert re.fullmatch(base + r"/idfile\?path=/tmp/\d+/\d+/\d+/\d+/cover\.jpeg", done["image"])


def test_image_task_succeeds_in_real_time(emu: Emulator, client: httpx.Client) -> None:
    emu.set_speed(1000.0)
    r = submit(client, IMAGE, model="wan2.2-t2i-flash", catelogid="t2i", negative_prompt="blur")
    taskid = r.json()["taskid"]
    seen = []
    for _ in range(500):  # bounded polling, no timing assertions
        state = status(client, taskid)
        seen.append(state["status"])
        if state["status"] == "SUCCEEDED":
            break
    assert seen[-1] == "SUCCEEDED"
    assert "video" not in state and state["image"].endswith("/image.png")
    assert state["usage"]["type"] == "text2image" and state["usage"]["credits"] == 2


def test_task_ownership_and_unknown_ids(emu: Emulator, client: httpx.Client) -> None:
    taskid = submit(client).json()["taskid"]
    emu.add_key("yj-other", 100.0)
    other = client.get(
        TASKS, params={"taskid": taskid}, headers={"Authorization": "Bearer yj-other"}
    )
    assert other.status_code == 404 and other.json() == {"error": "Task not found"}
    r = client.get(TASKS, params={"taskid": "123"})
    assert r.status_code == 404 and r.json() == {"error": "Task not found"}
    r = client.get(TASKS)
    assert r.status_code == 400 and r.json() == {"error": "Missing required parameter: taskid"}
    r = httpx.get(emu.url + TASKS, params={"taskid": taskid})
    assert r.status_code == 401 and r.json() == {"error": "Invalid API Key"}


@pytest.mark.parametrize(
    ("body", "credits"),
    [
        ({"duration": 1, "resolution": "540p"}, 10),
        ({"duration": 4, "resolution": "720p", "off_peak": "Y"}, 30),
        ({"model": "happyhorse-1.0-t2v", "resolution": "1080P", "duration": 5}, 100),
        ({"model": "wan2.6-t2v", "size": "1280*720", "duration": 10}, 135),
        ({"model": "doubao-seedance-2-0-fast-260128", "resolution": "480p", "duration": 4}, 24),
        ({"model": "doubao-seedance-1-5-pro-251215", "ratio": "adaptive", "duration": 5}, 125),
    ],
)
def test_price_is_charged_at_submit(
    emu: Emulator, client: httpx.Client, body: dict[str, Any], credits: int
) -> None:
    emu.set_speed(1e6)
    before = emu.balance(DEMO_KEY)
    taskid = submit(client, **body).json()["taskid"]
    assert emu.balance(DEMO_KEY) == before - credits
    assert status(client, taskid)["usage"]["credits"] == credits


def test_insufficient_balance_at_submit(emu: Emulator, client: httpx.Client) -> None:
    emu.set_balance(DEMO_KEY, 5.0)
    r = submit(client, duration=10, resolution="1080p")
    assert r.status_code == 429 and r.json() == {"error": "Insufficient balance"}
    assert emu.balance(DEMO_KEY) == 5.0
    r = submit(client, IMAGE, model="wan2.2-t2i-flash", catelogid="t2i")
    assert r.status_code == 200 and emu.balance(DEMO_KEY) == 3.0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": None}, "Missing required parameter: model"),
        ({"catelogid": None}, "Missing required parameter: catelogid"),
        ({"prompt": None}, "Missing required parameter: prompt"),
        ({"prompt": "  "}, "Missing required parameter: prompt"),
    ],
)
def test_missing_fields(client: httpx.Client, body: dict[str, Any], message: str) -> None:
    payload = {"model": "viduq3-pro", "catelogid": "t2v", "prompt": "cat", **body}
    r = client.post(VIDEO, json={k: v for k, v in payload.items() if v is not None})
    assert r.status_code == 400 and r.json() == {"error": message}


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"model": "happyhorse-1.0-t2v", "resolution": "720p"}, "resolution"),
        ({"model": "doubao-seedance-2-0-260128", "resolution": "720P"}, "resolution"),
        ({"resolution": "480p"}, "resolution"),
        ({"model": "wan2.6-t2v", "size": "1280x720"}, "size"),
        ({"model": "wan2.6-t2v", "duration": 7}, "duration"),
        ({"duration": 17}, "duration"),
        ({"duration": 0}, "duration"),
        ({"duration": "abc"}, "duration"),
        ({"duration": 2.5}, "duration"),
        ({"off_peak": "yes"}, "off_peak"),
        ({"ratio": "2:1"}, "ratio"),
        ({"catelogid": "ref2v"}, "model"),
        ({"model": "no-such-model"}, "model"),
        ({"catelogid": "t2t"}, "catelogid"),
    ],
)
def test_invalid_values(client: httpx.Client, body: dict[str, Any], name: str) -> None:
    r = submit(client, **body)
    assert r.status_code == 400
    assert r.json()["error"].startswith(f"Invalid parameter: {name}")


@pytest.mark.parametrize(
    "body",
    [
        {"resolution": "540p", "duration": 16, "off_peak": "N", "ratio": "9:16"},
        {"model": "happyhorse-1.0-t2v", "resolution": "720P", "ratio": "4:3", "duration": 4},
        {"model": "wan2.6-t2v", "size": "1280*720", "duration": "5", "negative_prompt": "x"},
        {"model": "doubao-seedance-2-0-260128", "resolution": "480p", "ratio": "adaptive"},
    ],
)
def test_valid_values_pass(client: httpx.Client, body: dict[str, Any]) -> None:
    r = submit(client, **body)
    assert r.status_code == 200, r.text


def test_image_endpoint_takes_only_t2i(client: httpx.Client) -> None:
    r = submit(client, IMAGE)
    assert r.status_code == 400 and r.json()["error"].startswith("Invalid parameter: catelogid")
    for model in ("wan2.2-t2i-plus", "wan2.5-t2i-preview", "wan2.2-t2i-flash", "cogview-3-flash"):
        assert submit(client, IMAGE, model=model, catelogid="t2i").status_code == 200


MULTIPART_CASES = [
    ("happyhorse-1.0-i2v", "i2v", ["image_file"], {"resolution": "720P"}),
    ("doubao-seedance-2-0-260128", "i2v", ["image1_file", "image2_file"], {"ratio": "16:9"}),
    ("dreamina-seedance-2-0-260128", "i2v", ["image1_file", "image2_file"], {}),
    ("wan2.6-r2v", "i2v", ["image_file1", "image_file2"], {"size": "1280*720"}),
    ("viduq3-pro", "i2v", ["image_file1", "image_file2"], {"off_peak": "Y"}),
    ("doubao-seedance-1-5-pro-251215", "i2v", ["image_file1", "image_file2"], {}),
    ("doubao-seedance-1-5-pro-251215", "i2v", [], {}),  # its frames are optional
    ("happyhorse-1.0-r2v", "ref2v", ["image_files"] * 9, {"resolution": "1080P"}),
    (
        "doubao-seedance-2-0-260128",
        "ref2v",
        ["image_files", "image_files", "video_files", "audio_files"],
        {"ratio": "4:3", "resolution": "720p", "duration": "4"},
    ),
    ("dreamina-seedance-2-0-fast-260128", "ref2v", ["image_files"], {}),
]


@pytest.mark.parametrize(("model", "catelog", "fields", "extra"), MULTIPART_CASES)
def test_multipart_file_fields(
    client: httpx.Client, model: str, catelog: str, fields: list[str], extra: dict[str, str]
) -> None:
    data = {"model": model, "catelogid": catelog, "prompt": "从图片1到图片2丝滑转换", **extra}
    files = [(name, (f"{i}.jpg", JPEG, "image/jpeg")) for i, name in enumerate(fields)]
    r = client.post(VIDEO, data=data, files=files or None)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "CREATED"


@pytest.mark.parametrize(
    ("model", "catelog", "fields", "missing"),
    [
        ("happyhorse-1.0-i2v", "i2v", [], "image_file"),
        ("happyhorse-1.0-i2v", "i2v", ["image1_file"], "image_file"),  # seed 000's old name
        ("doubao-seedance-2-0-260128", "i2v", ["image1_file"], "image2_file"),
        ("wan2.6-r2v", "i2v", ["image_file1"], "image_file2"),
        ("viduq3-pro", "i2v", ["image_file2"], "image_file1"),
        ("happyhorse-1.0-r2v", "ref2v", [], "image_files"),
        ("doubao-seedance-2-0-260128", "ref2v", ["video_files"], "image_files"),
    ],
)
def test_missing_files(
    client: httpx.Client, model: str, catelog: str, fields: list[str], missing: str
) -> None:
    data = {"model": model, "catelogid": catelog, "prompt": "p"}
    files = [(name, ("a.jpg", JPEG, "image/jpeg")) for name in fields]
    # an explicit boundary keeps the body multipart even without any file
    r = client.post(VIDEO, data=data, files=files or [("unrelated", ("x.txt", b"x"))])
    assert r.status_code == 400
    assert r.json() == {"error": f"Missing required parameter: {missing}"}


def test_file_limits_and_empty_files(client: httpx.Client) -> None:
    data = {"model": "happyhorse-1.0-r2v", "catelogid": "ref2v", "prompt": "p"}
    files = [("image_files", (f"{i}.jpg", JPEG, "image/jpeg")) for i in range(10)]
    r = client.post(VIDEO, data=data, files=files)
    assert r.status_code == 400 and r.json()["error"].startswith("Invalid parameter: image_files")
    data = {"model": "happyhorse-1.0-i2v", "catelogid": "i2v", "prompt": "p"}
    r = client.post(VIDEO, data=data, files=[("image_file", ("a.jpg", b"", "image/jpeg"))])
    assert r.status_code == 400 and r.json()["error"].startswith("Invalid parameter: image_file")


def test_urls_stand_in_for_frames_where_the_seed_allows(client: httpx.Client) -> None:
    urls = {"image_file1": "https://example.com/a.jpg", "image_file2": "https://example.com/b.jpg"}
    for model in ("wan2.6-r2v", "viduq3-pro"):
        r = client.post(VIDEO, json={"model": model, "catelogid": "i2v", "prompt": "p", **urls})
        assert r.status_code == 200, r.text
        form = {"model": model, "catelogid": "i2v", "prompt": "p", **urls}
        r = client.post(VIDEO, data=form, files=[("unrelated", ("x.txt", b"x"))])
        assert r.status_code == 200, r.text
    body = {"model": "happyhorse-1.0-i2v", "catelogid": "i2v", "prompt": "p"}
    r = client.post(VIDEO, json={**body, "image_file": "https://example.com/a.jpg"})
    assert r.status_code == 400  # happyhorse takes a file only
