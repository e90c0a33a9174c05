"""%yj_video, %yj_image and %yj_tasks: words to a checked request, a live card, resume.

Words of the form `name=value` whose name is a parameter the catalog knows (a normalized
name such as `duration`/`first_frame`, a model's wire name such as `image_file1`, or
`catelog`) are parameters; the other words are the prompt. For `%%yj_video` the cell body is
the prompt and every word on the line must be `name=value`. A word like `duraton=4`, close to
a known name, is refused rather than silently sent as prompt text. With no prompt at all the
magic shows the form instead.

Everything is checked by the catalog before anything is sent (one `UsageError` listing every
problem), then the budget, then the task is submitted and followed by a `Watcher` on the
runner loop. The cell waits for it unless `--bg`; a kernel interrupt while waiting leaves the
watcher running and says so.
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime
from typing import Any

from IPython.core.error import UsageError

from .._catalog import RESERVED, VIDEO_CATELOGS, catelogs_of, infer_catelog, prepare, specs
from .._errors import InsufficientBalanceError, ValidationError, YJError
from .._runner import get_runner
from .._types import Task
from ..ledger import default_ledger
from .html import esc
from .task_view import DisplaySink, TaskCard, elapsed_text, shorten
from .task_watch import Watcher, media_dir, watchers
from .usage import check_budget

__all__ = ["run_media", "run_tasks", "split_params", "start_task"]

_WORD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)
TASK_LIST_LIMIT = 20


# -- words -> parameters and prompt -------------------------------------------------------------


def _catelogs_for(kind: str) -> tuple[str, ...]:
    return ("t2i",) if kind == "image" else VIDEO_CATELOGS


def known_names(kind: str) -> set[str]:
    """Every parameter name (normalized and wire) of every model of this kind, plus catelog."""
    names = {"catelog", *RESERVED}
    for s in specs():
        if s.catelog in _catelogs_for(kind):
            for p in s.params:
                names.update((p.name, p.wire))
    return names


def split_params(
    kind: str, model: str, words: list[str], *, has_cell: bool = False
) -> tuple[dict[str, str], list[str]]:
    """(`name=value` parameters, prompt words). Raises UsageError for near-miss names."""
    names = known_names(kind)
    unknown_model = not any(c in _catelogs_for(kind) for c in catelogs_of(model))
    params: dict[str, str] = {}
    prompt: list[str] = []
    problems: list[str] = []
    for word in words:
        match = _WORD.match(word)
        if match is None:
            prompt.append(word)
            continue
        name, value = match.groups()
        if name in names or unknown_model or has_cell:
            if name in params:
                problems.append(f"{name} given twice")
            params[name] = value
            continue
        close = difflib.get_close_matches(name, sorted(names - set(RESERVED)), n=1, cutoff=0.8)
        if close:
            problems.append(
                f"unknown parameter {name!r} (did you mean {close[0]}?); "
                "to send it as prompt text, quote the prompt or put it in the cell body"
            )
            continue
        prompt.append(word)
    if problems:
        raise UsageError("; ".join(problems))
    return params, prompt


def check_request(
    kind: str, model: str, prompt: str, params: dict[str, Any], *, check_files: bool = True
) -> tuple[str, list[str]]:
    """(catelog, warnings) for a request the catalog accepts; else one UsageError."""
    try:
        catelog = infer_catelog(kind, model, params)
        prepared = prepare(model, catelog, prompt, params, check_files=check_files)
    except ValidationError as exc:
        where = f"{model}" + (f" ({params['catelog']})" if params.get("catelog") else "")
        raise UsageError(
            f"nothing was sent; {len(exc.problems)} problem(s) with this {kind} request for "
            f"{where}: " + "; ".join(exc.problems)
        ) from None
    return catelog, prepared.warnings


# -- starting and following a task ---------------------------------------------------------------


def start_task(
    magics: Any,
    *,
    kind: str,
    model: str,
    catelog: str,
    prompt: str,
    params: dict[str, Any],
    sink: Any,
    profile: str | None = None,
    save: str | None = None,
    timeout: float | None = None,
) -> Watcher:
    """Submit (the request is already checked) and follow the task with a live card."""
    client = magics.client(profile)
    try:
        task = get_runner().run(
            client.aio.submit(kind, prompt, model=model, catelog=catelog, params=params)
        )
    except InsufficientBalanceError as exc:
        raise UsageError(f"InsufficientBalanceError: {exc}; nothing was charged") from None
    card = TaskCard(
        sink,
        task,
        demo=bool(magics.demo or client.settings.demo),
        refresh_interval=magics.refresh_interval,
    )
    card.show()
    return follow(magics, client, task, card, timeout=timeout, save=save)


def follow(
    magics: Any,
    client: Any,
    task: Task,
    card: TaskCard,
    *,
    timeout: float | None = None,
    save: str | None = None,
) -> Watcher:
    return Watcher(
        client,
        task,
        card,
        timeout=magics.wait_timeout if timeout is None else timeout,
        save_dir=media_dir(magics, client, save),
        registry=watchers(magics),
    ).start()


def wait_in_cell(watcher: Watcher) -> Task | None:
    """Wait for the watcher; a kernel interrupt moves the task to the background."""
    try:
        return watcher.result()
    except KeyboardInterrupt:
        watcher.card.note = (
            "interrupted: the task keeps running in the background and this card keeps "
            "updating; %yj_tasks lists it"
        )
        watcher.card.refresh(force=True)
        print(f"yjnb: task {watcher.task.taskid} moved to the background (%yj_tasks to see it)")
        return None


def run_media(magics: Any, kind: str, args: Any, cell: str | None) -> Any:
    """%yj_video / %yj_image: check, submit, show the live card; no prompt shows the form."""
    model = args.model or (magics.video_model if kind == "video" else magics.image_model)
    body = (cell or "").strip()
    params, words = split_params(kind, model, list(args.words or []), has_cell=bool(body))
    if body and words:
        raise UsageError(
            "give the prompt either on the line or in the cell body, not both "
            f"(line words: {' '.join(words)!r})"
        )
    prompt = body or " ".join(words)
    if not prompt.strip():
        from .forms import form

        return form(kind, magics=magics, model=model, values=params)
    catelog, warnings = check_request(kind, model, prompt, params)
    for warning in warnings:
        print(f"yjnb: {warning}")
    check_budget(magics, force=bool(args.force))
    watcher = start_task(
        magics,
        kind=kind,
        model=model,
        catelog=catelog,
        prompt=prompt,
        params=params,
        sink=DisplaySink(magics.shell),
        profile=args.profile,
        save=args.save,
        timeout=args.timeout,
    )
    if args.output:
        magics.shell.user_ns[args.output] = watcher.task
    if not args.bg:
        wait_in_cell(watcher)
    return None


# -- %yj_tasks ----------------------------------------------------------------------------------


def _task_from_row(row: dict[str, Any]) -> Task:
    task = Task(
        taskid=str(row["taskid"]),
        status="CREATED",
        kind=str(row.get("kind") or "video"),
        model=row.get("model"),
        catelog=row.get("catelog"),
        prompt=row.get("prompt"),
        params=dict(row.get("params") or {}),
        profile=row.get("profile"),
    )
    started = row.get("started_at")
    if isinstance(started, datetime) and started.tzinfo is not None:
        task.submitted_at = started
    return task


def _client_for(magics: Any, profile: str | None) -> Any:
    """The default client when the row's profile is the default one (keeps YJ_BASE_URL)."""
    client = magics.client(None)
    if not profile or profile in ("default", client.settings.profile):
        return client
    return magics.client(profile)


def _publish(magics: Any, html: str, text: str) -> None:
    magics.shell.display_pub.publish(data={"text/plain": text, "text/html": html}, metadata={})


def _attach(magics: Any, task: Task, note: str) -> Watcher:
    client = _client_for(magics, task.profile)
    card = TaskCard(
        DisplaySink(magics.shell),
        task,
        demo=bool(magics.demo or client.settings.demo),
        refresh_interval=magics.refresh_interval,
    )
    card.note = note
    card.show()
    return follow(magics, client, task, card)


def resume(magics: Any) -> list[Watcher]:
    """Re-attach a live card to every unfinished task in the ledger (not already followed)."""
    live = watchers(magics)
    attached = []
    for row in default_ledger().pending_tasks(include_timeout=True):
        taskid = str(row.get("taskid") or "")
        if not taskid or (taskid in live and not live[taskid].done):
            continue
        attached.append(_attach(magics, _task_from_row(row), "resumed from the ledger"))
    if not attached:
        print("yjnb: no unfinished tasks to resume")
    else:
        print(f"yjnb: following {len(attached)} unfinished task(s) again")
    return attached


def show_task(magics: Any, taskid: str) -> None:
    live = watchers(magics).get(taskid)
    if live is not None:
        card = TaskCard(DisplaySink(magics.shell), live.task, demo=live.card.demo)
        card.outcome, card.note = live.card.outcome, live.card.note
        card.usage_line, card.save_error = live.card.usage_line, live.card.save_error
        card.show()
        return
    rows = [r for r in default_ledger().tasks() if r.get("taskid") == taskid]
    task = _task_from_row(rows[0]) if rows else Task(taskid=taskid)
    client = _client_for(magics, task.profile)
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


def task_rows(magics: Any, *, all_tasks: bool) -> list[dict[str, Any]]:
    """The ledger's tasks, newest first, with the live status of those followed here."""
    rows = default_ledger().tasks(limit=None if all_tasks else TASK_LIST_LIMIT)
    live = watchers(magics)
    known = {r.get("taskid") for r in rows}
    out = [dict(r) for r in rows]
    for taskid, w in live.items():  # followed here but not (yet) in the ledger
        if taskid not in known:
            out.append({"taskid": taskid, "kind": w.task.kind, "model": w.task.model,
                        "prompt": w.task.prompt, "started_at": w.task.submitted_at})  # fmt: skip
    for row in out:
        followed = live.get(str(row.get("taskid")))
        row["live"] = followed.task.status if followed is not None else None
    return out


def _status(row: dict[str, Any]) -> str:
    return str(row.get("live") or row.get("status") or "?")


def list_tasks(magics: Any, *, all_tasks: bool) -> None:
    rows = task_rows(magics, all_tasks=all_tasks)
    if not rows:
        text = "no tasks yet"
        _publish(magics, f"<p>{esc(text)}</p>", text)
        return
    head = ("task id", "kind", "model", "status", "credits", "started", "prompt", "file")
    lines, cells = [], []
    for row in rows:
        started = row.get("started_at")
        age = ""
        if isinstance(started, datetime) and started.tzinfo is not None:
            age = elapsed_text((datetime.now(started.tzinfo) - started).total_seconds()) + " ago"
        credits = row.get("credits")
        values = (
            str(row.get("taskid") or ""),
            str(row.get("kind") or ""),
            str(row.get("model") or ""),
            _status(row),
            "" if credits is None else f"{credits:g}",
            age,
            shorten(row.get("prompt"), 60),
            str(row.get("local_path") or ""),
        )
        cells.append("".join(f"<td style='text-align:left'>{esc(v)}</td>" for v in values))
        lines.append("  ".join(v for v in values[:6]))
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
    """%yj_tasks [--resume] [--all] [TASKID]."""
    if args.resume:
        resume(magics)
    elif args.taskid:
        show_task(magics, args.taskid)
    else:
        list_tasks(magics, all_tasks=bool(args.all))
