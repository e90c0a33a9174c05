"""Files given for image, video and audio fields must start with the magic bytes of that kind;
otherwise the call is refused before anything is sent (which also stops a symlink to a system
file). A file name that is not valid UTF-8 is a `ValidationError` too."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import yjnb

from .conftest import FAST_POLL, KEY
from .samples import HTML, JPEG, MP3, MP4, PNG, PYTHON, SCRIPT
from .server import HostileMediaServer


def _file(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_a_symlink_to_a_system_file_is_not_uploaded_as_a_frame(
    client: Any, hostile: HostileMediaServer, tmp_path: Path
) -> None:
    link = tmp_path / "frame.png"
    link.symlink_to("/etc/passwd")
    with pytest.raises(yjnb.ValidationError, match="first_frame") as info:
        client.video("x", model="happyhorse-1.0-i2v", first_frame=link, wait=False)
    assert "not an image" in str(info.value) and "text" in str(info.value)
    assert hostile.seen == []


def test_a_symlink_to_a_secret_file_is_not_uploaded(
    client: Any, hostile: HostileMediaServer, tmp_path: Path
) -> None:
    shadow = _file(tmp_path, "shadow", b"root:$6$saltsalt$hash:19000:0:99999:7:::\n")
    link = tmp_path / "cat.jpg"
    link.symlink_to(shadow)
    with pytest.raises(yjnb.ValidationError, match="first_frame"):
        client.video("x", model="viduq3-pro", first_frame=link, last_frame=link, wait=False)
    assert hostile.seen == []


WRONG_KINDS = {
    "html-frame": ("happyhorse-1.0-i2v", "first_frame", HTML, "HTML"),
    "script-frame": ("happyhorse-1.0-i2v", "first_frame", SCRIPT, "script"),
    "video-frame": ("happyhorse-1.0-i2v", "first_frame", MP4, "MP4 video"),
    "python-image": ("happyhorse-1.0-r2v", "images", PYTHON, "text"),
    "image-video": ("doubao-seedance-2-0-260128", "videos", PNG, "PNG image"),
    "script-audio": ("doubao-seedance-2-0-260128", "audios", SCRIPT, "script"),
    "empty-audio": ("doubao-seedance-2-0-260128", "audios", b"", "empty"),
}


@pytest.mark.parametrize(
    ("model", "field", "data", "found"), WRONG_KINDS.values(), ids=WRONG_KINDS.keys()
)
def test_a_file_of_the_wrong_kind_is_refused_before_sending(
    client: Any,
    hostile: HostileMediaServer,
    tmp_path: Path,
    model: str,
    field: str,
    data: bytes,
    found: str,
) -> None:
    params: dict[str, Any] = {field: _file(tmp_path, "upload.bin", data)}
    if model.startswith("doubao") and field != "images":
        params["images"] = [_file(tmp_path, "ok.png", PNG)]
    if field == "images":
        params[field] = [_file(tmp_path, "ok.png", PNG), params[field]]
    with pytest.raises(yjnb.ValidationError) as info:
        client.video("x", model=model, **params, wait=False)
    problem = next(p for p in info.value.problems if p.startswith(field))
    assert found in problem and "upload.bin" in problem
    assert hostile.seen == []


def test_bytes_and_file_objects_are_checked_too(
    client: Any, hostile: HostileMediaServer, tmp_path: Path
) -> None:
    with pytest.raises(yjnb.ValidationError, match="first_frame"):
        client.video("x", model="happyhorse-1.0-i2v", first_frame=SCRIPT, wait=False)
    with _file(tmp_path, "a.png", HTML).open("rb") as handle:
        with pytest.raises(yjnb.ValidationError, match="first_frame"):
            client.video("x", model="happyhorse-1.0-i2v", first_frame=handle, wait=False)
        assert handle.tell() == 0  # only peeked at
    assert hostile.seen == []


def test_openai_edit_images_and_masks_are_checked(
    hostile: HostileMediaServer, tmp_path: Path
) -> None:
    client = yjnb.Client(api_key=KEY, base_url=hostile.url, protocol="openai")
    with client, pytest.raises(yjnb.ValidationError) as info:
        client.image(
            "x",
            model="nano-banana-pro",
            images=[_file(tmp_path, "a.png", HTML)],
            mask=_file(tmp_path, "m.png", MP3),
        )
    assert [p.split(":")[0] for p in info.value.problems] == ["images", "mask"]
    assert hostile.seen == []


def test_chat_images_are_checked(hostile: HostileMediaServer, tmp_path: Path) -> None:
    client = yjnb.Client(api_key=KEY, base_url=hostile.url, protocol="openai")
    with client, pytest.raises(yjnb.ValidationError, match="images") as info:
        client.chat("what is this?", model="gpt-4o", images=[_file(tmp_path, "a.jpg", HTML)])
    assert "HTML" in str(info.value)
    assert hostile.seen == []


def test_real_media_of_the_right_kind_is_sent(
    client: Any, hostile: HostileMediaServer, tmp_path: Path
) -> None:
    task = client.video(
        "ok",
        model="doubao-seedance-2-0-260128",
        images=[_file(tmp_path, "a.jpg", JPEG)],
        videos=[_file(tmp_path, "v.mp4", MP4)],
        audios=[_file(tmp_path, "a.mp3", MP3)],
        wait=False,
    )
    assert task.taskid == "ok"
    assert [s.method for s in hostile.seen] == ["POST"]


def _not_utf8_name(folder: Path) -> str:
    raw = os.fsencode(folder) + b"/frame-\xff\xfe.png"
    with open(raw, "wb") as out:
        out.write(PNG)
    return os.fsdecode(raw)  # a str with surrogate escapes, as os.listdir gives it


@pytest.mark.parametrize("wrap", [str, Path], ids=["str", "Path"])
def test_a_file_name_that_is_not_utf8_is_a_validation_error(
    hostile: HostileMediaServer, tmp_path: Path, wrap: Any
) -> None:
    name = wrap(_not_utf8_name(tmp_path))
    client = yjnb.Client(api_key=KEY, base_url=hostile.url, poll=FAST_POLL, max_retries=0)
    with client, pytest.raises(yjnb.ValidationError, match=r"first_frame.*UTF-8"):
        client.video("x", model="happyhorse-1.0-i2v", first_frame=name, wait=False)
    assert hostile.seen == []
