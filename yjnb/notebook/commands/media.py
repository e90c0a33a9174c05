"""%yj_video and %yj_image: words to a checked request, a live card that follows the task.

The line's words become parameters and a prompt (`services/media_request.py`); with no prompt
at all the magic displays the form instead (`widgets/forms.py`; `-o VAR` keeps it). The
profile's protocol picks the catalog (`Protocol.catalog`): the Yuanjing models, or for openai
and gateway profiles the OpenAI-style ones (nano-banana, dall-e, veo-3.1, sora-2), whose
`duration`, `first_frame` and `images` the core sends as `seconds`, `input_reference` and
`image` edits.

Everything is checked once, by the core, before anything is sent (one `UsageError` listing
every problem), then the budget, then the checked request is sent as it is and its task
followed by the task service (`services/tasks.py`). The cell waits for it unless `--bg`; a
kernel interrupt while waiting leaves the watcher running and says so.

`%yj_video --remix TASKID [name=value ...] prompt` makes a new video from a finished one, on
openai and gateway profiles only (a Yuanjing profile gets a one-line UsageError before
anything is sent). The video to remix is looked up among the tasks followed in this kernel,
then in the ledger: its model is the default for the remix (`-m` overrides it), its gateway
platform is kept, and a video known not to have finished is refused before sending. A task
id yjnb has never seen is sent as is: the service says whether it exists. The remix is a task
like any other: the same live card, progress, `--bg`, `-o VAR`, saving and `%yj_tasks`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ..._config import Settings
from ..._status import status_word
from ..._types import Task
from ...ledger import default_ledger
from ..protocols import check_platform_option, default_model, protocol_of, require
from ..services.budget import check_budget
from ..services.media_request import cell_prompt, check_request, split_params
from ..services.tasks import Watcher, start_task, task_from_row, wait_in_cell
from ..views.task_card import DisplaySink
from .experiment import refuse_without_over, run_media_experiment

if TYPE_CHECKING:
    from ...protocols.base import PreparedTask
    from ..session import Session

__all__ = ["run_media", "source_task"]


def run_media(session: Session, kind: str, args: Any, cell: str | None) -> Any:
    """%yj_video / %yj_image: check, submit, show the live card; no prompt shows the form.
    `--over DF` runs an experiment (`experiment.py`)."""
    settings = session.profile_settings(args.profile, args.platform)
    check_platform_option(settings, args.platform)
    if args.over is not None:
        return run_media_experiment(session, kind, args, cell)
    refuse_without_over(args)
    if args.model and "," in args.model:
        raise UsageError(f"-m {args.model}: one model at a time (a,b only with --over DF)")
    if getattr(args, "remix", None):
        return run_remix(session, args, cell, settings)
    protocol = protocol_of(settings)
    model = args.model or default_model(session.options, kind, settings)
    body = (cell or "").strip()
    params, words = split_params(
        kind, model, list(args.words or []), catalog=protocol.catalog, has_cell=bool(body)
    )
    prompt = cell_prompt(body, words)
    if not prompt.strip():
        from IPython.display import display

        from ..widgets.forms import TaskForm  # ipywidgets: only when a form is asked for

        form = TaskForm(
            kind,
            session,
            model=model,
            values=params,
            profile=args.profile,
            platform=args.platform,
        )
        # Displayed, not returned: a form cell has no `Out[n]`; `-o VAR` keeps the form.
        if args.output:
            session.shell.user_ns[args.output] = form
        display(form)
        return None
    prepared = check_request(protocol, settings.profile, kind, model, prompt, params)
    send_checked(session, args, prepared)
    return None


def send_checked(session: Session, args: Any, prepared: PreparedTask) -> None:
    """Say the check's warnings, check the budget, send the checked request, follow its task."""
    for warning in prepared.warnings:
        print(f"yjnb: {warning}")
    demo = session.profile_settings(args.profile, args.platform).demo
    check_budget(session, force=bool(args.force), demo=demo, models=[prepared.model])
    watcher = start_task(
        session,
        prepared,
        sink=DisplaySink(session.shell),
        profile=args.profile,
        platform=args.platform,
        save=args.save,
        timeout=args.timeout,
    )
    finish_cell(session, args, watcher)


def finish_cell(session: Session, args: Any, watcher: Watcher) -> None:
    """`-o VAR` gets the Task; without `--bg` the cell waits for it."""
    if args.output:
        session.shell.user_ns[args.output] = watcher.task
    if not args.bg:
        wait_in_cell(watcher)


# -- --remix -------------------------------------------------------------------------------------


def source_task(session: Session, taskid: str) -> Task | None:
    """The task to remix as this kernel or the ledger knows it; None if unknown."""
    followed = session.watchers.get(taskid)
    if followed is not None:
        return followed.task
    try:
        rows = [r for r in default_ledger().tasks() if r.get("taskid") == taskid]
    except Exception:  # an unreadable ledger: the service still knows the task
        return None
    return task_from_row(rows[0]) if rows else None


def _check_source(source: Task | None, taskid: str) -> None:
    if source is None:
        return
    if source.kind != "video":
        raise UsageError(f"--remix {taskid}: that task made an image; remix takes a video")
    # `interrupted`: this kernel stopped following it; only the service knows how it ended.
    status = status_word(source.status)
    if status not in ("ok", "interrupted"):
        raise UsageError(
            f"--remix {taskid}: that video is {status}, not finished ok; "
            "remix a video that succeeded (nothing was sent)"
        )


def run_remix(session: Session, args: Any, cell: str | None, settings: Settings) -> None:
    require(settings, "remix")  # before looking the source up: nothing else matters then
    taskid = str(args.remix).strip()
    source = source_task(session, taskid)
    _check_source(source, taskid)
    protocol = protocol_of(settings)
    model = args.model or (source.model if source is not None else None)
    model = model or default_model(session.options, "video", settings)
    body = (cell or "").strip()
    params, words = split_params(
        "video", model, list(args.words or []), catalog=protocol.catalog, has_cell=bool(body)
    )
    prompt = cell_prompt(body, words)
    if not prompt.strip():
        raise UsageError(f"--remix {taskid} needs a prompt: say how the video should change")
    prepared = check_request(
        protocol, settings.profile, "video", model, prompt, params,
        platform=source.platform if source is not None else None, remix_of=taskid,
    )  # fmt: skip
    send_checked(session, args, prepared)
