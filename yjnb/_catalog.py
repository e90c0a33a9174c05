"""The model catalog of a protocol: what each model accepts, and `prepare`, which checks a
media request against it.

Each protocol owns one `Catalog`, built from its data module (`yjnb/protocols/*_models.py`):
one small declarative `ModelSpec` per model and catelog. This module holds the lookups and the
validation; `_catalog_types` the vocabulary and `_catalog_coerce` the value coercers. A
request is checked completely before anything is sent: `prepare` raises one
`ValidationError` listing every problem.

Users give parameters by a normalized name (`first_frame`, `images`, `duration`) or by the
model's own wire name (`image_file1`, `image_files`); `prepare` maps them to wire names,
coerces values (``"4"`` -> 4, ``720p`` -> ``720P``, True -> ``"Y"``) and separates files from
plain fields. Models the catalog does not know are passed through unchecked, with a warning.
"""

from __future__ import annotations

import difflib
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any

from ._catalog_coerce import COERCERS, where
from ._catalog_types import (
    CATELOGS,
    FILE_NAMES,
    RESERVED,
    VIDEO_CATELOGS,
    ModelSpec,
    Param,
    Prepared,
    is_url,
    split_files,
)
from ._errors import ValidationError
from ._magic import field_kind, name_problem, upload_problem

__all__ = ["Catalog"]

_FILEISH_NAME = re.compile(r"_files?\d*$")
_REFERENCES = ("images", "videos", "audios")


class Catalog:
    """The models of one protocol family, looked up by (model, catelog).

    `name` says which catalog it is ("yuanjing", "openai"); `title` how messages name it.
    """

    def __init__(self, name: str, models: Iterable[ModelSpec], *, title: str | None = None):
        self.name = name
        self.title = title or f"yjnb's {name} catalog"
        self._index = {(m.id, m.catelog): m for m in models}

    def __repr__(self) -> str:
        return f"Catalog({self.name!r}, {len(self._index)} models)"

    # -- lookups ------------------------------------------------------------------------------

    def spec(self, model: str, catelog: str) -> ModelSpec | None:
        """The spec of `model` in `catelog`, or None if the catalog does not know it."""
        return self._index.get((model, catelog))

    def specs(self, catelog: str | None = None) -> list[ModelSpec]:
        """Every known model spec, in catalog order, optionally only those of one catelog."""
        return [m for m in self._index.values() if catelog is None or m.catelog == catelog]

    def catelogs_of(self, model: str) -> list[str]:
        """The catelogs `model` is known in, in `CATELOGS` order (empty for an unknown model)."""
        return [c for c in CATELOGS if (model, c) in self._index]

    def llmid_for(self, model: str, catelog: str) -> str | None:
        """The older API's model id (`llmid`) of `model` in `catelog`, if the docs give one."""
        s = self.spec(model, catelog)
        return s.llmid if s else None

    def kind_catelogs(self, kind: str) -> tuple[str, ...]:
        """The catelogs of one kind ("image" or "video"), in `CATELOGS` order."""
        found = {s.catelog for s in self._index.values() if s.kind == kind}
        ordered = tuple(c for c in CATELOGS if c in found)
        return ordered or (("t2i",) if kind == "image" else VIDEO_CATELOGS)

    def known_names(self, kind: str) -> set[str]:
        """Every parameter name (normalized and wire) of every model of this kind, plus
        `catelog` and the names yjnb sets itself."""
        names = {"catelog", *RESERVED}
        for s in self._index.values():
            if s.kind == kind:
                for p in s.params:
                    names.update((p.name, p.wire))
        return names

    @cached_property
    def wire_names(self) -> dict[str, frozenset[str]]:
        """Normalized file name -> every wire name the catalog maps it to."""
        out: dict[str, set[str]] = {name: {name} for name in FILE_NAMES}
        for m in self._index.values():
            for p in m.params:
                if p.name in out:
                    out[p.name].add(p.wire)
        return {k: frozenset(v) for k, v in out.items()}

    @cached_property
    def file_names(self) -> frozenset[str]:
        """Every name and wire name of a file parameter, and `FILE_NAMES`."""
        names = set(FILE_NAMES)
        for m in self._index.values():
            names.update(
                n for p in m.params if p.type in ("file", "files") for n in (p.name, p.wire)
            )
        return frozenset(names)

    @cached_property
    def has_references(self) -> bool:
        """Whether any model takes reference files (ref2v): without, any file means i2v."""
        return any(m.catelog == "ref2v" for m in self._index.values())

    def infer_catelog(self, kind: str, model: str, params: Mapping[str, Any]) -> str:
        """The catelog a call means: "t2i" for images; for videos an explicit ``catelog``
        parameter, else the model's only video catelog, else ref2v when reference files
        (images/videos/audios) are given and the catalog has ref2v, i2v when frames (or, with
        no ref2v, any files) are given, t2v otherwise.
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
        own = [c for c in self.catelogs_of(model) if c in VIDEO_CATELOGS]
        if len(own) == 1:
            return own[0]
        given = {k for k, v in params.items() if v is not None}
        wires = self.wire_names
        if self.has_references and any(given & wires[n] for n in _REFERENCES):
            return "ref2v"
        if any(given & wires[n] for n in FILE_NAMES):
            return "i2v"
        return "t2v"

    def _did_you_mean(self, model: str, catelog: str) -> str:
        """ " (did you mean viduq3-pro?)" for a model close to one of this catelog's, else ""."""
        ids = [m.id for m in self.specs(catelog)]
        close = difflib.get_close_matches(model, ids, n=1, cutoff=0.75)
        return f" (did you mean {close[0]}?)" if close else ""

    # -- validation ---------------------------------------------------------------------------

    def prepare(
        self,
        model: str,
        catelog: str,
        prompt: str,
        params: Mapping[str, Any],
        *,
        check_files: bool = True,
    ) -> Prepared:
        """Check a media request and map it to wire names.

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
        s = self.spec(model, catelog)
        own = self.catelogs_of(model)

        if catelog not in CATELOGS:
            problems.append(f"unknown catelog {catelog!r}; expected one of {', '.join(CATELOGS)}")
        elif s is None and own:
            problems.append(
                f"{model} has no {catelog} variant in {self.title}; it has {', '.join(own)}"
            )
        elif s is None or s.catelog == "t2t":
            if s is None:
                out.known = False
                out.warnings.append(
                    f"model {model!r} is not in {self.title}{self._did_you_mean(model, catelog)}; "
                    "parameters are sent unchecked"
                )
            _passthrough(out, params, self.file_names, problems)
        else:
            _check_params(s, params, check_files, out, problems)

        if problems:
            raise ValidationError(problems)
        return out


# -- validation helpers ------------------------------------------------------------------------


def _is_fileobj(value: Any) -> bool:
    return hasattr(value, "read") and not isinstance(value, (str, bytes, bytearray))


def _is_file_input(value: Any) -> bool:
    """bytes, a file object, or an os.PathLike: never a plain JSON field."""
    return isinstance(value, (bytes, bytearray, memoryview, os.PathLike)) or _is_fileobj(value)


def _check_file(
    p: Param, s: ModelSpec, item: Any, check_files: bool, problems: list[str]
) -> str | None:
    """One file input; returns "url" or "file" when usable, None after reporting a problem."""
    if is_url(item):
        if p.accepts_url and p.type == "file":
            return "url"
        problems.append(f"{p.name}: {where(s)} takes a local file here, not a URL: {item!r}")
        return None
    kind = field_kind(p.name)
    if isinstance(item, (bytes, bytearray, memoryview)):
        return _report(upload_problem(p.name, kind, item, "the data given"), problems)
    if _is_fileobj(item):
        if isinstance(item, io.TextIOBase):
            problems.append(f"{p.name}: open the file in binary mode ('rb'), not text mode")
            return None
        if getattr(item, "closed", False):
            problems.append(f"{p.name}: the file object is closed")
            return None
        name = getattr(item, "name", None)
        shown = f"the file object {name!r}" if isinstance(name, str) else "the file object"
        problem = name_problem(p.name, name) or upload_problem(p.name, kind, item, shown)
        return _report(problem, problems)
    if not isinstance(item, (str, os.PathLike)):
        problems.append(
            f"{p.name} must be a path, bytes or a binary file object, got {type(item).__name__}"
        )
        return None
    path = os.fsdecode(os.fspath(item))
    if not path.strip():
        problems.append(f"{p.name}: empty file path")
        return None
    bad_name = name_problem(p.name, path)
    if bad_name is not None:
        problems.append(bad_name)
        return None
    if check_files:
        if not os.path.exists(path):
            problems.append(f"{p.name}: no such file: {path!r}")
            return None
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            problems.append(f"{p.name}: not a readable file: {path!r}")
            return None
        # Only the first bytes are read; a symlink is judged by what it points to.
        return _report(upload_problem(p.name, kind, path, repr(path)), problems)
    return "file"


def _report(problem: str | None, problems: list[str]) -> str | None:
    """ "file" when there is no problem; otherwise the problem is reported and None returned."""
    if problem is None:
        return "file"
    problems.append(problem)
    return None


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


def _passthrough(
    out: Prepared, params: Mapping[str, Any], file_names: frozenset[str], problems: list[str]
) -> None:
    """Unknown models (and chat): send the parameters under the names given, unchecked but
    for the files: those must be media (of the kind the name suggests, if it does)."""
    for name, value in params.items():
        if name == "catelog" or value is None:
            continue
        fileish = name in file_names or bool(_FILEISH_NAME.search(name))
        items = value if isinstance(value, (list, tuple)) else [value]
        as_files = all(_is_file_input(i) for i in items) or (
            fileish and all(isinstance(i, str) and os.path.isfile(i) for i in items)
        )
        if items and as_files:
            out.files.extend((name, i) for i in items)
            problems += _passthrough_file_problems(name, items)
        else:
            if fileish and isinstance(value, str) and not is_url(value):
                out.warnings.append(f"{name}: {value!r} is not an existing file; sent as text")
            out.fields[name] = value


def _passthrough_file_problems(name: str, items: Sequence[Any]) -> list[str]:
    """The files of an unknown model's parameter: valid UTF-8 names, media bytes."""
    found = []
    for item in items:
        if isinstance(item, (str, os.PathLike)):
            path = os.fsdecode(os.fspath(item))
            shown = repr(path)
            problem = name_problem(name, path)
        else:
            path, shown, problem = item, "the data given", None
        problem = problem or upload_problem(name, field_kind(name), path, shown)
        if problem is not None:
            found.append(problem)
    return found


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
