"""%%yj_chat --over DF: the cell body is a template, run over every row of DF (an experiment).

The same run as `yjnb.experiment(DF, body, models, ...)` (the core's `_experiment`): checked
before any request (an unknown DF, a column the template names that DF lacks, parameters a
model refuses: one `UsageError` line), answered from the cache where it can, the rest sent
through the kernel's adaptive limiter. While it runs, one live progress display
(`views/experiment_view.py`) is refreshed from this thread every `YJMagics.refresh_interval`
seconds; at the end the summary and the compare tables are shown, every cell escaped. `_yj`
and `-o VAR` hold the `Experiment`. A kernel interrupt stops the run: no traceback, every
finished row kept in `_yj` (and in the cache), and "interrupted: 43/80 done, re-run to finish".

`%yj_image --over DF -m a,b "a {animal} in {style}"` (and `%yj_video`, and the cell forms with
the template as the body) run the same way, each cell a task whose files go to the media
folder (`--save DIR`, else `YJMagics.media_dir`); the compare table is then a grid of images.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ..._errors import ValidationError
from ..._experiment import Experiment, prepare_experiment
from ..protocols import default_model, protocol_of, usage_error
from ..services.budget import check_budget
from ..services.chat_parts import split_attachments
from ..services.media_request import cell_prompt, split_params
from ..services.tasks import media_dir
from ..views.experiment_view import ProgressView, frame_html, grid_html, grid_text
from .chat import _models, _output_mode, parse_params

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["refuse_without_over", "run_experiment_cell", "run_media_experiment"]


def _refuse_chat_only(args: Any, attachments: Any) -> None:
    """Options of a single %%yj_chat that an experiment cannot honour: said before anything."""
    refused = [
        flag
        for flag, given in (
            ("--new", args.new),
            ("--no-stream", args.no_stream),
            ("--raw", args.raw),
            ("--api responses", args.api != "chat"),
            ("-f/--format", args.format != "markdown"),
            ("images=/files=", bool(attachments.params())),
        )
        if given
    ]
    if refused:
        raise UsageError(
            f"{', '.join(refused)}: not with --over (an experiment sends each row's prompt "
            "once, without a conversation or attachments); nothing was sent"
        )


def _data(session: Session, name: str) -> Any:
    ns = session.shell.user_ns
    if not name.isidentifier() or name not in ns:
        raise UsageError(
            f"--over {name}: no variable named {name!r} in the notebook; give the name of a "
            "DataFrame, a list of dicts or a list of strings"
        )
    return ns[name]


def _prepare(session: Session, args: Any, cell: str) -> tuple[Experiment, Any]:
    """The checked experiment (nothing sent) and the client it runs on."""
    words, attachments = split_attachments(args.params)
    _refuse_chat_only(args, attachments)
    params = parse_params(words)
    if args.output and not args.output.isidentifier():
        raise UsageError(f"-o {args.output!r} is not a valid variable name")
    if not cell.strip():
        raise UsageError("the cell is empty: write the template below the %%yj_chat line")
    data = _data(session, args.over)
    settings = session.profile_settings(args.profile, args.platform)
    models = _models(session, args.model, settings)
    client = session.client(args.profile, args.platform)
    run = _checked(
        args, client, data, cell.strip("\n"), models, system=args.system, params=params or None
    )
    return run, client


def _checked(
    args: Any, client: Any, data: Any, template: str, models: list[str], **options: Any
) -> Experiment:
    """The experiment checked by the core with the options every --over shares (nothing is
    sent); its `ValidationError` as one `UsageError`."""
    try:
        return prepare_experiment(
            client.aio, client._runner, data, template, models, name=args.name,
            repeat=args.repeat, concurrency=args.concurrency, cache=not args.refresh,
            dry_run=args.dry_run, budget=args.budget, **options,
        )  # fmt: skip
    except ValidationError as exc:
        raise usage_error(exc) from None


def refuse_without_over(args: Any) -> None:
    """Experiment options given without --over: one line, nothing sent."""
    given = [f"--{n}" for n in ("name", "concurrency", "budget") if getattr(args, n)]
    given += ["--repeat"] if args.repeat != 1 else []
    given += [f"--{n}" for n in ("dry-run", "refresh") if getattr(args, n.replace("-", "_"))]
    if given:
        raise UsageError(f"{', '.join(given)}: only with --over DF (an experiment)")


def run_experiment_cell(session: Session, args: Any, cell: str) -> None:
    if args.over is None:
        refuse_without_over(args)
    run, client = _prepare(session, args, cell)
    _execute(session, args, run, client)


def run_media_experiment(session: Session, kind: str, args: Any, cell: str | None) -> None:
    """`%yj_image --over DF` / `%yj_video --over DF`: the prompt (line or body) is the template."""
    refused = [f for f, given in (("--bg", args.bg), ("--remix", getattr(args, "remix", None)))
               if given]  # fmt: skip
    if refused:
        raise UsageError(f"{', '.join(refused)}: not with --over; nothing was sent")
    if args.output and not args.output.isidentifier():
        raise UsageError(f"-o {args.output!r} is not a valid variable name")
    settings = session.profile_settings(args.profile, args.platform)
    models = [m.strip() for m in (args.model or "").split(",") if m.strip()]
    models = models or [default_model(session.options, kind, settings)]
    body = (cell or "").strip("\n")
    params, words = split_params(
        kind, models[0], list(args.words or []), catalog=protocol_of(settings).catalog,
        has_cell=bool(body.strip()),
    )  # fmt: skip
    template = cell_prompt(body, words)
    if not template.strip():
        raise UsageError("--over: no template; write it after the options or in the cell body")
    data = _data(session, args.over)
    client = session.client(args.profile, args.platform)
    run = _checked(
        args, client, data, template, models, kind=kind, params=params or None,
        media_dir=media_dir(session, client.aio, args.save),
        timeout=args.timeout or session.options.wait_timeout,
    )  # fmt: skip
    _execute(session, args, run, client)


def _execute(session: Session, args: Any, run: Experiment, client: Any) -> None:
    """Run a checked experiment with its live progress; then its tables (or the dry run's
    plan). `_yj` and `-o VAR` hold it, whatever happens."""
    ns = session.shell.user_ns
    if run.status == "dry_run":
        _store(ns, args, run)
        print(run)
        return
    check_budget(session, force=args.force, demo=client.settings.demo)
    view = ProgressView(run.name, mode=_output_mode(session))
    view.update(run.progress)
    try:
        interval = session.options.refresh_interval
        run._run_sync(on_progress=view.update, interval=interval, quiet=True)
    finally:
        _store(ns, args, run)  # whatever happened, what finished is in _yj
    if run.status == "interrupted":
        view.update(run.progress, note="interrupted")
        print(f"interrupted: {run.counts['done']}/{run.counts['cells']} done, re-run to finish")
        return
    view.update(run.progress, final=True)
    if run.status == "budget":  # stopped cleanly: what finished is kept, the line says what next
        print(run)
    _show_tables(run)


def _store(ns: dict[str, Any], args: Any, run: Experiment) -> None:
    ns["_yj"] = run
    if args.output:
        ns[args.output] = run


def _show_tables(run: Experiment) -> None:
    from IPython.display import display

    summary, compare = run.summary(), run.compare()
    for frame, caption in ((summary, f"{run.name}: summary"), (compare, f"{run.name}: compare")):
        # text/plain as pandas shows it (long answers cut); the HTML holds them escaped. A
        # media run's compare is its grid of images (escaped by `grid_html`).
        if frame is compare and run.plan.kind != "chat":
            text, html = grid_text(frame), grid_html(frame, caption)
        else:
            text, html = repr(frame), frame_html(frame, caption)
        display({"text/plain": f"{caption}\n{text}", "text/html": html}, raw=True)
