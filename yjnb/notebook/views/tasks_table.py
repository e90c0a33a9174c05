"""The task list of %yj_tasks: one HTML table (and aligned plain text) of the ledger's tasks.

Every server or model string goes through `esc`. The profile column appears only when the
tasks come from several profiles; unfinished tasks get a hint to `%yj_tasks --resume`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..._status import UNFINISHED
from .html import esc
from .task_card import elapsed_text, shorten

__all__ = ["show_tasks"]


def _publish(shell: Any, html: str, text: str) -> None:
    shell.display_pub.publish(data={"text/plain": text, "text/html": html}, metadata={})


def _status(row: dict[str, Any]) -> str:
    """The ledger's word (`yjnb._status`); for a task followed here, its card's word (the same
    vocabulary); a forgotten one says so."""
    word = str(row.get("live") or row.get("status") or "?")
    return f"{word} (forgotten)" if row.get("forgotten_at") else word


def show_tasks(shell: Any, rows: list[dict[str, Any]], profile: str | None = None) -> None:
    """Publish the rows (`commands/tasks.task_rows`) in `shell`'s output."""
    if not rows:
        text = "no tasks yet" + (f" for profile {profile!r}" if profile else "")
        _publish(shell, f"<p>{esc(text)}</p>", text)
        return
    # The profile column only when the tasks come from several profiles.
    several = len({r.get("profile") for r in rows}) > 1
    head = ["task id", "kind", "model", "status", "credits", "started", "prompt", "file"]
    if several:
        head.insert(6, "profile")
    lines, cells = [], []
    for row in rows:
        started = row.get("started_at")
        age = ""
        if isinstance(started, datetime) and started.tzinfo is not None:
            age = elapsed_text((datetime.now(started.tzinfo) - started).total_seconds()) + " ago"
        credits = row.get("credits")
        values = [
            str(row.get("taskid") or ""),
            str(row.get("kind") or ""),
            str(row.get("model") or ""),
            _status(row),
            "" if credits is None else f"{credits:g}",
            age,
            shorten(row.get("prompt"), 60),
            str(row.get("local_path") or ""),
        ]
        if several:
            values.insert(6, str(row.get("profile") or ""))
        cells.append("".join(f"<td style='text-align:left'>{esc(v)}</td>" for v in values))
        lines.append("  ".join(v for v in values[: 7 if several else 6]))
    header = "".join(f"<th style='text-align:left'>{esc(h)}</th>" for h in head)
    body = "".join(f"<tr>{c}</tr>" for c in cells)
    html = (
        f"<table class='yjnb-tasks'><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
    )
    pending = sum(1 for r in rows if _status(r) in UNFINISHED)
    if pending:
        html += f"<p>{pending} unfinished: <code>%yj_tasks --resume</code> follows them again</p>"
    lost = sum(1 for r in rows if _status(r) == "lost")
    if lost:
        html += (
            f"<p>{lost} lost (the service does not know them): "
            "<code>%yj_tasks --forget-lost</code> hides them</p>"
        )
    _publish(shell, html, "\n".join(lines))
