"""The one home of validation: `prepare_chat` and `prepare_task`.

Each returns a prepared request or raises one `ValidationError` listing every problem, before
anything is sent and before any credit is spent. What is checked: the prompt; what the
protocol can do (images or files in chat, the Responses API, remix, a platform for the call);
chat parameters (on every protocol, see `_chat_params`); local files; media parameters
against the protocol's catalog (`_catalog`); what the protocol cannot send of them. Warnings
(an unknown model or chat parameter) travel with the result: the caller shows them.

`AsyncClient.chat`/`submit` call these; so do the notebook magics, for every model of a cell
before the first request, and then send the prepared requests as they are.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any

from ._catalog_types import split_files
from ._chat_params import clean_chat_params
from ._errors import ValidationError
from ._magic import name_problem, upload_problem
from ._tasks import file_labels
from .protocols import capability_problem
from .protocols.base import PreparedChat, PreparedTask, Protocol

__all__ = ["as_list", "is_remote", "prepare_chat", "prepare_task"]

CHAT_APIS = ("chat", "responses")
_REMOTE = ("http://", "https://", "data:")


def is_remote(value: Any) -> bool:
    """A chat attachment sent as given (an http(s) or `data:` URL), not a file to read."""
    return isinstance(value, str) and value[:8].lower().startswith(_REMOTE)


def as_list(value: Any) -> list[Any]:
    """None -> [], else as the catalog splits a files value (lists, comma-separated paths)."""
    return [] if value is None else split_files(value)


def _attachment_problems(what: str, items: list[Any], kind: str | None = None) -> list[str]:
    """A chat attachment is a URL, bytes, a binary file object or a readable file whose name
    is valid UTF-8; with a `kind` ("image"), local ones must start like that kind of media."""
    problems = []
    for item in items:
        if is_remote(item):
            continue
        shown = "the data given"
        if hasattr(item, "read") and isinstance(item, io.TextIOBase):
            problems.append(f"{what}: open the file in binary mode ('rb'), not text mode")
            continue
        if isinstance(item, (str, os.PathLike)):
            path = os.path.expanduser(os.fsdecode(os.fspath(item)))
            shown = repr(path)
            problem = name_problem(what, path)
            if problem is None and not os.path.exists(path):
                problem = f"{what}: no such file: {shown}"
            elif problem is None and (not os.path.isfile(path) or not os.access(path, os.R_OK)):
                problem = f"{what}: not a readable file: {shown}"
            if problem is not None:
                problems.append(problem)
                continue
        elif not isinstance(item, (bytes, bytearray, memoryview)) and not hasattr(item, "read"):
            problems.append(
                f"{what}: expected a path, URL, bytes or a binary file, got {type(item).__name__}"
            )
            continue
        problem = upload_problem(what, kind, item, shown) if kind else None
        if problem is not None:
            problems.append(problem)
    return problems


def _capabilities(protocol: Protocol, profile: str, wanted: list[str]) -> list[str]:
    found = (capability_problem(protocol, name, profile) for name in wanted)
    return [problem for problem in found if problem is not None]


def prepare_chat(
    protocol: Protocol,
    prompt: str,
    *,
    model: str,
    profile: str,
    system: str | None = None,
    stream: bool = False,
    images: Any = None,
    files: Any = None,
    api: str = "chat",
    platform: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> PreparedChat:
    """A checked chat call; one `ValidationError` with every problem otherwise."""
    params = dict(params or {})
    problems: list[str] = []
    if not isinstance(prompt, str) or not prompt.strip():
        problems.append("prompt is empty; give the question as a non-empty string")
    if not isinstance(model, str) or not model.strip():
        problems.append("model is empty; give a model name such as qwen3-max")
    if system is not None and not isinstance(system, str):
        problems.append(f"system must be a string, got {type(system).__name__}")
    image_list, file_list = as_list(images), as_list(files)
    wanted = ["chat_images"] if image_list else []
    wanted += ["chat_files"] if file_list else []
    wanted += ["platform"] if platform is not None else []
    if api not in CHAT_APIS:
        problems.append(f"api={api!r} is not known; use 'chat' or 'responses'")
    elif api == "responses":
        wanted.append("responses")
    problems += _capabilities(protocol, profile, wanted)
    problems += protocol.platform_problems(platform)
    problems += _attachment_problems("images", image_list, kind="image")
    problems += _attachment_problems("files", file_list)
    checked, param_problems, warnings = clean_chat_params(params)
    problems += param_problems
    if problems:
        raise ValidationError(problems)

    recorded = {k: v for k, v in params.items() if k != "messages"}
    recorded.update(file_labels([("images", i) for i in image_list]))
    recorded.update(file_labels([("files", f) for f in file_list]))
    if api != "chat":
        recorded["api"] = api
    return PreparedChat(
        model=model,
        prompt=prompt,
        system=system,
        stream=stream,
        api=api,
        platform=platform,
        params=checked,
        images=image_list,
        files=file_list,
        recorded=recorded,
        warnings=warnings,
    )


def prepare_task(
    protocol: Protocol,
    kind: str,
    prompt: str,
    *,
    model: str,
    profile: str,
    catelog: str | None = None,
    params: Mapping[str, Any] | None = None,
    platform: str | None = None,
    remix_of: str | None = None,
    check_files: bool = True,
) -> PreparedTask:
    """A checked image or video task (or a remix); one `ValidationError` otherwise.

    The catelog is `catelog`, else a ``catelog`` parameter, else inferred from the model and
    the files given (`Catalog.infer_catelog`).
    """
    params = dict(params or {})
    wanted = ["remix"] if remix_of else []
    wanted += ["platform"] if platform is not None else []
    problems = _capabilities(protocol, profile, wanted)
    problems += protocol.platform_problems(platform)
    options = protocol.split_task_options(params)
    catalog = protocol.catalog
    try:
        catelog = catelog or catalog.infer_catelog(kind, model, params)
        request = catalog.prepare(model, catelog, prompt, params, check_files=check_files)
    except ValidationError as exc:
        raise ValidationError(problems + exc.problems) from None
    task = PreparedTask(
        kind=kind,
        request=request,
        platform=platform,
        remix_of=remix_of,
        options=options,
        recorded={**request.fields, **file_labels(request.files)},
        warnings=list(request.warnings),
    )
    problems += protocol.task_problems(task)
    if problems:
        raise ValidationError(problems)
    return task
