"""The older API: ``POST /llmage/video`` chosen by ``llmid``, ``GET|POST /llmage/tasks``."""

from __future__ import annotations

import httpx
import pytest

from yjnb.emulator import Emulator

JPEG = b"\xff\xd8\xff\xe0legacy"
SEED_002_LLMIDS = {
    "o5vfXYD5BURJWRTWpopE5": "happyhorse-1.0-t2v",
    "YjjGgxO_Xma8PWsMjJvps": "doubao-seedance-2-0-260128",
    "TWay-xd0p0pkEX-_Kuhto": "dreamina-seedance-2-0-260128",
    "CrEMkFQfRCmbmopZsCqLj": "doubao-seedance-1-5-pro-251215",
    "u9HZyfDoqU6uKI6M1BTks": "wan2.6-t2v",
    "r0ill7L0s6PtBS8mkmg-7": "viduq3-pro",
}


def finished(emu: Emulator, client: httpx.Client, taskid: str, method: str = "GET") -> dict:
    emu.advance(1e6)
    r = client.request(method, "/llmage/tasks", params={"taskid": taskid})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(("llmid", "model"), sorted(SEED_002_LLMIDS.items()))
def test_t2v_by_llmid(emu: Emulator, client: httpx.Client, llmid: str, model: str) -> None:
    r = client.post("/llmage/video", json={"llmid": llmid, "prompt": "小猫在抓老鼠"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "created"  # lowercase, as the seed's example
    done = finished(emu, client, r.json()["taskid"])
    assert done["status"] == "SUCCEEDED"
    assert done["usage"]["model"] == model and done["usage"]["action"] == "t2v"


def test_seed_example_seedance_15(emu: Emulator, client: httpx.Client) -> None:
    body = {"llmid": "CrEMkFQfRCmbmopZsCqLj", "prompt": "小猫在抓老鼠", "duration": 5,
            "ratio": "16:9", "resolution": "480p"}  # fmt: skip
    taskid = client.post("/llmage/video", json=body).json()["taskid"]
    usage = finished(emu, client, taskid, method="POST")["usage"]
    assert usage["resolution"] == "480p" and usage["duration"] == 5


def test_model_field_picks_within_the_llmid(emu: Emulator, client: httpx.Client) -> None:
    body = {
        "llmid": "dmPXF65TD1riKj9KaxLmg",
        "model": "doubao-seedance-2-0-fast-260128",
        "prompt": "平滑过渡",
        "ratio": "4:3",
        "resolution": "720p",
        "duration": "4",
    }
    files = [
        ("image_files", ("1.jpg", JPEG, "image/jpeg")),
        ("image_files", ("2.jpg", JPEG, "image/jpeg")),
    ]
    r = client.post("/llmage/video", data=body, files=files)
    assert r.status_code == 200, r.text
    usage = finished(emu, client, r.json()["taskid"])["usage"]
    assert usage["model"] == "doubao-seedance-2-0-fast-260128" and usage["action"] == "ref2v"


def test_happyhorse_i2v_takes_the_old_field_name(emu: Emulator, client: httpx.Client) -> None:
    body = {"llmid": "7y7kfYM0Xasizyi37WvAZ", "prompt": "一起来跳科目三", "resolution": "720P"}
    files = [("image1_file", ("02.jpg", JPEG, "image/jpeg"))]
    r = client.post("/llmage/video", data=body, files=files)
    assert r.status_code == 200, r.text
    assert finished(emu, client, r.json()["taskid"])["usage"]["type"] == "image2video"


def test_vidu_i2v_requires_its_frames(client: httpx.Client) -> None:
    r = client.post("/llmage/video", json={"llmid": "FK_h7FLYnosv2TkMN4ATC", "prompt": "p"})
    assert r.status_code == 400
    assert r.json() == {"error": "Missing required parameter: image_file1"}


def test_errors(emu: Emulator, client: httpx.Client) -> None:
    r = client.post("/llmage/video", json={"llmid": "nope", "prompt": "p"})
    assert r.status_code == 400 and r.json()["error"].startswith("Invalid parameter: llmid")
    r = client.post("/llmage/video", json={"prompt": "p"})
    assert r.json() == {"error": "Missing required parameter: llmid"}
    r = client.post("/llmage/video", json={"llmid": "r0ill7L0s6PtBS8mkmg-7"})
    assert r.json() == {"error": "Missing required parameter: prompt"}
    r = client.post("/llmage/video", json={"llmid": "r0ill7L0s6PtBS8mkmg-7", "prompt": "p",
                                           "resolution": "480p"})  # fmt: skip
    assert r.status_code == 400 and r.json()["error"].startswith("Invalid parameter: resolution")
    r = client.get("/llmage/tasks", params={"taskid": "1"})
    assert r.status_code == 404 and r.json() == {"error": "Task not found"}
    r = httpx.post(emu.url + "/llmage/video", json={"llmid": "r0ill7L0s6PtBS8mkmg-7"})
    assert r.status_code == 401


def test_tasks_are_shared_between_the_two_apis(emu: Emulator, client: httpx.Client) -> None:
    r = client.post("/llmage/video", json={"llmid": "r0ill7L0s6PtBS8mkmg-7", "prompt": "p"})
    taskid = r.json()["taskid"]
    emu.advance(1e6)
    new = client.get("/llmage/v1/tasks", params={"taskid": taskid}).json()
    old = client.post("/llmage/tasks", params={"taskid": taskid}).json()
    assert new == old and new["status"] == "SUCCEEDED"
    assert emu.count("POST /llmage/tasks") == 1 and emu.count("POST /llmage/video") == 1
