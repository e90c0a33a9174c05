"""What goes into the notebook file: image embeds (capped, else a preview) and posters."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from PIL import Image

from yjnb import _embed as media_embed
from yjnb._embed import (
    EMBED_IMAGE_MAX_BYTES,
    POSTER_MAX_BYTES,
    image_embed,
    poster_data_url,
)
from yjnb._types import Task
from yjnb.notebook.views.task_card import TaskCard

MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 52


def _noise_png(path: Path, side: int) -> bytes:
    """A PNG that does not compress: random pixels, about 3 bytes a pixel."""
    img = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    img.save(out, "PNG")
    path.write_bytes(out.getvalue())
    return out.getvalue()


def test_a_small_image_is_embedded_as_it_is(tmp_path: Path) -> None:
    data = _noise_png(tmp_path / "a.png", 32)
    embed = image_embed(tmp_path / "a.png")
    assert embed is not None and embed.mime == "image/png" and embed.data == data
    assert not embed.preview


def test_a_large_image_becomes_a_jpeg_preview_under_the_cap(tmp_path: Path) -> None:
    data = _noise_png(tmp_path / "big.png", 700)
    assert len(data) > EMBED_IMAGE_MAX_BYTES
    embed = image_embed(tmp_path / "big.png")
    assert embed is not None and embed.preview and embed.mime == "image/jpeg"
    assert len(embed.data) <= EMBED_IMAGE_MAX_BYTES
    with Image.open(io.BytesIO(embed.data)) as img:
        assert img.format == "JPEG" and max(img.size) <= 700


def test_without_pillow_a_large_image_is_not_embedded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _noise_png(tmp_path / "big.png", 700)
    _noise_png(tmp_path / "small.png", 32)
    monkeypatch.setitem(sys.modules, "PIL", None)  # `from PIL import Image` raises ImportError
    assert image_embed(tmp_path / "big.png") is None
    assert image_embed(tmp_path / "small.png") is not None  # needs no Pillow


def test_video_bytes_and_missing_files_are_never_embedded(tmp_path: Path) -> None:
    (tmp_path / "v.png").write_bytes(MP4)  # a video under an image's name
    assert image_embed(tmp_path / "v.png") is None
    assert poster_data_url(tmp_path / "v.png") is None
    assert image_embed(tmp_path / "missing.png") is None and image_embed(None) is None


def test_a_large_cover_is_shrunk_into_a_small_poster(tmp_path: Path) -> None:
    data = _noise_png(tmp_path / "cover.png", 400)
    assert len(data) > POSTER_MAX_BYTES
    poster = poster_data_url(tmp_path / "cover.png")
    assert poster is not None and poster.startswith("data:image/jpeg;base64,")
    assert len(poster) <= POSTER_MAX_BYTES * 4 // 3 + 30


def test_a_card_with_a_too_large_image_and_no_pillow_shows_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "media").mkdir()
    _noise_png(tmp_path / "media" / "t1.png", 700)
    monkeypatch.setattr(media_embed, "EMBED_IMAGE_MAX_BYTES", 1000)
    monkeypatch.setitem(sys.modules, "PIL", None)
    task = Task(taskid="t1", status="SUCCEEDED", kind="image")
    task.local_paths["image"] = str(tmp_path / "media" / "t1.png")
    card = TaskCard(object(), task)
    card.prepare_media()
    assert card.embeds == {} and card.embed_bundles() == []
    assert "<img src='media/t1.png'" in card.render_html()
