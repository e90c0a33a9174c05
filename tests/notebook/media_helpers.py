"""Helpers for the media tests: the test shell as IPython's current shell, display capture."""

from __future__ import annotations

from typing import Any

# The smallest valid JPEG header is enough: the catalog and the emulator check presence only.
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60


def htmls(captured: Any) -> list[str]:
    return [o.data.get("text/html", "") for o in captured.outputs]


def last_html(captured: Any) -> str:
    found = htmls(captured)
    assert found, "nothing was displayed"
    return found[-1]


def watcher_of(magics: Any, task: Any) -> Any:
    return magics.session.watchers[task.taskid]
