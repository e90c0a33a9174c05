"""`%yj_video --remix TASKID [name=value ...] prompt`: a new video from a finished one.

Openai and gateway profiles only (a Yuanjing profile gets a one-line UsageError before
anything is sent). The video to remix is looked up among the tasks followed in this kernel,
then in the ledger: its model is the default for the remix (`-m` overrides it), its gateway
platform is kept, and a video known not to have finished is refused before sending. A task
id yjnb has never seen is sent as is: the service says whether it exists.

The remix is a task like any other: the same live card, progress, `--bg`, `-o VAR`, saving
and `%yj_tasks`.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from .._config import Settings
from .._types import Task
from ..ledger import default_ledger
from .media import cell_prompt, check_request, finish_cell, split_params, submit_and_follow
from .protocols import catalog_name, require_protocol
from .task_view import DisplaySink
from .task_watch import watchers
from .usage import check_budget

__all__ = ["run_remix", "source_task"]

_UNFINISHED = ("pending", "running", "timeout")


def source_task(magics: Any, taskid: str) -> Task | None:
    """The task to remix as this kernel or the ledger knows it; None if unknown."""
    followed = watchers(magics).get(taskid)
    if followed is not None:
        return followed.task
    try:
        rows = [r for r in default_ledger().tasks() if r.get("taskid") == taskid]
    except Exception:  # an unreadable ledger: the service still knows the task
        return None
    if not rows:
        return None
    row = rows[0]
    params = row.get("params") or {}
    status = str(row.get("status") or "").lower()
    return Task(
        taskid=taskid,
        status="SUCCEEDED" if status == "ok" else status.upper() or "CREATED",
        kind=str(row.get("kind") or "video"),
        model=row.get("model"),
        prompt=row.get("prompt"),
        profile=row.get("profile"),
        platform=params.get("platform") if isinstance(params, dict) else None,
    )


def _check_source(source: Task | None, taskid: str) -> None:
    if source is None:
        return
    if source.kind != "video":
        raise UsageError(f"--remix {taskid}: that task made an image; remix takes a video")
    status = source.status.lower()
    if status in _UNFINISHED or status == "created" or (source.done and not source.succeeded):
        raise UsageError(
            f"--remix {taskid}: that video is {source.status}, not finished; "
            "remix a video that succeeded (nothing was sent)"
        )


def run_remix(magics: Any, args: Any, cell: str | None, settings: Settings) -> None:
    require_protocol(settings, "--remix needs", ("openai", "gateway"))
    taskid = str(args.remix).strip()
    source = source_task(magics, taskid)
    _check_source(source, taskid)
    model = args.model or (source.model if source is not None else None)
    catalog = catalog_name(settings.protocol)
    body = (cell or "").strip()
    params, words = split_params(
        "video", model or "", list(args.words or []), has_cell=bool(body), catalog=catalog
    )
    prompt = cell_prompt(body, words)
    if not prompt.strip():
        raise UsageError(f"--remix {taskid} needs a prompt: say how the video should change")
    if model:
        _, warnings = check_request("video", model, prompt, params, catalog=catalog)
        for warning in warnings:
            print(f"yjnb: {warning}")
    check_budget(magics, force=bool(args.force))
    client = magics.client(args.profile, args.platform)
    what: Task | str = source if source is not None else taskid
    call = client.aio.remix(what, prompt, model=model, wait=False, **params)
    watcher = submit_and_follow(
        magics, client, call, DisplaySink(magics.shell), save=args.save, timeout=args.timeout
    )
    finish_cell(magics, args, watcher)
