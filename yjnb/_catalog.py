"""The model catalog: what each model accepts, and `prepare`, which checks a request against it.

There are two catalogs, one per family of protocols (`catalog_for`): "yuanjing" (the Yuanjing
platform's models, data in `_catalog_data`) and "openai" (the OpenAI-compatible service and the
gateway, data in `_catalog_openai`): one small declarative `ModelSpec` per model and catelog.
This module holds the types, the lookups and the validation; `_catalog_coerce` the value
coercers. Every lookup takes ``catalog=`` (default "yuanjing"). A request is checked completely
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
from functools import cache
from typing import Any

from ._catalog_coerce import COERCERS, where
from ._chat_params import check_chat_params, coerce_chat_params
from ._errors import ValidationError

# fmt: off
__all__ = ["CATALOGS", "CATELOGS", "FILE_NAMES", "ModelSpec", "Param", "Prepared", "catalog_for",
           "catelogs_of", "check_chat_params", "coerce_chat_params", "infer_catelog",
           "llmid_for", "prepare", "spec", "specs", "split_files"]
# fmt: on

CATALOGS = ("yuanjing", "openai")
# protocol -> the catalog its models are described in
_PROTOCOL_CATALOGS = {
    "yuanjing": "yuanjing",
    "yuanjing-legacy": "yuanjing",
    "legacy": "yuanjing",
    "openai": "openai",
    "gateway": "openai",
}

CATELOGS = ("t2t", "t2i", "t2v", "i2v", "ref2v")
VIDEO_CATELOGS = ("t2v", "i2v", "ref2v")
FILE_NAMES = ("first_frame", "last_frame", "images", "videos", "audios")
PARAM_TYPES = ("str", "int", "yn", "size", "file", "files")
# Set by yjnb itself from the call; never a model parameter.
RESERVED = ("model", "catelogid", "prompt", "llmid")

_KINDS = {"t2t": "chat", "t2i": "image"}
_FILEISH_NAME = re.compile(r"_files?\d*$")


@dataclass(frozen=True)
class Param:
    """One model parameter, as a user names it and as the platform receives it."""

    name: str  # normalized, user-facing: "duration", "first_frame", "images"
    type: str  # "str" | "int" | "yn" | "size" | "file" | "files"
    wire: str  # the model's own field name: "image_file1", "image1_file", "image_files"
    required: bool = False
    default: object = None  # the documented default (never filled in by `prepare`)
    choices: tuple[Any, ...] | None = None  # allowed values in canonical casing
    min: int | None = None
    max: int | None = None
    max_files: int | None = None  # "files" only
    accepts_url: bool = False  # "file" only: an http(s) URL may replace the file
    help: str = ""
    needs: str | None = None  # the name of a parameter this one only works with (mask: images)


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


def catalog_for(protocol: str) -> str:
    """The catalog describing a protocol's models: "yuanjing" for yuanjing, yuanjing-legacy
    (and its old name legacy); "openai" for openai and gateway."""
    found = _PROTOCOL_CATALOGS.get(str(protocol).strip().lower())
    if found is None:
        expected = ", ".join(_PROTOCOL_CATALOGS)
        raise ValidationError(f"unknown protocol {protocol!r}; expected one of {expected}")
    return found


@cache
def _index(catalog: str = "yuanjing") -> dict[tuple[str, str], ModelSpec]:
    if catalog == "yuanjing":
        from ._catalog_data import MODELS
    elif catalog == "openai":
        from ._catalog_openai import MODELS
    else:
        raise ValidationError(f"unknown catalog {catalog!r}; expected one of {', '.join(CATALOGS)}")
    return {(m.id, m.catelog): m for m in MODELS}


def spec(model: str, catelog: str, *, catalog: str = "yuanjing") -> ModelSpec | None:
    """The spec of `model` in `catelog`, or None if the catalog does not know it."""
    return _index(catalog).get((model, catelog))


def specs(catelog: str | None = None, *, catalog: str = "yuanjing") -> list[ModelSpec]:
    """Every known model spec, in catalog order, optionally only those of one catelog."""
    return [m for m in _index(catalog).values() if catelog is None or m.catelog == catelog]


def catelogs_of(model: str, *, catalog: str = "yuanjing") -> list[str]:
    """The catelogs `model` is known in, in `CATELOGS` order (empty for an unknown model)."""
    index = _index(catalog)
    return [c for c in CATELOGS if (model, c) in index]


def llmid_for(model: str, catelog: str, *, catalog: str = "yuanjing") -> str | None:
    """The older API's model id (`llmid`) of `model` in `catelog`, if the docs give one."""
    s = spec(model, catelog, catalog=catalog)
    return s.llmid if s else None


@cache
def _wire_names(catalog: str = "yuanjing") -> dict[str, frozenset[str]]:
    """Normalized file name -> every wire name the catalog maps it to."""
    out: dict[str, set[str]] = {name: {name} for name in FILE_NAMES}
    for m in _index(catalog).values():
        for p in m.params:
            if p.name in out:
                out[p.name].add(p.wire)
    return {k: frozenset(v) for k, v in out.items()}


def infer_catelog(
    kind: str, model: str, params: Mapping[str, Any], *, catalog: str = "yuanjing"
) -> str:
    """The catelog a call means: "t2i" for images; for videos an explicit ``catelog``
    parameter, else the model's only video catelog, else ref2v when reference files
    (images/videos/audios) are given, i2v when frames are given, t2v otherwise.
    The openai catalog has no ref2v: any file given (first_frame, input_reference...) means i2v.
    """
    if kind in ("chat", "t2t"):
        return "t2t"
    if kind == "image":
        return "t2i"
    if kind != "video":
        raise ValidationError([f"unknown kind {kind!r}; expected chat, image or video"])
    explicit = params.get("catelog")
    if explicit is not None and str(explicit).strip():
        return str(explicit).strip().lower()
    own = [c for c in catelogs_of(model, catalog=catalog) if c in VIDEO_CATELOGS]
    if len(own) == 1:
        return own[0]
    given = {k for k, v in params.items() if v is not None}
    wires = _wire_names(catalog)
    refs = ("images", "videos", "audios")
    if catalog != "openai" and any(given & wires[n] for n in refs):
        return "ref2v"
    if any(given & wires[n] for n in FILE_NAMES):
        return "i2v"
    return "t2v"


# -- validation --------------------------------------------------------------------------------


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value[:8].lower().startswith(("http://", "https://"))


def _is_fileobj(value: Any) -> bool:
    return hasattr(value, "read") and not isinstance(value, (str, bytes, bytearray))


def _is_file_input(value: Any) -> bool:
    """bytes, a file object, or an os.PathLike: never a plain JSON field."""
    return isinstance(value, (bytes, bytearray, memoryview, os.PathLike)) or _is_fileobj(value)


def split_files(value: Any) -> list[Any]:
    """A "files" value as a list: list/tuple items, or a comma-separated string of paths
    (one `data:` URL, whose base64 follows a comma, or an existing file is not split)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        if "," in value and not value.startswith("data:") and not os.path.isfile(value):
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
        problems.append(f"{p.name}: {where(s)} takes a local file here, not a URL: {item!r}")
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
    items = split_files(value)
    if p.type == "file" and len(items) > 1:
        problems.append(f"{p.name} takes one file for {where(s)}, got {len(items)}")
        return True
    if p.max_files is not None and len(items) > p.max_files:
        problems.append(
            f"{p.name}: {len(items)} files given; {where(s)} takes at most {p.max_files}"
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


@cache
def _file_names(catalog: str) -> frozenset[str]:
    """Every name and wire name of a file parameter in `catalog`, and `FILE_NAMES`."""
    names = set(FILE_NAMES)
    for m in _index(catalog).values():
        names.update(n for p in m.params if p.type in ("file", "files") for n in (p.name, p.wire))
    return frozenset(names)


def _passthrough(out: Prepared, params: Mapping[str, Any], catalog: str) -> None:
    """Unknown models (and chat): send the parameters under the names given, unchecked."""
    for name, value in params.items():
        if name == "catelog" or value is None:
            continue
        fileish = name in _file_names(catalog) or bool(_FILEISH_NAME.search(name))
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
    catalog: str = "yuanjing",
) -> Prepared:
    """Check a media request against `catalog` and map it to wire names.

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
    s = spec(model, catelog, catalog=catalog)
    own = catelogs_of(model, catalog=catalog)
    name = "yjnb's catalog" if catalog == "yuanjing" else f"yjnb's {catalog} catalog"

    if catelog not in CATELOGS:
        problems.append(f"unknown catelog {catelog!r}; expected one of {', '.join(CATELOGS)}")
    elif s is None and own:
        problems.append(f"{model} has no {catelog} variant in {name}; it has {', '.join(own)}")
    elif s is None or s.catelog == "t2t":
        if s is None:
            out.known = False
            out.warnings.append(f"model {model!r} is not in {name}; parameters are sent unchecked")
        _passthrough(out, params, catalog)
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
            problems.append(f"unknown parameter {name!r} for {where(s)}; allowed: {allowed}")
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
                problems.append(f"{p.name} is required for {where(s)} (sent as {p.wire})")
            continue
        value = given[p.name][1]
        if p.needs is not None and p.needs not in given:
            problems.append(f"{p.name} is only used together with {p.needs} for {where(s)}")
        elif p.type in ("file", "files"):
            if not _prepare_files(p, s, value, check_files, out, problems) and p.required:
                problems.append(f"{p.name} is required for {where(s)} (sent as {p.wire})")
        else:
            result = COERCERS[p.type](p, s, value, problems)
            if result is not None:
                out.fields[p.wire] = result
