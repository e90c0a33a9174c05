"""One form field per catalog `Param`: the widget, its value as the magic would send it, and
the place next to it where a problem is shown.

| Param                      | widget                                              |
|----------------------------|-----------------------------------------------------|
| choices (str or int)       | Dropdown ("platform default" first if none is documented) |
| int with min and max       | IntSlider                                           |
| int with min only          | IntText (no maximum is invented; the catalog checks it) |
| yn                         | ToggleButtons Y / N                                 |
| str without choices        | Textarea (negative_prompt)                          |
| size without choices       | Text: a ratio (16:9) or WxH (1024x1024)             |
| file                       | FileUpload (one), plus an http(s) URL box where the model takes one |
| files                      | FileUpload (several), its limit in the label        |

`value()` is None while the field holds its documented default (or nothing): like the magic,
the form sends only what differs, so a form run and its "copy as magic" line send the same.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w

from ..._catalog import Param
from ..views.html import esc

__all__ = ["Field", "upload_item"]

_ACCEPT = {"videos": "video/*", "audios": "audio/*"}
_LABEL_WIDTH = "130px"


def upload_item(name: str, data: bytes) -> dict[str, Any]:
    """One FileUpload value entry, as the browser sends it (for tests and preset files)."""
    import mimetypes
    from datetime import datetime, timezone

    return {
        "name": name,
        "type": mimetypes.guess_type(name)[0] or "application/octet-stream",
        "size": len(data),
        "content": memoryview(data),
        "last_modified": datetime.now(timezone.utc),
    }


class Field:
    """A widget for one `Param`, with an error label next to it."""

    def __init__(self, param: Param) -> None:
        self.param = param
        self.url: w.Text | None = None
        self.input = self._make()
        label = param.name + (" *" if param.required else "")
        if param.type == "files" and param.max_files:
            label += f" (≤{param.max_files})"
        self.label = w.Label(label, tooltip=param.help, layout=w.Layout(width=_LABEL_WIDTH))
        self.error = w.HTML("")
        parts: list[w.Widget] = [self.label, self.input]
        if self.url is not None:
            parts.append(self.url)
        parts.append(self.error)
        self.box = w.HBox(parts)

    # -- building ----------------------------------------------------------------------------

    def _make(self) -> w.Widget:
        p = self.param
        tip = p.help or p.name
        if p.type == "yn":
            return w.ToggleButtons(options=["Y", "N"], value=p.default or "N", tooltip=tip)
        if p.choices is not None:
            options: list[tuple[str, Any]] = [(str(c), c) for c in p.choices]
            if p.default is None:
                options.insert(0, ("(platform default)", None))
            return w.Dropdown(options=options, value=p.default)
        if p.type == "int":
            value = int(p.default) if isinstance(p.default, int) else (p.min or 1)
            if p.min is not None and p.max is not None:
                return w.IntSlider(value=value, min=p.min, max=p.max, continuous_update=False)
            return w.IntText(value=value, layout=w.Layout(width="120px"))
        if p.type == "size":
            return w.Text(
                value=str(p.default or ""),
                placeholder="16:9 or 1024x1024",
                layout=w.Layout(width="200px"),
            )
        if p.type in ("file", "files"):
            accept = _ACCEPT.get(p.name, "image/*")
            upload = w.FileUpload(accept=accept, multiple=p.type == "files")
            if p.type == "file" and p.accepts_url:
                self.url = w.Text(placeholder="or an http(s) URL", layout=w.Layout(width="260px"))
            return upload
        return w.Textarea(
            value=str(p.default or ""),
            placeholder=tip,
            layout=w.Layout(width="460px", height="48px"),
        )

    def observe(self, callback: Callable[[Any], None]) -> None:
        self.input.observe(callback, names="value")
        if self.url is not None:
            self.url.observe(callback, names="value")

    # -- values ------------------------------------------------------------------------------

    def uploads(self) -> list[dict[str, Any]]:
        if not isinstance(self.input, w.FileUpload):
            return []
        return list(self.input.value or ())

    def value(self) -> Any:
        """What the magic would send for this field; None when left at the default."""
        p = self.param
        if p.type in ("file", "files"):
            items = [bytes(item["content"]) for item in self.uploads()]
            if p.type == "files":
                return items or None
            if len(items) > 1:
                return items
            if items:
                return items[0]
            url = (self.url.value.strip() if self.url is not None else "") or None
            return url
        value = self.input.value
        if isinstance(value, str) and p.type in ("str", "size") and p.choices is None:
            value = value if value.strip() else None
        if value is None or value == p.default:
            return None
        return value

    def magic_value(self) -> str | None:
        """The value as a `name=value` word would give it (upload names for files)."""
        p = self.param
        if p.type in ("file", "files"):
            names = [str(item.get("name") or "upload") for item in self.uploads()]
            if names:
                return ",".join(names)
            return self.value()
        value = self.value()
        return None if value is None else str(value)

    def set_value(self, value: Any) -> None:
        """Fill in a value given to the magic (`name=value` words are strings)."""
        p = self.param
        if p.type in ("file", "files"):
            paths = value if isinstance(value, (list, tuple)) else str(value).split(",")
            items = []
            for path in (str(x).strip() for x in paths):
                if self.url is not None and path.lower().startswith(("http://", "https://")):
                    self.url.value = path
                elif os.path.isfile(path):
                    items.append(upload_item(Path(path).name, Path(path).read_bytes()))
            if items:
                self.input.value = tuple(items)
            return
        if isinstance(self.input, w.Dropdown):
            for _label, option in self.input.options:
                if option is not None and str(option).lower() == str(value).strip().lower():
                    self.input.value = option
            return
        if isinstance(self.input, w.ToggleButtons):
            yes = str(value).strip().lower() in ("y", "yes", "true", "1", "on")
            self.input.value = "Y" if yes else "N"
            return
        if isinstance(self.input, (w.IntSlider, w.IntText)):
            with contextlib.suppress(ValueError):
                self.input.value = int(str(value).strip())
            return
        self.input.value = str(value)

    def show_problems(self, problems: list[str]) -> None:
        self.error.value = (
            "<span style='color:#cf222e'>" + esc("; ".join(problems)) + "</span>"
            if problems
            else ""
        )
