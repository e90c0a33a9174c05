"""A media magic's words to a checked request: parameters, prompt, the catalog's verdict.

Words of the form `name=value` whose name is a parameter the catalog knows (a normalized
name such as `duration`/`first_frame`, a model's wire name such as `image_file1`, or
`catelog`) are parameters; the other words are the prompt. For `%%yj_video` the cell body is
the prompt and every word on the line must be `name=value`. A word like `duraton=4`, close to
a known name, is refused rather than silently sent as prompt text.

`check_request` asks the catalog (`yjnb._catalog.prepare`) before anything is sent and turns
its `ValidationError` into one `UsageError` listing every problem.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from IPython.core.error import UsageError

from ..._catalog import RESERVED, catelogs_of, infer_catelog, prepare, specs
from ..._errors import ValidationError
from ..protocols import kind_catelogs

__all__ = ["check_request", "known_names", "split_params"]

_WORD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


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
