"""The model catalog: what each model accepts, and `prepare`, which checks a request against it.

The data lives in `_catalog_data` (one small declarative `ModelSpec` per model and catelog);
this module holds the types, the lookups and the validation. A request is checked completely
before anything is sent: `prepare` raises one `ValidationError` listing every problem.

Users give parameters by a normalized name (`first_frame`, `images`, `duration`) or by the
model's own wire name (`image_file1`, `image_files`); `prepare` maps them to wire names,
coerces values (``"4"`` -> 4, ``720p`` -> ``720P``, True -> ``"Y"``) and separates files from
plain fields. Models the catalog does not know are passed through unchecked, with a warning.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ._errors import ValidationError

# fmt: off
__all__ = ["CATELOGS", "FILE_NAMES", "ModelSpec", "Param", "Prepared", "catelogs_of",
           "infer_catelog", "llmid_for", "prepare", "spec", "specs"]
# fmt: on

CATELOGS = ("t2t", "t2i", "t2v", "i2v", "ref2v")
VIDEO_CATELOGS = ("t2v", "i2v", "ref2v")
FILE_NAMES = ("first_frame", "last_frame", "images", "videos", "audios")
PARAM_TYPES = ("str", "int", "yn", "file", "files")
# Set by yjnb itself from the call; never a model parameter.
RESERVED = ("model", "catelogid", "prompt", "llmid")

_KINDS = {"t2t": "chat", "t2i": "image"}
_YES = {"y", "yes", "true", "1", "on"}
_NO = {"n", "no", "false", "0", "off"}
_FILEISH_NAME = re.compile(r"_files?\d*$")


@dataclass(frozen=True)
class Param:
    """One model parameter, as a user names it and as the platform receives it."""

    name: str  # normalized, user-facing: "duration", "first_frame", "images"
    type: str  # "str" | "int" | "yn" | "file" | "files"
    wire: str  # the model's own field name: "image_file1", "image1_file", "image_files"
    required: bool = False
    default: object = None  # the documented default (never filled in by `prepare`)
    choices: tuple[Any, ...] | None = None  # allowed values in canonical casing
    min: int | None = None
    max: int | None = None
    max_files: int | None = None  # "files" only
    accepts_url: bool = False  # "file" only: an http(s) URL may replace the file
    help: str = ""


@dataclass(frozen=True)
class ModelSpec:
    """A model in one catelog. `params` excludes model, catelogid and prompt."""

    id: str
    catelog: str
    vendor: str
    description: str
    params: tuple[Param, ...] = ()
    llmid: str | None = None  # the older API's model id for this catelog

    @property
    def kind(self) -> str:
        """The kind of call: chat (t2t), image (t2i) or video (the rest)."""
        return _KINDS.get(self.catelog, "video")

    def param(self, name_or_wire: str) -> Param | None:
        """The parameter with this normalized name, else with this wire name, else None."""
        by_name = (p for p in self.params if p.name == name_or_wire)
        by_wire = (p for p in self.params if p.wire == name_or_wire)
        return next(by_name, None) or next(by_wire, None)


@dataclass
class Prepared:
    """A checked request, ready for the client to send."""

    model: str
    catelog: str
    prompt: str
    # wire name -> value; non-file fields, and URL strings given for `accepts_url` params.
    # Values are str or int for known models; unknown models keep the values as given.
    fields: dict[str, Any] = field(default_factory=dict)
    # (wire name, the input as given: path, os.PathLike, bytes or binary file object);
    # a "files" parameter repeats its wire name once per file.
    files: list[tuple[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    known: bool = True


# -- lookups -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _index() -> dict[tuple[str, str], ModelSpec]:
    from ._catalog_data import MODELS

    return {(m.id, m.catelog): m for m in MODELS}


def spec(model: str, catelog: str) -> ModelSpec | None:
    """The spec of `model` in `catelog`, or None if the catalog does not know it."""
    return _index().get((model, catelog))


def specs(catelog: str | None = None) -> list[ModelSpec]:
    """Every known model spec, in catalog order, optionally only those of one catelog."""
    return [m for m in _index().values() if catelog is None or m.catelog == catelog]


def catelogs_of(model: str) -> list[str]:
    """The catelogs `model` is known in, in `CATELOGS` order (empty for an unknown model)."""
    return [c for c in CATELOGS if (model, c) in _index()]


def llmid_for(model: str, catelog: str) -> str | None:
    """The older API's model id (`llmid`) of `model` in `catelog`, if the docs give one."""
    s = spec(model, catelog)
    return s.llmid if s else None


@lru_cache(maxsize=1)
def _wire_names() -> dict[str, frozenset[str]]:
    """Normalized file name -> every wire name the catalog maps it to."""
    out: dict[str, set[str]] = {name: {name} for name in FILE_NAMES}
    for m in _index().values():
        for p in m.params:
            if p.name in out:
                out[p.name].add(p.wire)
    return {k: frozenset(v) for k, v in out.items()}


def infer_catelog(kind: str, model: str, params: Mapping[str, Any]) -> str:
    """The catelog a call means: "t2i" for images; for videos an explicit ``catelog``
    parameter, else the model's only video catelog, else ref2v when reference files
    (images/videos/audios) are given, i2v when frames are given, t2v otherwise."""
    if kind in ("chat", "t2t"):
        return "t2t"
    if kind == "image":
        return "t2i"
    if kind != "video":
        raise ValidationError([f"unknown kind {kind!r}; expected chat, image or video"])
    explicit = params.get("catelog")
    if explicit is not None and str(explicit).strip():
        return str(explicit).strip().lower()
    own = [c for c in catelogs_of(model) if c in VIDEO_CATELOGS]
    if len(own) == 1:
        return own[0]
    given = {k for k, v in params.items() if v is not None}
    wires = _wire_names()
    if any(given & wires[n] for n in ("images", "videos", "audios")):
        return "ref2v"
    if any(given & wires[n] for n in ("first_frame", "last_frame")):
        return "i2v"
    return "t2v"


# -- validation --------------------------------------------------------------------------------


def _where(s: ModelSpec) -> str:
    return f"{s.id} ({s.catelog})"


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value[:8].lower().startswith(("http://", "https://"))


def _is_fileobj(value: Any) -> bool:
    return hasattr(value, "read") and not isinstance(value, (str, bytes, bytearray))


def _is_file_input(value: Any) -> bool:
    """bytes, a file object, or an os.PathLike: never a plain JSON field."""
    return isinstance(value, (bytes, bytearray, memoryview, os.PathLike)) or _is_fileobj(value)


def _allowed_choices(choices: tuple[Any, ...]) -> str:
    return ", ".join(str(c) for c in choices)


def _as_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    return None


def _coerce_int(p: Param, s: ModelSpec, value: Any, problems: list[str]) -> int | None:
    number = _as_int(value)
    if number is None:
        problems.append(f"{p.name} must be an integer, got {_show(value)}")
    elif p.choices is not None and number not in p.choices:
        allowed = _allowed_choices(p.choices)
        problems.append(f"{p.name} {number} is not allowed for {_where(s)}; allowed: {allowed}")
    elif (p.min is not None and number < p.min) or (p.max is not None and number > p.max):
        if p.min is not None and p.max is not None:
            allowed = f"{p.min}-{p.max}"
        else:
            allowed = f"{p.min} or more" if p.max is None else f"{p.max} or less"
        problems.append(f"{p.name} {number} is out of range for {_where(s)}; allowed: {allowed}")
    else:
        return number
    return None


def _choice_key(value: str) -> str:
    return value.strip().lower().replace("×", "*").replace("x", "*")


def _coerce_str(p: Param, s: ModelSpec, value: Any, problems: list[str]) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and p.choices:
        value = str(value)
    if not isinstance(value, str):
        problems.append(f"{p.name} must be a string, got {type(value).__name__}")
        return None
    if p.choices is None:
        return value
    key = _choice_key(value)
    for choice in p.choices:
        if _choice_key(str(choice)) == key:
            return str(choice)
    problems.append(
        f"{p.name} {value!r} is not allowed for {_where(s)}; allowed: {_allowed_choices(p.choices)}"
    )
    return None


def _coerce_yn(p: Param, s: ModelSpec, value: Any, problems: list[str]) -> str | None:
    if isinstance(value, bool):
        return "Y" if value else "N"
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in _YES:
        return "Y"
    if text in _NO:
        return "N"
    problems.append(f"{p.name} {_show(value)} is not allowed for {_where(s)}; allowed: Y, N")
    return None


def _split_files(value: Any) -> list[Any]:
    """A "files" value as a list: list/tuple items, or a comma-separated string of paths."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        if "," in value and not os.path.isfile(value):
            return [part.strip() for part in value.split(",") if part.strip()]
        return [value] if value.strip() else []
    return [value]


def _check_file(
    p: Param, s: ModelSpec, item: Any, check_files: bool, problems: list[str]
) -> str | None:
    """One file input; returns "url" or "file" when usable, None after reporting a problem."""
    if _is_url(item):
        if p.accepts_url and p.type == "file":
            return "url"
        problems.append(f"{p.name}: {_where(s)} takes a local file here, not a URL: {item!r}")
        return None
    if isinstance(item, (bytes, bytearray, memoryview)):
        return "file"
    if _is_fileobj(item):
        if isinstance(item, io.TextIOBase):
            problems.append(f"{p.name}: open the file in binary mode ('rb'), not text mode")
            return None
        if getattr(item, "closed", False):
            problems.append(f"{p.name}: the file object is closed")
            return None
        return "file"
    if not isinstance(item, (str, os.PathLike)):
        problems.append(
            f"{p.name} must be a path, bytes or a binary file object, got {type(item).__name__}"
        )
        return None
    path = os.fsdecode(os.fspath(item))
    if not path.strip():
        problems.append(f"{p.name}: empty file path")
        return None
    if check_files:
        if not os.path.exists(path):
            problems.append(f"{p.name}: no such file: {path!r}")
            return None
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            problems.append(f"{p.name}: not a readable file: {path!r}")
            return None
    return "file"


def _prepare_files(
    p: Param, s: ModelSpec, value: Any, check_files: bool, out: Prepared, problems: list[str]
) -> bool:
    """Add a "file"/"files" value to `out`; False when nothing usable was given."""
    items = _split_files(value)
    if p.type == "file" and len(items) > 1:
        problems.append(f"{p.name} takes one file for {_where(s)}, got {len(items)}")
        return True
    if p.max_files is not None and len(items) > p.max_files:
        problems.append(
            f"{p.name}: {len(items)} files given; {_where(s)} takes at most {p.max_files}"
        )
        return True
    before = len(problems)
    usable: list[tuple[str, Any]] = []
    for item in items:
        how = _check_file(p, s, item, check_files, problems)
        if how is not None:
            usable.append((how, item))
    if len(problems) == before:
        for how, item in usable:
            if how == "url":
                out.fields[p.wire] = item
            else:
                out.files.append((p.wire, item))
    return bool(items)


def _passthrough(out: Prepared, params: Mapping[str, Any]) -> None:
    """Unknown models (and chat): send the parameters under the names given, unchecked."""
    for name, value in params.items():
        if name == "catelog" or value is None:
            continue
        fileish = name in FILE_NAMES or bool(_FILEISH_NAME.search(name))
        items = value if isinstance(value, (list, tuple)) else [value]
        as_files = all(_is_file_input(i) for i in items) or (
            fileish and all(isinstance(i, str) and os.path.isfile(i) for i in items)
        )
        if items and as_files:
            out.files.extend((name, i) for i in items)
        else:
            if fileish and isinstance(value, str) and not _is_url(value):
                out.warnings.append(f"{name}: {value!r} is not an existing file; sent as text")
            out.fields[name] = value


def prepare(
    model: str,
    catelog: str,
    prompt: str,
    params: Mapping[str, Any],
    *,
    check_files: bool = True,
) -> Prepared:
    """Check a media request against the catalog and map it to wire names.

    Raises `ValidationError` listing every problem at once. Documented defaults are not
    filled in: only what the caller gave is sent. The ``catelog`` key of `params` (used by
    `infer_catelog`) is ignored; None values count as not given.
    """
    problems: list[str] = []
    if not isinstance(prompt, str):
        problems.append(f"prompt must be a string, got {type(prompt).__name__}")
    elif not prompt.strip():
        problems.append("prompt is required and cannot be empty")
    out = Prepared(model=model, catelog=catelog, prompt=prompt)
    s = spec(model, catelog)

    if catelog not in CATELOGS:
        problems.append(f"unknown catelog {catelog!r}; expected one of {', '.join(CATELOGS)}")
    elif s is None and catelogs_of(model):
        problems.append(
            f"{model} has no {catelog} variant in yjnb's catalog; "
            f"it has {', '.join(catelogs_of(model))}"
        )
    elif s is None or s.catelog == "t2t":
        if s is None:
            out.known = False
            out.warnings.append(
                f"model {model!r} is not in yjnb's catalog; parameters are sent unchecked"
            )
        _passthrough(out, params)
    else:
        _check_params(s, params, check_files, out, problems)

    if problems:
        raise ValidationError(problems)
    return out


def _check_params(
    s: ModelSpec, params: Mapping[str, Any], check_files: bool, out: Prepared, problems: list[str]
) -> None:
    given: dict[str, tuple[str, Any]] = {}  # normalized name -> (name as given, value)
    allowed = ", ".join(sorted(p.name for p in s.params)) or "none"
    for name, value in params.items():
        if name == "catelog":
            continue
        if name in RESERVED:
            problems.append(f"{name!r} is set by yjnb, not a parameter; remove it")
            continue
        p = s.param(name)
        if p is None:
            problems.append(f"unknown parameter {name!r} for {_where(s)}; allowed: {allowed}")
            continue
        if value is None:
            continue
        if p.name in given:
            problems.append(f"{p.name} given twice (as {given[p.name][0]} and {name})")
            continue
        given[p.name] = (name, value)

    for p in s.params:  # catalog order keeps requests deterministic
        if p.name not in given:
            if p.required:
                problems.append(f"{p.name} is required for {_where(s)} (sent as {p.wire})")
            continue
        value = given[p.name][1]
        if p.type in ("file", "files"):
            if not _prepare_files(p, s, value, check_files, out, problems) and p.required:
                problems.append(f"{p.name} is required for {_where(s)} (sent as {p.wire})")
            continue
        coerce = {"int": _coerce_int, "yn": _coerce_yn}.get(p.type, _coerce_str)
        result = coerce(p, s, value, problems)
        if result is not None:
            out.fields[p.wire] = result
