"""The `images=` and `files=` words of a %%yj_chat line: attachments for the message.

`images=photo.jpg,b.png` and `files=doc.pdf` attach local files or URLs (http(s), or `data:`
URLs); the core checks them with everything else (`prepare_chat`: the profile's protocol must
take them, local files must exist) and encodes local files.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from ..._catalog_types import split_files

__all__ = ["Attachments", "split_attachments"]

ATTACHMENT_NAMES = ("images", "files")


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
