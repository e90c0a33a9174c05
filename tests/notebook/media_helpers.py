"""Helpers for the media tests: the test shell as IPython's current shell, display capture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from traitlets.config.configurable import SingletonConfigurable

# The smallest valid JPEG header is enough: the catalog and the emulator check presence only.
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60


def _singleton_classes(shell: Any) -> list[type]:
    return [
        cls
        for cls in type(shell).mro()
        if isinstance(cls, type)
        and issubclass(cls, SingletonConfigurable)
        and cls is not SingletonConfigurable
    ]


def as_current_shell(shell: Any) -> Iterator[Any]:
    """`shell`, made IPython's current shell so `capture_output()` sees its display output
    (use as a fixture: `yield from as_current_shell(shell)`)."""
    classes = _singleton_classes(shell)
    for cls in classes:
        cls._instance = shell
    yield shell
    for cls in classes:
        cls._instance = None


def htmls(captured: Any) -> list[str]:
    return [o.data.get("text/html", "") for o in captured.outputs]


def last_html(captured: Any) -> str:
    found = htmls(captured)
    assert found, "nothing was displayed"
    return found[-1]


def watcher_of(magics: Any, task: Any) -> Any:
    from yjnb.notebook.task_watch import watchers

    return watchers(magics)[task.taskid]
