"""%yj_tasks: the ledger's tasks, one task's card, and `--resume` of unfinished ones.

`-p PROFILE` keeps the tasks started with that profile (the ledger notes each task's
profile); with `--resume` only those are followed again, with a task id that profile's client
looks it up. Cards are the same live `TaskCard`s %yj_video and %yj_image show.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from IPython.core.error import UsageError

from .._errors import YJError
from .._runner import get_runner
from .._types import Task
from ..ledger import default_ledger
from .html import esc
from .media import follow
from .protocols import profile_settings
from .task_view import DisplaySink, TaskCard, elapsed_text, shorten
from .task_watch import Watcher, watchers

__all__ = ["list_tasks", "resume", "run_tasks", "show_task", "task_rows"]

TASK_LIST_LIMIT = 20


def _task_from_row(row: dict[str, Any]) -> Task:
    params = dict(row.get("params") or {})
    platform = params.get("platform")  # a gateway task notes the platform it was made on
    # What the ledger knows; a status request updates it (an openai image has none to make).
    status = {"ok": "SUCCEEDED", "failed": "FAILED"}.get(str(row.get("status")), "CREATED")
    task = Task(
        taskid=str(row["taskid"]),
        status=status,
        kind=str(row.get("kind") or "video"),
        model=row.get("model"),
        catelog=row.get("catelog"),
        prompt=row.get("prompt"),
        params=params,
        profile=row.get("profile"),
        platform=str(platform) if platform else None,
    )
    started = row.get("started_at")
    if isinstance(started, datetime) and started.tzinfo is not None:
        task.submitted_at = started
    return task


def _client_for(magics: Any, profile: str | None, platform: str | None = None) -> Any:
    """The default client when the row's profile is the default one (keeps YJ_BASE_URL);
    a gateway task made on another platform than its profile's is followed there."""
    default = profile_settings(magics, None)
    if not profile or profile in ("default", default.profile):
        settings, profile = default, None
    else:
        settings = profile_settings(magics, profile)
    if settings.protocol != "gateway" or platform in (None, settings.platform):
        platform = None
    return magics.client(profile, platform)


def _profile_name(magics: Any, profile: str | None) -> str | None:
    """The profile `-p` names (checked: a ConfigError for an unknown one), or None."""
    return profile_settings(magics, profile).profile if profile else None


def _publish(magics: Any, html: str, text: str) -> None:
    magics.shell.display_pub.publish(data={"text/plain": text, "text/html": html}, metadata={})


def _attach(magics: Any, task: Task, note: str) -> Watcher:
    client = _client_for(magics, task.profile, task.platform)
    card = TaskCard(
        DisplaySink(magics.shell),
        task,
        demo=bool(magics.demo or client.settings.demo),
        refresh_interval=magics.refresh_interval,
    )
    card.note = note
    card.show()
    return follow(magics, client, task, card)


def resume(magics: Any, profile: str | None = None) -> list[Watcher]:
    """Re-attach a live card to every unfinished task in the ledger (not already followed),
    or only to those of one profile."""
    live = watchers(magics)
    attached = []
    for row in default_ledger().pending_tasks(include_timeout=True):
        if profile is not None and row.get("profile") != profile:
            continue
        taskid = str(row.get("taskid") or "")
        if not taskid or (taskid in live and not live[taskid].done):
            continue
        attached.append(_attach(magics, _task_from_row(row), "resumed from the ledger"))
    if not attached:
        print("yjnb: no unfinished tasks to resume")
    else:
        print(f"yjnb: following {len(attached)} unfinished task(s) again")
    return attached


def show_task(magics: Any, taskid: str, profile: str | None = None) -> None:
    live = watchers(magics).get(taskid)
    if live is not None:
        card = TaskCard(DisplaySink(magics.shell), live.task, demo=live.card.demo)
        card.outcome, card.note = live.card.outcome, live.card.note
        card.usage_line, card.save_error = live.card.usage_line, live.card.save_error
        card.show()
        return
    rows = [r for r in default_ledger().tasks() if r.get("taskid") == taskid]
    task = _task_from_row(rows[0]) if rows else Task(taskid=taskid, profile=profile)
    client = _client_for(magics, task.profile or profile, task.platform)
    try:
        get_runner().run(client.aio.task(task))
    except YJError as exc:
        raise UsageError(f"task {taskid}: {type(exc).__name__}: {exc}") from None
    if task.done:
        path = rows[0].get("local_path") if rows else None
        if path:
            task.local_paths["video" if task.kind == "video" else "image"] = str(path)
        card = TaskCard(DisplaySink(magics.shell), task, demo=bool(magics.demo))
        card.outcome = "done"
        card.show()
    else:
        _attach(magics, task, "still running: following it here")


def task_rows(magics: Any, *, all_tasks: bool, profile: str | None = None) -> list[dict[str, Any]]:
    """The ledger's tasks, newest first, with the live status of those followed here;
    only those of `profile` if one is given."""
    limit = None if all_tasks or profile else TASK_LIST_LIMIT
    rows = [r for r in default_ledger().tasks(limit=limit) if profile in (None, r.get("profile"))]
    if not all_tasks:
        rows = rows[:TASK_LIST_LIMIT]
    live = watchers(magics)
    known = {r.get("taskid") for r in rows}
    out = [dict(r) for r in rows]
    for taskid, w in live.items():  # followed here but not (yet) in the ledger
        if taskid not in known and profile in (None, w.task.profile):
            out.append({"taskid": taskid, "kind": w.task.kind, "model": w.task.model,
                        "prompt": w.task.prompt, "started_at": w.task.submitted_at,
                        "profile": w.task.profile})  # fmt: skip
    for row in out:
        followed = live.get(str(row.get("taskid")))
        row["live"] = followed.task.status if followed is not None else None
    return out


def _status(row: dict[str, Any]) -> str:
    return str(row.get("live") or row.get("status") or "?")


def list_tasks(magics: Any, *, all_tasks: bool, profile: str | None = None) -> None:
    rows = task_rows(magics, all_tasks=all_tasks, profile=profile)
    if not rows:
        text = "no tasks yet" + (f" for profile {profile!r}" if profile else "")
        _publish(magics, f"<p>{esc(text)}</p>", text)
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
    pending = sum(1 for r in rows if _status(r).lower() in ("pending", "running", "timeout"))
    if pending:
        html += f"<p>{pending} unfinished: <code>%yj_tasks --resume</code> follows them again</p>"
    _publish(magics, html, "\n".join(lines))


def run_tasks(magics: Any, args: Any) -> None:
    """%yj_tasks [--resume] [--all] [-p PROFILE] [TASKID]."""
    profile = _profile_name(magics, args.profile)
    if args.resume:
        resume(magics, profile)
    elif args.taskid:
        show_task(magics, args.taskid, profile)
    else:
        list_tasks(magics, all_tasks=bool(args.all), profile=profile)
