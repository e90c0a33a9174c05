"""The live task card: one display (or widget) updated in place, then the finished result.

A card shows model, catelog, the prompt (shortened), status, elapsed time, progress when the
platform reports it, and the task id. When the task succeeds it becomes the result: a
`<video controls poster=...>` or an `<img>` shown from the saved file, with credits, duration,
resolution and a link to the file. When it fails it shows the platform's reason.

Every server or model string goes through `esc`; every `src`/`href` through `safe_src` (http(s)
or a local relative path). Video is never embedded as base64. An image (or a video's cover)
saved outside the notebook's folder cannot be reached by a relative URL, so it is embedded as
a `data:` URI that yjnb makes from the local file (bounded in size); a video saved there is
shown from the platform's URL, which is temporary.

Where a card is shown is a *sink* (`views/sinks.py`): a display id in a cell's output, updated
by `update_display_data`. When the task has finished, `prepare_media` reads the saved files
(`yjnb/_embed.py`): images then go into the cell as ordinary `image/png`/`image/jpeg`
outputs beside the card (which no longer shows them itself), and a video's cover becomes a
small `data:` poster, also offered as the card's `image/jpeg` alternative.
"""

from __future__ import annotations

import base64
import mimetypes
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..._embed import Embed, image_embed, poster_data_url
from ..._status import status_word
from ..._types import Task
from .html import esc, safe_src
from .sinks import DisplaySink, capture_parent

__all__ = ["DisplaySink", "TaskCard", "capture_parent", "local_src"]

PROMPT_CHARS = 140
EMBED_IMAGE_MAX_BYTES = 4 * 1024 * 1024
_EMBED_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
# By status word (`yjnb._status`, the one vocabulary): what the card's badge says.
_COLORS = {
    "ok": "#1a7f37",
    "failed": "#cf222e",
    "lost": "#cf222e",
    "interrupted": "#9a6700",
    "timeout": "#9a6700",
    "running": "#0969da",
    "pending": "#57606a",
}


# -- media sources -------------------------------------------------------------------------------


def local_src(path: str | Path | None, cwd: Path | None = None) -> str | None:
    """A relative URL for a file under the notebook's folder (the kernel's cwd), else None."""
    if not path:
        return None
    try:
        rel = Path(path).resolve().relative_to((cwd or Path.cwd()).resolve())
    except (ValueError, OSError):
        return None
    return quote(rel.as_posix())


def _data_uri(path: str | Path) -> str | None:
    """An image file as a data: URI made by yjnb (never for video, never over the bound)."""
    p = Path(path)
    mime = mimetypes.guess_type(p.name)[0]
    if mime not in _EMBED_TYPES:
        return None
    try:
        if p.stat().st_size > EMBED_IMAGE_MAX_BYTES:
            return None
        data = p.read_bytes()
    except OSError:
        return None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _image_src(path: str | None, url: str | None) -> str | None:
    rel = local_src(path)
    if rel is not None:
        return safe_src(rel)
    if path:
        embedded = _data_uri(path)
        if embedded is not None:
            return embedded  # made here from a local image: base64 only, no markup possible
    return safe_src(url)


def _shown_path(path: str) -> str:
    """A saved file as the text view names it: relative to the notebook when under it (a
    saved notebook does not carry the author's home directory), else as it is."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return path


def _image_order(what: str) -> int:
    """ "image" first, then "image-2", "image-3"... (not "image-10" before "image-2")."""
    _, _, number = what.partition("-")
    return int(number) if number.isdigit() else 1 if what == "image" else 0


def _video_src(path: str | None, url: str | None) -> str | None:
    rel = local_src(path)
    return safe_src(rel) if rel is not None else safe_src(url)


# -- the card ------------------------------------------------------------------------------------


def shorten(text: str | None, limit: int = PROMPT_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def elapsed_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class TaskCard:
    """The state of one task's card, rendered as HTML + plain text into a sink."""

    def __init__(
        self,
        sink: Any,
        task: Task,
        *,
        demo: bool = False,
        refresh_interval: float = 0.1,
    ) -> None:
        self.sink = sink
        self.task = task
        self.demo = demo
        self.refresh_interval = refresh_interval
        self.note: str | None = None  # "moved to the background", "resumed", ...
        # None while live; then "done", "timeout", "lost", "error" or "stopped".
        self.outcome: str | None = None
        self.error: str | None = None  # a client-side error (not the platform's FAILED reason)
        self.save_error: str | None = None
        self.usage_line: str | None = None
        self._lock = threading.Lock()
        self._last_html: str | None = None
        self._last_key: tuple[Any, ...] | None = None
        self._last_time = 0.0
        self.shown = False
        self.embeds: dict[str, Embed] = {}  # "image", "image-2"...: emitted beside the card
        self.poster: str | None = None  # a video's cover as a small data: URL
        self.emitted = False

    # -- media in the notebook file ----------------------------------------------------------

    def prepare_media(self) -> None:
        """Read the saved files (off the event loop): image embeds and the video's poster."""
        paths = self.task.local_paths
        if self.task.kind == "video" or paths.get("video"):
            self.poster = poster_data_url(paths.get("cover"))
            return
        for what, path in sorted(paths.items(), key=lambda kv: _image_order(kv[0])):
            if what == "image" or what.startswith("image-"):
                embed = image_embed(path)
                if embed is not None:
                    self.embeds[what] = embed

    def embed_bundles(self) -> list[dict[str, str]]:
        """One output per embedded image, in order; `text/plain` says which file it shows."""
        out = []
        for what, embed in self.embeds.items():
            name = Path(self.task.local_paths.get(what, what)).name
            label = f"[yjnb image] {name}" + (" (a smaller preview)" if embed.preview else "")
            out.append({embed.mime: embed.b64(), "text/plain": label})
        return out

    def emit_embeds(self) -> None:
        """Put the embedded images into the cell once, after the card's final state."""
        emit = getattr(self.sink, "emit", None)
        if self.emitted or not callable(emit):
            return
        self.emitted = True
        for bundle in self.embed_bundles():
            emit(bundle)

    # -- publishing --------------------------------------------------------------------------

    def bundle(self) -> dict[str, str]:
        out = {"text/plain": self.render_text(), "text/html": self.render_html()}
        if self.poster and self.task.succeeded:
            # For viewers that show no HTML: the video's poster, at least.
            out["image/jpeg" if self.poster.startswith("data:image/jpeg") else "image/png"] = (
                self.poster.partition(",")[2]
            )
        return out

    def show(self) -> None:
        with self._lock:
            bundle = self.bundle()
            self.sink.show(bundle)
            self.shown = True
            self._remember(bundle)

    def refresh(self, *, force: bool = False) -> None:
        """Update in place when something changed; elapsed-only changes at most once per
        `refresh_interval`, and only where updates are live (a kernel or a widget)."""
        with self._lock:
            key = (self.task.status, self.task.progress, self.outcome, self.note, self.error)
            now = time.monotonic()
            if not force and key == self._last_key:
                if not getattr(self.sink, "live", False):
                    return
                if now - self._last_time < self.refresh_interval:
                    return
            bundle = self.bundle()
            if bundle["text/html"] == self._last_html and not force:
                return
            if self.shown:
                self.sink.update(bundle)
            else:
                self.sink.show(bundle)
                self.shown = True
            self._remember(bundle, key, now)

    def _remember(
        self, bundle: dict[str, str], key: tuple[Any, ...] | None = None, now: float = 0.0
    ) -> None:
        self._last_html = bundle["text/html"]
        self._last_key = key or (
            self.task.status,
            self.task.progress,
            self.outcome,
            self.note,
            self.error,
        )
        self._last_time = now or time.monotonic()

    # -- rendering ---------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """The badge's word, as the ledger says it: the platform's status, unless the wait
        ended otherwise (its deadline, a task the service does not know, an error)."""
        if self.outcome in ("timeout", "lost") and not self.task.done:
            return self.outcome
        if self.outcome == "error" and not self.task.done:
            return "interrupted"
        return status_word(self.task.status)

    def render_text(self) -> str:
        t = self.task
        parts = [f"[yjnb {t.kind}]", t.model or "?", t.catelog or "", self.status]
        parts.append(elapsed_text(t.elapsed_s))
        if t.progress is not None and not t.done:
            parts.append(f"{t.progress:g}%")
        parts.append(f"task {t.taskid}")
        line = " ".join(p for p in parts if p)
        extra = self._outcome_text()
        return f"{line}\n{extra}" if extra else line

    def _outcome_text(self) -> str:
        t = self.task
        lines = []
        if self.note:
            lines.append(self.note)
        if self.error:
            lines.append(f"error: {self.error}")
        if t.status == "FAILED":
            lines.append(f"failed: {t.error or 'the platform gave no reason'}")
        elif self.outcome == "timeout":
            lines.append(self._timeout_text())
        saved = t.local_paths.get("video") or t.local_paths.get("image")
        if saved:
            lines.append(f"saved: {_shown_path(saved)}")
        if self.save_error:
            lines.append(f"not saved: {self.save_error}")
        if self.usage_line:
            lines.append(self.usage_line)
        return "\n".join(lines)

    def _timeout_text(self) -> str:
        waited = elapsed_text(self.task.elapsed_s)
        return (
            f"deadline reached: still {status_word(self.task.status)} after {waited}; "
            f"the task keeps running: %yj_tasks --resume (or %yj_tasks {self.task.taskid})"
        )

    def render_html(self) -> str:
        t = self.task
        status = self.status
        color = _COLORS.get(status, "#57606a")
        head = [f"<b>{esc(t.model or '?')}</b>"]
        if t.catelog:
            head.append(f"<span style='color:#57606a'>{esc(t.catelog)}</span>")
        head.append(
            f"<span style='color:#fff;background:{color};border-radius:3px;padding:0 5px'>"
            f"{esc(status)}</span>"
        )
        head.append(esc(elapsed_text(t.elapsed_s)))
        if t.progress is not None and not t.done:
            head.append(f"{esc(f'{t.progress:g}')}%")
        head.append(f"<code>{esc(t.taskid)}</code>")
        if t.remixed_from:
            head.append(f"remix of <code>{esc(t.remixed_from)}</code>")
        if self.demo:
            head.append(
                "<span style='color:#8250df;border:1px solid #8250df;border-radius:3px;"
                "padding:0 4px;font-size:85%'>demo</span>"
            )
        body = [f"<div>{' · '.join(head)}</div>"]
        if t.prompt:
            body.append(
                f"<div style='color:#57606a;margin:2px 0' title='{esc(t.prompt)}'>"
                f"{esc(shorten(t.prompt))}</div>"
            )
        if t.progress is not None and not t.done:
            value = max(0.0, min(100.0, t.progress))
            body.append(f"<progress value='{value:g}' max='100' style='width:240px'></progress>")
        body.extend(self._result_html())
        style = (
            "border:1px solid #d0d7de;border-left:4px solid "
            f"{color};border-radius:6px;padding:6px 10px;margin:4px 0;max-width:760px;"
            "font-family:system-ui,sans-serif;font-size:13px;line-height:1.5"
        )
        return f"<div class='yjnb-task' style='{style}'>{''.join(body)}</div>"

    def _result_html(self) -> list[str]:
        t = self.task
        out: list[str] = []
        if self.note:
            out.append(f"<div style='color:#9a6700'>{esc(self.note)}</div>")
        if self.error:
            out.append(f"<div style='color:#cf222e'>error: {esc(self.error)}</div>")
        if t.status == "FAILED":
            reason = t.error or "the platform gave no reason"
            out.append(f"<div style='color:#cf222e'><b>failed:</b> {esc(reason)}</div>")
        elif self.outcome == "timeout":
            out.append(f"<div style='color:#9a6700'>{esc(self._timeout_text())}</div>")
        if t.succeeded:
            out.extend(self._media_html())
        if self.save_error:
            out.append(f"<div style='color:#9a6700'>not saved: {esc(self.save_error)}</div>")
        if self.usage_line:
            out.append(f"<div style='color:#57606a'>{esc(self.usage_line)}</div>")
        return out

    def _media_html(self) -> list[str]:
        t = self.task
        out: list[str] = []
        paths = t.local_paths
        if t.video_url or paths.get("video"):
            src = _video_src(paths.get("video"), t.video_url)
            # The poster: made here from the saved cover (base64 only), else the cover's URL.
            poster = self.poster or _image_src(paths.get("cover"), t.image_url)
            if src:
                poster_attr = f" poster='{poster}'" if poster else ""
                out.append(
                    f"<video controls preload='metadata' src='{src}'{poster_attr} "
                    "style='width:min(100%,640px);max-height:480px;display:block;"
                    "background:#000'></video>"
                )
        elif t.image_url or paths.get("image"):
            # n=2.. images (OpenAI-style protocols) are saved as image, image-2, image-3...
            urls: list[str | None] = [*t.image_urls] or [t.image_url]
            count = max(len(urls), 1 + sum(k.startswith("image-") for k in paths))
            for n in range(1, count + 1):
                url = urls[n - 1] if n <= len(urls) else None
                what = "image" if n == 1 else f"image-{n}"
                if what in self.embeds:
                    continue  # an ordinary image output beside the card shows it
                src = _image_src(paths.get(what), url)
                if src:
                    out.append(
                        f"<img src='{src}' alt='{esc(shorten(t.prompt, 80))}' "
                        "style='max-width:100%;max-height:512px;display:block'>"
                    )
        meta = []
        if t.credits is not None:
            meta.append(f"{t.credits:g} credits")
        elif t.credits_estimate is not None:  # from the user's price table: marked as such
            meta.append(f"≈{t.credits_estimate:.3g} credits (est.)")
        usage = t.usage or {}
        if usage.get("duration"):
            meta.append(f"{esc(usage['duration'])} s")
        if usage.get("resolution"):
            meta.append(esc(usage["resolution"]))
        saved = paths.get("video") or paths.get("image")
        if saved:
            rel = safe_src(local_src(saved))
            if rel:
                meta.append(f"saved: <a href='{rel}' target='_blank'>{esc(Path(saved).name)}</a>")
            else:
                meta.append(f"saved: <code>{esc(saved)}</code>")
        if meta:
            out.append(f"<div style='color:#57606a'>{' · '.join(meta)}</div>")
        return out
