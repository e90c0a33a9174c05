"""The catalog's vocabulary: `Param`, `ModelSpec`, `Prepared` and the names every catalog shares.

A catalog is data (one `ModelSpec` per model and catelog, in `yjnb/protocols/*_models.py`),
described with these types; `_catalog.Catalog` looks models up and checks requests against
them. Kept apart so that the data modules, the coercers and the catalog import this module and
never each other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CATELOGS",
    "FILE_NAMES",
    "PARAM_TYPES",
    "RESERVED",
    "VIDEO_CATELOGS",
    "ModelSpec",
    "Param",
    "Prepared",
    "is_url",
    "split_files",
]

CATELOGS = ("t2t", "t2i", "t2v", "i2v", "ref2v")
VIDEO_CATELOGS = ("t2v", "i2v", "ref2v")
FILE_NAMES = ("first_frame", "last_frame", "images", "videos", "audios")
PARAM_TYPES = ("str", "int", "yn", "size", "file", "files")
# Set by yjnb itself from the call; never a model parameter.
RESERVED = ("model", "catelogid", "prompt", "llmid")

_KINDS = {"t2t": "chat", "t2i": "image"}


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
    """A checked media request, ready for a protocol to put on the wire."""

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


def is_url(value: Any) -> bool:
    """An http(s) URL (the only remote inputs a file parameter may take)."""
    return isinstance(value, str) and value[:8].lower().startswith(("http://", "https://"))


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
