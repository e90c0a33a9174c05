"""Helpers for the %%yj_chat tests: run a magic, keep everything it showed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from IPython.utils.capture import capture_output

CHAT = "POST /llmage/v1/chat/completions"


@dataclass
class Shown:
    """Everything one magic call produced: stdout, stderr, display data, the error."""

    stdout: str = ""
    stderr: str = ""
    outputs: list[Any] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def displays(self) -> list[Any]:
        return [o for o in self.outputs if not o.update]

    @property
    def updates(self) -> list[Any]:
        return [o for o in self.outputs if o.update]

    @property
    def final(self) -> dict[str, str]:
        """The data the saved notebook would hold: the last publication."""
        return dict(self.outputs[-1].data)

    def everything(self) -> str:
        parts = [self.stdout, self.stderr, str(self.error or "")]
        for o in self.outputs:
            parts += [str(v) for v in o.data.values()]
        return "\n".join(parts)


def run(shell: Any, line: str = "", cell: str | None = None, *, kind: str = "cell") -> Shown:
    """Run `%%yj_chat line` with `cell` (or a line magic), capturing; errors are kept."""
    shown = Shown()
    with capture_output() as cap:
        try:
            if kind == "cell":
                shell.run_cell_magic("yj_chat", line, cell or "")
            else:
                shell.run_line_magic(kind, line)
        except Exception as exc:
            shown.error = exc
    shown.stdout, shown.stderr, shown.outputs = cap.stdout, cap.stderr, list(cap.outputs)
    return shown
