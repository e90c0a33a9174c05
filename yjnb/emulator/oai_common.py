"""Helpers shared by the OpenAI-compatible and gateway endpoints: ids, platforms, inputs, jobs.

Image inputs (chat ``image_url``, ``input_image``, edits ``image``/``mask``, video
``input_reference``) may be file bytes, an ``http(s)`` URL (accepted unfetched: the
emulator never goes online), a ``data:...;base64,`` URL or bare base64. Decoded bytes must
start like a PNG, JPEG, GIF or WebP file, otherwise 400 (seed 004: "图片格式不支持").

Job clock (platform seconds, divided by the emulator speed, moved by ``advance``): videos
pending 2 s then processing 20 s, async images pending 1 s then processing 4 s; progress
rises linearly through processing. ``task=fail`` fails a job halfway through processing
(progress frozen at 50); ``task=stuck`` keeps it processing at 99% forever.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from .context import ApiError, Ctx
from .oai_models import check_platform
from .state import Job

SCHEDULE = {"video": (2.0, 20.0), "image": (1.0, 4.0)}
FAIL_REASON = "The provider rejected the request (emulated fault)"
_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def platform_of(ctx: Ctx) -> str | None:
    """The gateway platform of this request (checked), or None on ``/v1``."""
    platform = ctx.request.path_params.get("platform")
    check_platform(platform)
    return platform


def flag(value: Any) -> bool:
    """A boolean from a query string, a form field or JSON."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def is_image(data: bytes) -> bool:
    return data.startswith(_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def decode_base64(text: str, name: str) -> bytes:
    """Bytes of a ``data:`` URL or bare base64 string (400 when it is neither)."""
    payload = text
    if text.startswith("data:"):
        head, sep, payload = text.partition(",")
        if not sep or not head.endswith(";base64"):
            raise ApiError(400, f"Invalid parameter: {name} is not a base64 data URL")
    try:
        return base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, f"Invalid parameter: {name} is neither a URL nor base64") from None


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def image_input(value: Any, name: str) -> bytes | None:
    """Check one image input; its bytes, or None for a URL (never fetched)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ApiError(400, f"Invalid parameter: {name} is empty")
        if is_url(text):
            return None
        data = decode_base64(text, name)
    elif isinstance(value, bytes):
        data = value
    else:
        raise ApiError(400, f"Invalid parameter: {name} must be a file, a URL or base64")
    if not data:
        raise ApiError(400, f"Invalid parameter: {name} is empty")
    if not is_image(data):
        raise ApiError(
            400, f"Invalid parameter: {name} is not a PNG, JPEG, GIF or WebP image",
            code="invalid_image_format",
        )  # fmt: skip
    return data


def phase(ctx: Ctx, job: Job) -> tuple[str, int]:
    """``(pending | processing | done | failed, progress 0-100)`` at the job's clock."""
    pending, processing = SCHEDULE[job.kind]
    t = ctx.state.elapsed(job)
    if t < pending:
        return "pending", 0
    progress = min(99, int(100 * (t - pending) / processing))
    if job.fault == "stuck":
        return "processing", progress
    if job.fault == "fail" and t >= pending + processing / 2:
        return "failed", 50
    if t < pending + processing:
        return "processing", progress
    return "done", 100


def find_job(ctx: Ctx, job_id: str, kind: str, platform: str | None) -> Job:
    """The caller's job (another key's or another platform's job does not exist for it)."""
    job = ctx.state.jobs.get(job_id)
    if job is None or job.kind != kind or job.key != ctx.key or job.platform != platform:
        noun = "Video" if kind == "video" else "Image task"
        raise ApiError(404, f"{noun} `{job_id}` not found", code="not_found")
    return job
