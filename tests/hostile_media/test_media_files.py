"""Downloaded media: the extension comes from the file's magic bytes, from an allowlist per
kind, never from the server's Content-Type or URL; a body that is not media of the expected
kind is an error and nothing is left on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import yjnb
from yjnb._tasks import save_bytes
from yjnb._types import Task

from .conftest import KEY
from .samples import BODIES, HTML, PNG

VIDEOS = [("mp4", ".mp4"), ("mov", ".mov"), ("webm", ".webm")]
IMAGES = [("png", ".png"), ("jpeg", ".jpg"), ("gif", ".gif"), ("webp", ".webp")]
LYING_TYPES = ["application/x-sh", "text/x-python", "text/html", "application/octet-stream"]


@pytest.mark.parametrize("content_type", LYING_TYPES)
@pytest.mark.parametrize(("name", "ext"), VIDEOS)
def test_a_video_extension_comes_from_its_bytes(
    client: Any, tmp_path: Path, name: str, ext: str, content_type: str
) -> None:
    task = client.task(f"media:/media/{name}?type={content_type}")
    saved = client.download(task, tmp_path)
    assert saved["video"].suffix == ext
    assert saved["video"].read_bytes() == BODIES[name]
    assert [p.name for p in tmp_path.iterdir()] == [saved["video"].name]


@pytest.mark.parametrize(("name", "ext"), IMAGES)
def test_an_image_extension_comes_from_its_bytes(
    client: Any, tmp_path: Path, name: str, ext: str
) -> None:
    task = client.task(f"image:/media/{name}?type=text/html")
    saved = client.download(task, tmp_path)
    assert saved["image"].suffix == ext
    assert [p.name for p in tmp_path.iterdir()] == [saved["image"].name]


@pytest.mark.parametrize("name", ["html", "script", "python", "json", "empty", "png"])
def test_a_body_that_is_not_a_video_is_an_error_and_nothing_is_kept(
    client: Any, tmp_path: Path, name: str
) -> None:
    task = client.task(f"media:/media/{name}?type=video/mp4")
    with pytest.raises(yjnb.YJError, match="not a video") as info:
        client.download(task, tmp_path)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []  # no file, no .part file
    assert task.local_paths == {}


@pytest.mark.parametrize("name", ["html", "script", "mp4"])
def test_a_body_that_is_not_an_image_is_an_error_and_nothing_is_kept(
    client: Any, tmp_path: Path, name: str
) -> None:
    task = client.task(f"image:/media/{name}?type=image/png")
    with pytest.raises(yjnb.YJError, match="not an image"):
        client.download(task, tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert task.local_paths == {}


def test_the_error_says_what_the_body_was(client: Any, tmp_path: Path) -> None:
    task = client.task("media:/media/script?type=video/mp4")
    with pytest.raises(yjnb.YJError, match="script"):
        client.download(task, tmp_path)


def test_an_inline_image_that_is_not_an_image_is_refused(tmp_path: Path) -> None:
    with pytest.raises(yjnb.YJError, match="not an image"):
        save_bytes(Task(taskid="t1", kind="image"), "image", HTML, tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert save_bytes(Task(taskid="t1", kind="image"), "image", PNG, tmp_path).name == "t1.png"


def test_an_inline_image_answer_that_is_not_an_image_fails_the_task(
    hostile: Any, isolated_env: Path, records: list[Any]
) -> None:
    client = yjnb.Client(api_key=KEY, base_url=hostile.url, protocol="openai", max_retries=0)
    with client, pytest.raises(yjnb.TaskFailed, match="not an image") as info:
        client.image("html", model="dall-e-3")
    assert info.value.task.local_paths == {}
    assert [r.status for r in records] == ["pending", "failed"]
    assert not (isolated_env / "media").exists() or list((isolated_env / "media").iterdir()) == []
    assert client.image("png", model="dall-e-3").local_paths["image"].endswith(".png")
