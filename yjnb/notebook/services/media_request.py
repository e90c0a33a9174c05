"""A media magic's words to a checked request: parameters, prompt, the catalog's verdict.

Words of the form `name=value` whose name is a parameter the catalog knows (a normalized
name such as `duration`/`first_frame`, a model's wire name such as `image_file1`, or
`catelog`) are parameters; the other words are the prompt. For `%%yj_video` the cell body is
the prompt and every word on the line must be `name=value`. A word like `duraton=4`, close to
a known name, is refused rather than silently sent as prompt text; so is a leading word whose
name some other model takes (`size=999x999` for an image model without `size`): it goes to
the check as a parameter, which refuses it with what this model takes.

`check_request` asks the core's one validation (`yjnb._prepare.prepare_task`: the protocol and
its catalog) before anything is sent and turns its `ValidationError` into one `UsageError`
listing every problem; the prepared request it returns is what is sent.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from IPython.core.error import UsageError

from ..._catalog import Catalog
from ..._catalog_types import RESERVED
from ..._errors import ValidationError
from ..._prepare import prepare_task
from ...protocols import media_parameter_names
from ...protocols.base import PreparedTask, Protocol

__all__ = ["cell_prompt", "check_request", "split_params"]

_WORD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


def split_params(
    kind: str, model: str, words: list[str], *, catalog: Catalog, has_cell: bool = False
) -> tuple[dict[str, str], list[str]]:
    """(`name=value` parameters, prompt words). Raises UsageError for near-miss names."""
    names = catalog.known_names(kind)
    own = catalog.kind_catelogs(kind)
    unknown_model = not any(c in own for c in catalog.catelogs_of(model))
    params: dict[str, str] = {}
    prompt: list[str] = []
    problems: list[str] = []
    for word in words:
        match = _WORD.match(word)
        if match is None:
            prompt.append(word)
            continue
        name, value = match.groups()
        # Before the first prompt word, a name another model takes is meant as a parameter:
        # the check refuses it for this model (nothing is charged for it as prompt text).
        leading = not prompt and name in media_parameter_names()
        if name in names or unknown_model or has_cell or leading:
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
    protocol: Protocol,
    profile: str,
    kind: str,
    model: str,
    prompt: str,
    params: dict[str, Any],
    *,
    platform: str | None = None,
    remix_of: str | None = None,
) -> PreparedTask:
    """The request checked once by the core (`prepare_task`), ready to send; else one
    UsageError listing every problem."""
    try:
        return prepare_task(
            protocol, kind, prompt, model=model, profile=profile, params=params,
            platform=platform, remix_of=remix_of,
        )  # fmt: skip
    except ValidationError as exc:
        where = f"{model}" + (f" ({params['catelog']})" if params.get("catelog") else "")
        raise UsageError(
            f"nothing was sent; {len(exc.problems)} problem(s) with this {kind} request for "
            f"{where}: " + "; ".join(exc.problems)
        ) from None


def cell_prompt(body: str, words: list[str]) -> str:
    """The prompt: the cell body or the line's prompt words, not both."""
    if body and words:
        raise UsageError(
            "give the prompt either on the line or in the cell body, not both "
            f"(line words: {' '.join(words)!r})"
        )
    return body or " ".join(words)
