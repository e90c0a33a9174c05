"""Helpers for the media tests: the test shell as IPython's current shell, display capture."""

from __future__ import annotations

from typing import Any

# The smallest valid headers are enough: uploads are checked by their first bytes only.
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 52
MP3 = b"ID3\x04\x00" + b"\x00" * 59
# What a file parameter of each name is filled with in the form tests.
SAMPLE_BY_NAME = {"videos": MP4, "audios": MP3}


def htmls(captured: Any) -> list[str]:
    return [o.data.get("text/html", "") for o in captured.outputs]


def last_html(captured: Any) -> str:
    """The last output with HTML: the card's final state (embedded images follow it)."""
    found = [h for h in htmls(captured) if h]
    assert found, "nothing was displayed"
    return found[-1]


def image_outputs(captured: Any) -> list[dict[str, str]]:
    """The ordinary image outputs (image/png or image/jpeg data, no HTML)."""
    return [
        o.data
        for o in captured.outputs
        if "text/html" not in o.data and {"image/png", "image/jpeg"} & set(o.data)
    ]


def watcher_of(magics: Any, task: Any) -> Any:
    return magics.session.watchers[task.taskid]
