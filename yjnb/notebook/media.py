"""%yj_video and %yj_image: words to a checked request, a live card that follows the task.

Words of the form `name=value` whose name is a parameter the catalog knows (a normalized
name such as `duration`/`first_frame`, a model's wire name such as `image_file1`, or
`catelog`) are parameters; the other words are the prompt. For `%%yj_video` the cell body is
the prompt and every word on the line must be `name=value`. A word like `duraton=4`, close to
a known name, is refused rather than silently sent as prompt text. With no prompt at all the
magic shows the form instead.

The profile's protocol picks the catalog (`protocols.catalog_name`): the Yuanjing models, or
for openai and gateway profiles the OpenAI-style ones (nano-banana, dall-e, veo-3.1, sora-2),
whose `duration`, `first_frame` and `images` the core sends as `seconds`, `input_reference`
and `image` edits. `%yj_video --remix TASKID` is in `remix.py`; %yj_tasks in `tasks_view.py`.

Everything is checked by the catalog before anything is sent (one `UsageError` listing every
problem), then the budget, then the task is submitted and followed by a `Watcher` on the
runner loop. The cell waits for it unless `--bg`; a kernel interrupt while waiting leaves the
watcher running and says so.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from IPython.core.error import UsageError

from .._catalog import RESERVED, catelogs_of, infer_catelog, prepare, specs
from .._errors import InsufficientBalanceError, ValidationError
from .._runner import get_runner
from .._types import Task
from .protocols import (
    catalog_name,
    check_platform_option,
    default_model,
    kind_catelogs,
    profile_settings,
)
from .task_view import DisplaySink, TaskCard
from .task_watch import Watcher, media_dir, watchers
from .usage import check_budget

__all__ = ["check_request", "known_names", "run_media", "split_params", "start_task"]

_WORD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


# -- words -> parameters and prompt -------------------------------------------------------------


def known_names(kind: str, catalog: str = "yuanjing") -> set[str]:
    """Every parameter name (normalized and wire) of every model of this kind, plus catelog."""
    names = {"catelog", *RESERVED}
    for s in specs(catalog=catalog):
        if s.kind == kind:
            for p in s.params:
                names.update((p.name, p.wire))
    return names


def split_params(
    kind: str, model: str, words: list[str], *, has_cell: bool = False, catalog: str = "yuanjing"
) -> tuple[dict[str, str], list[str]]:
    """(`name=value` parameters, prompt words). Raises UsageError for near-miss names."""
    names = known_names(kind, catalog)
    own = kind_catelogs(kind, catalog)
    unknown_model = not any(c in own for c in catelogs_of(model, catalog=catalog))
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
    kind: str,
    model: str,
    prompt: str,
    params: dict[str, Any],
    *,
    check_files: bool = True,
    catalog: str = "yuanjing",
) -> tuple[str, list[str]]:
    """(catelog, warnings) for a request the catalog accepts; else one UsageError."""
    try:
        catelog = infer_catelog(kind, model, params, catalog=catalog)
        prepared = prepare(model, catelog, prompt, params, check_files=check_files, catalog=catalog)
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
    platform: str | None = None,
    save: str | None = None,
    timeout: float | None = None,
) -> Watcher:
    """Submit (the request is already checked) and follow the task with a live card."""
    client = magics.client(profile, platform)
    call = client.aio.submit(kind, prompt, model=model, catelog=catelog, params=params)
    return submit_and_follow(magics, client, call, sink, save=save, timeout=timeout)


def submit_and_follow(
    magics: Any,
    client: Any,
    call: Any,
    sink: Any,
    *,
    save: str | None = None,
    timeout: float | None = None,
) -> Watcher:
    """Run the coroutine `call` (a submit or a remix) and follow its task with a live card."""
    try:
        task = get_runner().run(call)
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
    settings = profile_settings(magics, args.profile, args.platform)
    check_platform_option(settings, args.platform)
    if getattr(args, "remix", None):
        from .remix import run_remix

        return run_remix(magics, args, cell, settings)
    catalog = catalog_name(settings.protocol)
    model = args.model or default_model(magics, kind, settings.protocol, settings.platform)
    body = (cell or "").strip()
    params, words = split_params(
        kind, model, list(args.words or []), has_cell=bool(body), catalog=catalog
    )
    prompt = cell_prompt(body, words)
    if not prompt.strip():
        from .forms import form

        return form(
            kind,
            magics=magics,
            model=model,
            values=params,
            profile=args.profile,
            platform=args.platform,
        )
    catelog, warnings = check_request(kind, model, prompt, params, catalog=catalog)
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
        platform=args.platform,
        save=args.save,
        timeout=args.timeout,
    )
    finish_cell(magics, args, watcher)
    return None


def cell_prompt(body: str, words: list[str]) -> str:
    """The prompt: the cell body or the line's prompt words, not both."""
    if body and words:
        raise UsageError(
            "give the prompt either on the line or in the cell body, not both "
            f"(line words: {' '.join(words)!r})"
        )
    return body or " ".join(words)


def finish_cell(magics: Any, args: Any, watcher: Watcher) -> None:
    """`-o VAR` gets the Task; without `--bg` the cell waits for it."""
    if args.output:
        magics.shell.user_ns[args.output] = watcher.task
    if not args.bg:
        wait_in_cell(watcher)
