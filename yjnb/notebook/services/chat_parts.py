"""What %%yj_chat checks before sending on the OpenAI-style protocols.

* `images=photo.jpg,b.png` (openai, gateway) and `files=doc.pdf` (gateway) attach local files
  or URLs (http(s), or `data:` URLs) to the message; the core encodes local files. A missing
  file, or a profile whose protocol takes no parts, is a one-line UsageError before anything
  is sent.
* `--api responses` (`--responses`) sends to `/v1/responses`: openai profiles only.
* The chat parameters (temperature 0-1, max_tokens > 0, ...) are checked by the core's
  `check_chat_params` for openai and gateway profiles; every problem in one line.
"""

from __future__ import annotations

import os
from typing import Any

from IPython.core.error import UsageError

from ..._catalog import check_chat_params, split_files
from ..._config import Settings
from ..protocols import checks_chat_params, require_feature

__all__ = ["Attachments", "check_chat", "split_attachments"]

ATTACHMENT_NAMES = ("images", "files")
_URL_PREFIXES = ("http://", "https://", "data:")


class Attachments:
    """The images and files given on a %%yj_chat line, as lists of paths or URLs."""

    def __init__(self, images: list[str] | None = None, files: list[str] | None = None) -> None:
        self.images = images or []
        self.files = files or []

    def __bool__(self) -> bool:
        return bool(self.images or self.files)

    def params(self) -> dict[str, Any]:
        """The keyword arguments for the core's chat call."""
        out: dict[str, Any] = {}
        if self.images:
            out["images"] = list(self.images)
        if self.files:
            out["files"] = list(self.files)
        return out


def split_attachments(words: list[str]) -> tuple[list[str], Attachments]:
    """(the other words, the `images=` and `files=` attachments)."""
    rest: list[str] = []
    found: dict[str, list[str]] = {}
    for word in words:
        name, sep, value = word.partition("=")
        if sep and name in ATTACHMENT_NAMES:
            if name in found:
                raise UsageError(f"{name}= given twice; list them once: {name}=a.png,b.png")
            found[name] = split_files(value)
            if not found[name]:
                raise UsageError(f"{name}= is empty: give {name}=a.png,b.png (paths or URLs)")
            continue
        rest.append(word)
    return rest, Attachments(found.get("images"), found.get("files"))


def _missing(attachments: Attachments) -> list[str]:
    problems = []
    for name, items in (("images", attachments.images), ("files", attachments.files)):
        for item in items:
            if item.lower().startswith(_URL_PREFIXES):
                continue
            path = os.path.expanduser(item)
            if not os.path.exists(path):
                problems.append(f"{name}: no such file: {item!r}")
            elif not os.path.isfile(path) or not os.access(path, os.R_OK):
                problems.append(f"{name}: not a readable file: {item!r}")
    return problems


def check_chat(
    settings: Settings, attachments: Attachments, api: str, params: dict[str, Any]
) -> None:
    """Everything that must hold before a chat is sent; else one UsageError."""
    if attachments.images:
        require_feature(settings, "images")
    if attachments.files:
        require_feature(settings, "files")
    if api == "responses":
        require_feature(settings, "responses")
    problems = _missing(attachments)
    if checks_chat_params(settings.protocol):
        problems += check_chat_params(params)
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise UsageError(f"nothing was sent; {count}: " + "; ".join(problems))
