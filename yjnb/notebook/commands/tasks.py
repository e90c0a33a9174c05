"""%yj_tasks: the ledger's tasks, one task's card, `--resume` of unfinished ones, `--forget`.

A task the service answers 404 for is `lost` (the core marks it, `yjnb._media`): `--resume`
never polls it again. `--forget ID` and `--forget-lost` hide tasks from the list and from
`--resume` without deleting their rows (they may have been paid for; `--all` still shows
them). Statuses are the words of `yjnb._status`, the one vocabulary.

`-p PROFILE` keeps the tasks started with that profile (the ledger notes each task's
profile); with `--resume` only those are followed again, with a task id that profile's client
looks it up. Cards are the same live `TaskCard`s %yj_video and %yj_image show, followed by
the same task service (`services/tasks.py`); the list is drawn by `views/tasks_table.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ..._errors import YJError
from ..._runner import get_runner
from ..._types import Task
from ...ledger import default_ledger
from ..protocols import protocol_of
from ..services.tasks import Watcher, follow, task_from_row
from ..views.task_card import DisplaySink, TaskCard
from ..views.tasks_table import show_tasks

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["forget", "list_tasks", "resume", "run_tasks", "show_task", "task_rows"]

TASK_LIST_LIMIT = 20


def _client_for(
    session: Session, profile: str | None, platform: str | None = None, demo: bool | None = None
) -> Any:
    """The default client when the row's profile is the default one (keeps YJ_BASE_URL);
    a gateway task made on another platform than its profile's is followed there. A task the
    ledger knows is followed where it was made: a demo one on the demo emulator (which
    outlives kernels), a real one on the real platform, whatever mode the kernel is in now."""
    default = session.profile_settings(None)
    if not profile or profile in ("default", default.profile):
        settings, profile = default, None
    else:
        settings = session.profile_settings(profile)
    if not protocol_of(settings).supports("platform") or platform in (None, settings.platform):
        platform = None
    return session.client(profile, platform, demo=demo)


def _profile_name(session: Session, profile: str | None) -> str | None:
    """The profile `-p` names (checked: a ConfigError for an unknown one), or None."""
    return session.profile_settings(profile).profile if profile else None


def _attach(session: Session, task: Task, note: str, demo: bool | None = None) -> Watcher:
    client = _client_for(session, task.profile, task.platform, demo)
    card = TaskCard(
        DisplaySink(session.shell),
        task,
        demo=bool(client.settings.demo),
        refresh_interval=session.options.refresh_interval,
    )
    card.note = note
    card.show()
    return follow(session, client, task, card)


def resume(session: Session, profile: str | None = None) -> list[Watcher]:
    """Re-attach a live card to every unfinished task in the ledger (not already followed),
    or only to those of one profile."""
    live = session.watchers
    attached = []
    for row in default_ledger().pending_tasks(include_timeout=True):
        if profile is not None and row.get("profile") != profile:
            continue
        taskid = str(row.get("taskid") or "")
        if not taskid or (taskid in live and not live[taskid].done):
            continue
        demo = bool(row.get("demo"))
        attached.append(_attach(session, task_from_row(row), "resumed from the ledger", demo))
    if not attached:
        print("yjnb: no unfinished tasks to resume")
    else:
        print(f"yjnb: following {len(attached)} unfinished task(s) again")
    return attached


def show_task(session: Session, taskid: str, profile: str | None = None) -> None:
    live = session.watchers.get(taskid)
    if live is not None and live.card.outcome != "lost":  # a lost one is looked up again
        card = TaskCard(DisplaySink(session.shell), live.task, demo=live.card.demo)
        card.outcome, card.note, card.error = live.card.outcome, live.card.note, live.card.error
        card.usage_line, card.save_error = live.card.usage_line, live.card.save_error
        card.embeds, card.poster = live.card.embeds, live.card.poster
        card.show()
        card.emit_embeds()
        return
    rows = [r for r in default_ledger().tasks() if r.get("taskid") == taskid]
    # Asked for by id, a lost task is polled again: if the service knows it after all, its
    # row is updated in place (`ok` replaces `lost`).
    task = task_from_row(rows[0]) if rows else Task(taskid=taskid, profile=profile)
    demo = bool(rows[0].get("demo")) if rows else None
    client = _client_for(session, task.profile or profile, task.platform, demo)
    try:
        get_runner().run(client.aio.task(task))
    except YJError as exc:
        raise UsageError(f"task {taskid}: {type(exc).__name__}: {exc}") from None
    if task.done:
        path = rows[0].get("local_path") if rows else None
        if path:
            task.local_paths["video" if task.kind == "video" else "image"] = str(path)
        card = TaskCard(DisplaySink(session.shell), task, demo=bool(client.settings.demo))
        card.outcome = "done"
        card.prepare_media()
        card.show()
        card.emit_embeds()
    else:
        _attach(session, task, "still running: following it here", demo)


def task_rows(
    session: Session, *, all_tasks: bool, profile: str | None = None
) -> list[dict[str, Any]]:
    """The ledger's tasks, newest first, with the live status of those followed here;
    only those of `profile` if one is given."""
    limit = None if all_tasks or profile else TASK_LIST_LIMIT
    found = default_ledger().tasks(limit=limit, forgotten=all_tasks)
    rows = [r for r in found if profile in (None, r.get("profile"))]
    if not all_tasks:
        rows = rows[:TASK_LIST_LIMIT]
    live = session.watchers
    known = {r.get("taskid") for r in rows}
    out = [dict(r) for r in rows]
    for taskid, w in live.items():  # followed here but not (yet) in the ledger
        if taskid not in known and profile in (None, w.task.profile):
            out.append({"taskid": taskid, "kind": w.task.kind, "model": w.task.model,
                        "prompt": w.task.prompt, "started_at": w.task.submitted_at,
                        "profile": w.task.profile})  # fmt: skip
    for row in out:  # what this kernel's card says, in the same words as the ledger
        followed = live.get(str(row.get("taskid")))
        row["live"] = followed.card.status if followed is not None else None
    return out


def list_tasks(session: Session, *, all_tasks: bool, profile: str | None = None) -> None:
    """The table of tasks (`views/tasks_table.py`), or a line saying there are none."""
    show_tasks(session.shell, task_rows(session, all_tasks=all_tasks, profile=profile), profile)


def forget(session: Session, taskid: str | None, *, lost: bool) -> int:
    """Hide one task (`--forget ID`) or every lost one (`--forget-lost`) from the list and
    from --resume; the rows stay. A task followed here is no longer followed."""
    ledger = default_ledger()
    if lost:
        count = ledger.forget_lost()
        for taskid, watcher in list(session.watchers.items()):
            if watcher.card.outcome == "lost":
                del session.watchers[taskid]
        print(f"yjnb: forgot {count} lost task(s); %yj_tasks --all still lists them")
        return count
    assert taskid is not None
    if not ledger.forget(taskid):
        known = any(r.get("taskid") == taskid for r in ledger.tasks())
        why = "it is forgotten already" if known else "the ledger has no such task"
        raise UsageError(f"--forget {taskid}: {why} (%yj_tasks --all lists every task)")
    followed = session.watchers.pop(taskid, None)
    if followed is not None and not followed.done:
        followed.cancel()
    print(f"yjnb: forgot task {taskid}; its row stays in the ledger (%yj_tasks --all)")
    return 1


def run_tasks(session: Session, args: Any) -> None:
    """%yj_tasks [--resume] [--all] [-p PROFILE] [--forget ID | --forget-lost] [TASKID]."""
    if args.forget or args.forget_lost:
        if args.resume or args.taskid or (args.forget and args.forget_lost):
            raise UsageError("--forget ID and --forget-lost go alone (no --resume, no TASKID)")
        forget(session, args.forget, lost=bool(args.forget_lost))
        return
    profile = _profile_name(session, args.profile)
    if args.resume:
        resume(session, profile)
    elif args.taskid:
        show_task(session, args.taskid, profile)
    else:
        list_tasks(session, all_tasks=bool(args.all), profile=profile)
