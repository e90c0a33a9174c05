"""Images, videos and remixes on the `openai` and `gateway` protocols, against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import yjnb
from yjnb._errors import BadRequestError, TaskFailed, ValidationError
from yjnb._types import Task

ASSETS = Path(__file__).parents[1] / "notebooks" / "assets"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def openai(client_kwargs: dict[str, Any]) -> yjnb.Client:
    return yjnb.Client(**client_kwargs, protocol="openai")


@pytest.fixture
def gateway(client_kwargs: dict[str, Any]) -> yjnb.Client:
    return yjnb.Client(**client_kwargs, protocol="gateway", platform="google")


def test_openai_image_is_made_at_once_and_saved(
    openai: yjnb.Client, isolated_env: Path, records: list[Any], emulator: Any
) -> None:
    task = openai.image("a red fox", model="nano-banana-pro", size="16:9")
    assert task.succeeded and task.taskid.startswith("img-") and task.kind == "image"
    saved = Path(task.local_paths["image"])
    assert saved.parent == isolated_env / "media" and saved.read_bytes().startswith(PNG_MAGIC)
    assert task.usage is not None and task.usage["total_tokens"] > 0
    assert [(r.status, r.taskid) for r in records] == [
        ("pending", task.taskid),
        ("ok", task.taskid),
    ]
    assert records[-1].local_path == str(saved)
    assert emulator.count("POST /v1/images/generations") == 1
    # download() into another folder copies the saved file (nothing to fetch again)
    copied = openai.download(task, isolated_env / "elsewhere")
    assert copied["image"].read_bytes() == saved.read_bytes()
    assert emulator.count("POST /v1/images/generations") == 1


def test_url_images_several(openai: yjnb.Client, tmp_path: Path) -> None:
    task = openai.image("two foxes", model="nano-banana-pro", response_format="url", n=2)
    assert len(task.image_urls) == 2 and task.image_url == task.image_urls[0]
    saved = openai.download(task, tmp_path)
    assert set(saved) == {"image", "image-2"}
    assert all(p.read_bytes().startswith(PNG_MAGIC) for p in saved.values())


def test_image_checked_before_sending(openai: yjnb.Client, emulator: Any) -> None:
    with pytest.raises(ValidationError) as info:
        openai.image("x", model="nano-banana-pro", size="7:5", response_format="png")
    assert "size" in str(info.value) and "response_format" in str(info.value)
    too_many = [ASSETS / "cat.jpg"] * 8
    with pytest.raises(ValidationError, match="at most 7"):
        openai.image("x", model="nano-banana-pro", images=too_many)
    with pytest.raises(ValidationError, match="mask is only used together with images"):
        openai.image("x", model="nano-banana-pro", mask=ASSETS / "hat.png")
    assert emulator.counts == {}


def test_edit_with_images_and_mask(openai: yjnb.Client, emulator: Any) -> None:
    task = openai.image(
        "put the hat on the cat",
        model="nano-banana-pro",
        images=[ASSETS / "cat.jpg", ASSETS / "hat.png"],
        mask=ASSETS / "hat.png",
    )
    assert task.succeeded and Path(task.local_paths["image"]).is_file()
    assert task.params["image"] == [str(ASSETS / "cat.jpg"), str(ASSETS / "hat.png")]
    assert emulator.count("POST /v1/images/edits") == 1


def test_gateway_image_is_a_polled_task(
    gateway: yjnb.Client, emulator: Any, records: list[Any]
) -> None:
    seen: list[str] = []
    task = gateway.image(
        "a lighthouse", model="nano-banana", on_update=lambda t: seen.append(t.status)
    )
    assert task.succeeded and task.taskid.startswith("imgtask_")
    assert Path(task.local_paths["image"]).read_bytes().startswith(PNG_MAGIC)
    assert emulator.count("POST /google/v1/images/generations") == 1
    assert emulator.count(f"GET /google/v1/images/{task.taskid}") == len(seen) >= 1
    assert records[0].params["platform"] == "google" and records[0].status == "pending"
    edit = gateway.image("the same at night", model="nano-banana", images=[ASSETS / "moon.jpg"])
    assert edit.succeeded and emulator.count("POST /google/v1/images/edits") == 1


def test_video_progress_download_and_remix(
    openai: yjnb.Client, emulator: Any, tmp_path: Path
) -> None:
    progress: list[float] = []
    task = openai.video(
        "a cat running",
        model="sora-2",
        duration=4,
        size="1280x720",
        on_update=lambda t: progress.append(t.progress or 0.0),
    )
    assert task.succeeded and task.video_url and task.video_url.endswith("/content")
    assert progress == sorted(progress) and progress[-1] == 100.0
    saved = openai.download(task, tmp_path)
    assert saved["video"].read_bytes()[4:8] == b"ftyp"
    remixed = openai.remix(task, "the same cat, at night")
    assert remixed.succeeded and remixed.remixed_from == task.taskid
    assert remixed.model == "sora-2" and remixed.taskid != task.taskid
    assert emulator.count(f"POST /v1/videos/{task.taskid}/remix") == 1


def test_video_rules_and_first_frame(openai: yjnb.Client, emulator: Any) -> None:
    with pytest.raises(ValidationError, match="duration"):
        openai.video("x", model="veo-3.1", duration=5)
    assert emulator.counts == {}
    task = openai.video("the cat jumps", model="veo-3.1", first_frame=ASSETS / "cat.jpg")
    assert task.succeeded and task.catelog == "i2v"
    assert task.params["input_reference"] == str(ASSETS / "cat.jpg")


def test_failed_video_keeps_the_reason(client_kwargs: dict[str, Any]) -> None:
    headers = {"X-Emulator-Fault": "task=fail"}
    for protocol, platform in (("openai", None), ("gateway", "google")):
        client = yjnb.Client(**client_kwargs, protocol=protocol, platform=platform, headers=headers)
        with pytest.raises(TaskFailed) as info:
            client.video("a cat", model="veo-3.1")
        assert info.value.task.status == "FAILED" and info.value.task.error
        assert "failed" in str(info.value).lower()


def test_gateway_video_detail_resume_and_remix(
    gateway: yjnb.Client, client_kwargs: dict[str, Any], emulator: Any
) -> None:
    task = gateway.video("waves", model="veo-3.1", first_frame=ASSETS / "moon.jpg", wait=False)
    assert task.status in ("PENDING", "RUNNING") and task.platform == "google"
    assert emulator.count("POST /google/v1/videos") == 1
    # A fresh client (say, after a kernel restart) picks the task up by id.
    fresh = yjnb.Client(**client_kwargs, protocol="gateway", platform="google")
    checked = fresh.task(task.taskid, detail=True)
    assert checked.detail is not None
    done = fresh.wait(Task(taskid=task.taskid, kind="video"))
    assert done.succeeded
    remixed = gateway.remix(done, "stormy", model="veo-3.1")
    assert remixed.succeeded and remixed.remixed_from == task.taskid
    with pytest.raises(BadRequestError):
        gateway.remix("video_nope", "x", model="veo-3.1")


def test_remix_needs_an_openai_style_profile(client_kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="remix needs an openai or gateway profile"):
        yjnb.Client(**client_kwargs).remix("t1", "again")
