"""Where a task card is shown: a display in a cell's output, updated in place.

`DisplaySink` publishes under the parent header of the cell it belongs to (captured when it
is made, or given): updates from the runner thread, and a form's results published while a
button click is being handled, land in that cell as ordinary outputs, so they are saved with
the notebook. ipykernel keeps the parent header per thread and task (`set_thread_parent`,
ipykernel >= 6.29); JupyterLab and Notebook 7 route a finished cell's late outputs to it until
the cell runs again.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

__all__ = ["DisplaySink", "capture_parent"]


def capture_parent(shell: Any) -> Any:
    """The kernel's parent header for the running cell (None outside a kernel)."""
    getter = getattr(shell, "get_parent", None)
    if callable(getter):
        try:
            return getter()
        except Exception:  # an older kernel without a shell-channel parent
            return None
    return getattr(shell, "parent_header", None)


class DisplaySink:
    """A display id in the cell that made it (or in the cell whose `parent` header is given)."""

    def __init__(self, shell: Any, parent: Any = None) -> None:
        self.shell = shell
        self.display_id = uuid.uuid4().hex
        self.parent = parent if parent is not None else capture_parent(shell)
        self.live = getattr(shell, "kernel", None) is not None

    def enter_worker(self) -> None:
        """In the worker's own context: its prints and displays go to this sink's cell."""
        if not self.parent:
            return
        for target in (
            getattr(self.shell, "display_pub", None),
            getattr(self.shell, "kernel", None),
            sys.stdout,
            sys.stderr,
        ):
            setter = getattr(target, "set_thread_parent", None)
            if callable(setter):
                setter(self.parent)

    def _send(self, bundle: dict[str, str], transient: dict[str, str], update: bool) -> None:
        pub = self.shell.display_pub
        setter = getattr(pub, "set_thread_parent", None)
        resetter = getattr(pub, "reset_thread_parent", None)
        token = setter(self.parent) if self.parent and callable(setter) else None
        try:
            pub.publish(data=bundle, metadata={}, transient=transient, update=update)
        finally:
            if token is not None and callable(resetter):
                resetter(token)

    def show(self, bundle: dict[str, str]) -> None:
        self._send(bundle, {"display_id": self.display_id}, update=False)

    def update(self, bundle: dict[str, str]) -> None:
        self._send(bundle, {"display_id": self.display_id}, update=True)

    def emit(self, bundle: dict[str, str]) -> None:
        """One more ordinary output in the same cell (an embedded image), never updated."""
        self._send(bundle, {}, update=False)
