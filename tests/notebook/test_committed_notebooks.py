"""The committed tutorials show their media anywhere: every image or video they point at is
embedded in the output or a small file committed beside them (issue 14).

GitHub, nbviewer, Binder before a cell is re-run and JupyterLab without a kernel show the saved
outputs as they are: a `src` to the emulator's loopback URL, a platform's temporary URL or a
file that `make` deletes is a broken picture there.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
TUTORIALS = sorted(NOTEBOOKS.glob("*.ipynb"))
# Committed media must stay small; embedded data too (yjnb caps images at 300 KB, posters 48 KB).
FILE_MAX_BYTES = 256 * 1024
DATA_MAX_BYTES = 400 * 1024
_ATTR = re.compile(r"""\b(src|poster|href)\s*=\s*(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
_DATA = re.compile(r"^data:(image/(?:png|jpeg|gif|webp));base64,([A-Za-z0-9+/=]+)$")


def _tracked() -> set[str]:
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "notebooks"],
        check=True,
        capture_output=True,
    ).stdout.decode()
    return {p for p in listed.split("\0") if p}


def references(nb: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(where, kind, url) for every src/poster/href attribute and Markdown image in the
    outputs (kind "link" for href, "media" for the others)."""
    found = []
    for number, cell in enumerate(nb["cells"]):
        for output in cell.get("outputs", []):
            for mime, value in output.get("data", {}).items():
                text = "".join(value) if isinstance(value, list) else value
                if not isinstance(text, str):
                    continue
                where = f"cell {number} {mime}"
                for attr, _, url in _ATTR.findall(text):
                    found.append((where, "link" if attr.lower() == "href" else "media", url))
                if mime == "text/markdown":
                    found += [(where, "media", url) for url in _MD_IMAGE.findall(text)]
    return found


def problems_of(path: Path, tracked: set[str]) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for where, kind, url in references(nb):
        data = _DATA.match(url)
        if data is not None:
            if len(base64.b64decode(data.group(2))) > DATA_MAX_BYTES:
                out.append(f"{where}: an embedded {data.group(1)} over {DATA_MAX_BYTES} bytes")
            continue
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            if kind == "media" or parts.scheme not in ("http", "https", "mailto"):
                out.append(f"{where}: {url[:80]!r} is not embedded nor beside the notebook")
            continue
        if not parts.path:  # "#anchor"
            continue
        file = (path.parent / unquote(parts.path)).resolve()
        rel = file.relative_to(ROOT).as_posix() if file.is_relative_to(ROOT) else None
        if rel is None or rel not in tracked or not file.is_file():
            out.append(f"{where}: {url!r} is not a file committed beside the notebook")
        elif file.stat().st_size > FILE_MAX_BYTES:
            out.append(f"{where}: {url!r} is {file.stat().st_size} bytes, not small")
    for number, cell in enumerate(nb["cells"]):
        for output in cell.get("outputs", []):
            for mime in ("image/png", "image/jpeg"):
                value = output.get("data", {}).get(mime)
                if value and len(base64.b64decode("".join(value))) > DATA_MAX_BYTES:
                    out.append(f"cell {number}: an embedded {mime} over {DATA_MAX_BYTES} bytes")
    return out


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_every_output_refers_only_to_embedded_or_committed_media(path: Path) -> None:
    assert problems_of(path, _tracked()) == []


def test_the_media_lessons_do_show_media() -> None:
    """The check above must have something to check: the lessons' videos and images."""
    refs = {p.stem: references(json.loads(p.read_text(encoding="utf-8"))) for p in TUTORIALS}
    videos = [u for _, kind, u in refs["04-video"] if kind == "media" and u.endswith(".mp4")]
    assert len(videos) >= 3 and all(u.startswith("media/") for u in videos)
    posters = [u for _, kind, u in refs["04-video"] if u.startswith("data:image/jpeg")]
    assert len(posters) == len(videos)
    images = json.loads((NOTEBOOKS / "03-images.ipynb").read_text(encoding="utf-8"))
    embedded = [
        o
        for c in images["cells"]
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {}) and "text/html" not in o["data"]
    ]
    assert len(embedded) >= 3


def test_the_check_catches_what_issue_14_found(tmp_path: Path) -> None:
    """A loopback video URL, a platform URL, a file that is not committed: all refused."""
    cards = [
        "<video src='http://127.0.0.1:8765/idfile?path=/tmp/v.mp4'></video>",
        "<img src='https://opencomputing.ai/idfile?path=/tmp/1/cover.jpeg'>",
        "<video src='media/123.mp4' poster='media/123-cover.jpg'></video>",
        "<img src='data:image/png;base64,iVBORw0KGgo='>",  # embedded: fine
    ]
    nb = {
        "cells": [
            {"cell_type": "code", "outputs": [{"data": {"text/html": html}}]} for html in cards
        ]
        + [{"cell_type": "code", "outputs": [{"data": {"text/markdown": "![x](media/9.png)"}}]}]
    }
    (tmp_path / "x.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    found = problems_of(tmp_path / "x.ipynb", _tracked())
    assert len(found) == 5, found
