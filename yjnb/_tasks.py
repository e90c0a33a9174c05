"""Media tasks on the client's side: the polling schedule, reading the files a request uploads,
saving media, and the usage record of a task.

Media URLs are temporary; `download` saves them under names yjnb makes, never taken from the
server's path. How a task is put on the wire and read back is each protocol's business
(`yjnb.protocols`).
"""

from __future__ import annotations

import io
import mimetypes
import os
import random
import re
import shutil
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ._errors import ValidationError, YJError
from ._magic import HEAD_SIZE, KIND_NOUNS, MediaType, allowed, describe, fits, media_type
from ._types import Task, UsageRecord, utcnow

__all__ = [
    "PollSchedule",
    "checked_media",
    "copy_local",
    "expected_kind",
    "file_labels",
    "keep_inline",
    "media_filename",
    "multipart_files",
    "read_input",
    "record_for",
    "save_bytes",
    "save_response",
]

_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class PollSchedule:
    """About 1 s growing to 10 s, with jitter so that many tasks do not poll in lockstep."""

    first: float = 1.0
    factor: float = 1.5
    cap: float = 10.0
    jitter: float = 0.2

    def delays(self) -> Any:
        delay = self.first
        while True:
            yield delay * random.uniform(1 - self.jitter, 1 + self.jitter)
            delay = min(delay * self.factor, self.cap)


def _sniff(data: bytes) -> tuple[str, str]:
    """(extension, content type) of an upload, from its first bytes."""
    found = media_type(data[:HEAD_SIZE])
    if found is not None:
        return found.ext, found.mime
    if data.startswith(b"%PDF"):  # chat files may be documents
        return ".pdf", "application/pdf"
    return ".bin", "application/octet-stream"


def read_input(value: Any, wire: str, index: int = 1) -> tuple[str, bytes, str]:
    """(file name, bytes, content type) for a path, bytes or binary file object."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        ext, mime = _sniff(data)
        return f"{wire}{index}{ext}", data, mime
    if isinstance(value, (str, os.PathLike)):
        path = Path(value).expanduser()
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ValidationError(f"{wire}: cannot read {str(path)!r}: {exc.strerror}") from None
        # The bytes over the name: a .png that is a JPEG is sent as a JPEG.
        mime = _sniff(data)[1]
        if mime == "application/octet-stream":
            mime = mimetypes.guess_type(path.name)[0] or mime
        return path.name, data, mime
    if isinstance(value, io.IOBase) or hasattr(value, "read"):
        data = value.read()
        if isinstance(data, str):
            raise ValidationError(f"{wire}: the file object is open in text mode; use 'rb'")
        name = Path(str(getattr(value, "name", "") or "")).name
        ext, mime = _sniff(data)
        return name or f"{wire}{index}{ext}", data, mime
    raise ValidationError(
        f"{wire}: expected a path, bytes or a binary file, got {type(value).__name__}"
    )


def multipart_files(files: list[tuple[str, Any]]) -> list[tuple[str, tuple[str, bytes, str]]]:
    """Read every file input once, so a retried connect sends the same bytes."""
    return [
        (wire, read_input(value, wire, index)) for index, (wire, value) in enumerate(files, start=1)
    ]


def expected_kind(what: str) -> str:
    """The kind of media `what` names: "video", or "image" for "image", "image-2", "cover"."""
    return "video" if what == "video" else "image"


def _stem(task: Task, what: str) -> str:
    """The task id (made safe), with "-cover" or "-2" for a cover or a second image."""
    safe = _SAFE_ID.sub("_", task.taskid)[:80] or "task"
    _, _, number = what.partition("-")  # "image-2": the second image of one task
    return safe + ("-cover" if what == "cover" else f"-{number}" if number.isdigit() else "")


def media_filename(task: Task, what: str, found: MediaType) -> str:
    """A file name made by yjnb: the task id and the extension of the media type that the
    file's own first bytes showed (never the server's Content-Type or URL)."""
    return _stem(task, what) + found.ext


def checked_media(task: Task, what: str, head: bytes) -> MediaType:
    """The allowlisted media type of `what`'s first bytes; a `YJError` if they are not media
    of the kind `what` names (HTML, a script, JSON, a redirect page...)."""
    kind = expected_kind(what)
    found = media_type(head)
    if found is None or not fits(kind, found):
        raise YJError(
            f"the {what} of task {task.taskid!r} is not {KIND_NOUNS[kind]} ({allowed(kind)}):"
            f" the server sent {describe(head)}; nothing was saved"
        )
    return found


def save_bytes(task: Task, what: str, data: bytes, folder: Path) -> Path:
    """Write media that came inline (base64 images) under a name yjnb makes."""
    found = checked_media(task, what, data[:HEAD_SIZE])
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / media_filename(task, what, found)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    partial.replace(target)
    return target


def keep_inline(task: Task, inline: list[tuple[str, bytes]], folder: Path) -> None:
    """Write media that came inside an answer (base64 images) to `folder` at once: nothing
    paid for lives only in memory.

    Bytes that are not an image make the task FAILED, with the reason: `wait` then reports
    and raises it like any failed task, so its ledger row does not stay pending.
    """
    for what, data in inline:
        try:
            path = save_bytes(task, what, data, folder)
        except YJError as exc:
            task.status, task.error = "FAILED", str(exc)
            task.finished_at = task.finished_at or utcnow()
            return
        task.local_paths[what] = str(path)


def copy_local(task: Task, folder: Path, skip: Mapping[str, Any]) -> dict[str, Path]:
    """Copy media already saved elsewhere (inline images) into `folder`, unless in `skip`."""
    copied: dict[str, Path] = {}
    for what, source in list(task.local_paths.items()):
        src = Path(source)
        if what in skip or not src.is_file():
            continue
        target = folder / (_stem(task, what) + src.suffix)
        if src.resolve() != target.resolve():
            shutil.copyfile(src, target)
        copied[what] = target
    return copied


def file_labels(files: list[tuple[str, Any]]) -> dict[str, Any]:
    """What the ledger keeps of the files sent: paths as given, else the kind of object."""
    names: dict[str, list[str]] = {}
    for wire, value in files:
        is_path = isinstance(value, (str, os.PathLike))
        names.setdefault(wire, []).append(
            os.fspath(value) if is_path else f"<{type(value).__name__}>"
        )
    return {wire: v[0] if len(v) == 1 else v for wire, v in names.items()}


async def save_response(
    response: httpx.Response, task: Task, what: str, folder: Path, max_bytes: int
) -> Path:
    """Stream a media response to `folder` under a name yjnb makes; at most `max_bytes`.

    Nothing is written before the first bytes show media of the expected kind
    (`checked_media`); then a `.part` file is written first, so an aborted download never
    leaves a file that looks complete. Transport errors are the caller's to translate.
    """
    partial: Path | None = None
    try:
        size = int(response.headers.get("content-length") or 0)
        if size > max_bytes:
            raise YJError(f"{what} is {size} bytes, over max_bytes={max_bytes}")
        blocks = response.aiter_bytes()
        head = await _first_bytes(blocks, what, max_bytes)
        target = folder / media_filename(task, what, checked_media(task, what, head))
        partial = target.with_name(target.name + ".part")
        written = len(head)
        with partial.open("wb") as out:
            out.write(head)
            async for block in blocks:  # the rest of the same stream
                written += len(block)
                if written > max_bytes:
                    raise YJError(f"{what} is over max_bytes={max_bytes}; download stopped")
                out.write(block)
        partial.replace(target)
    finally:
        await response.aclose()
        if partial is not None:
            partial.unlink(missing_ok=True)
    return target


async def _first_bytes(blocks: AsyncIterator[bytes], what: str, max_bytes: int) -> bytes:
    """At least `HEAD_SIZE` bytes of the stream (all of it if shorter); the rest stays."""
    head = b""
    async for block in blocks:
        head += block
        if len(head) > max_bytes:
            raise YJError(f"{what} is over max_bytes={max_bytes}; download stopped")
        if len(head) >= HEAD_SIZE:
            break
    return head


def record_for(task: Task, status: str, *, error: str | None = None) -> UsageRecord:
    usage = task.usage or {}
    duration = usage.get("duration")
    return UsageRecord(
        kind="image" if task.kind == "image" else "video",
        status=status,  # type: ignore[arg-type]
        model=task.model or "",
        profile=task.profile or "default",
        catelog=task.catelog,
        started_at=task.submitted_at,
        finished_at=task.finished_at,
        prompt=task.prompt,
        params=dict(task.params),
        taskid=task.taskid,
        credits=task.credits,
        credits_estimate=task.credits_estimate if task.credits is None else None,
        media_seconds=float(duration) if isinstance(duration, (int, float)) else None,
        resolution=usage.get("resolution") or task.params.get("resolution"),
        latency_s=task.elapsed_s if task.done else None,
        error=error or task.error,
        video_url=task.video_url,
        image_url=task.image_url,
        local_path=task.local_paths.get("video") or task.local_paths.get("image"),
        usage_raw=task.usage,
    )
