"""``/images/generations``, ``/images/edits`` and the gateway's async image tasks.

Both endpoints take JSON or multipart/urlencoded forms on ``/v1`` and the gateway alike.
Edits take ``image`` or ``image[]`` (repeated files, or URL / base64 strings, a JSON list
too), at most 7, and an optional ``mask`` (file or base64). ``size`` is one of seed 004's
ratios, ``WxH`` or ``auto``; the PNG drawn keeps that aspect with its long side 128 px.
``n`` is 1-4; ``response_format`` ``b64_json`` (default; plain base64, no ``data:`` prefix)
or ``url`` (``{base}/files/<id>.png``, served without a key).

Usage: text tokens of the prompt, 258 per input image (mask included), 1290 per output
image. Gateway ``?async=true`` (or an ``async`` field) answers an ``image.task`` to poll at
``GET /{platform}/v1/images/{task_id}``; its result is drawn at submission, shown once
completed. On ``/v1`` ``async`` is ignored (the call is synchronous).
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from typing import Any

from starlette.responses import Response

from .context import ApiError, Ctx, compact_response
from .media import png_for
from .oai_common import FAIL_REASON, find_job, flag, image_input, new_id, phase, platform_of
from .oai_models import resolve
from .openai_api import check_quota
from .state import Job
from .tasks import Items, read_payload
from .text import count_tokens

RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
FORMATS = ("b64_json", "url")
MAX_IMAGES = 7
IMAGE_IN_TOKENS = 258
IMAGE_OUT_TOKENS = 1290
LONG_SIDE = 128
_WXH = re.compile(r"(\d{2,5})x(\d{2,5})")
_STATUS = {"pending": "pending", "processing": "processing", "done": "completed"}


def first(items: Items, name: str) -> Any:
    values = items.get(name)
    return values[0] if values else None


def prompt_of(items: Items) -> str:
    prompt = first(items, "prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ApiError(400, "Missing required parameter: prompt", code="missing_required_parameter")
    return prompt


def _dims(size: str) -> tuple[int, int]:
    """Pixel size of the drawn PNG: the requested aspect, long side 128."""
    if size == "auto":
        return LONG_SIDE, LONG_SIDE
    if size in RATIOS:
        w, h = (int(x) for x in size.split(":"))
    else:
        match = _WXH.fullmatch(size)
        if not match or not all(64 <= int(x) <= 8192 for x in match.groups()):
            ratios = ", ".join(RATIOS)
            raise ApiError(400, f"Invalid parameter: size {size!r} (a ratio {ratios}, or WxH)")
        w, h = int(match[1]), int(match[2])
    scale = LONG_SIDE / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def _n(items: Items) -> int:
    raw = first(items, "n")
    if raw is None or raw == "":
        return 1
    try:
        if isinstance(raw, (bool, float)):
            raise ValueError
        n = int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, f"Invalid parameter: n {raw!r} (an integer 1-4)") from None
    if not 1 <= n <= 4:
        raise ApiError(400, f"Invalid parameter: n {n} (an integer 1-4)")
    return n


def _inputs(items: Items) -> tuple[list[bytes | None], bytes | None]:
    images = [*items.get("image", []), *items.get("image[]", [])]
    if not images:
        raise ApiError(400, "Missing required parameter: image", code="missing_required_parameter")
    if len(images) > MAX_IMAGES:
        raise ApiError(
            400, f"Invalid parameter: image (at most {MAX_IMAGES} images, got {len(images)})",
            code="too_many_images",
        )  # fmt: skip
    checked = [image_input(v, "image") for v in images]
    mask = first(items, "mask")
    mask_bytes = image_input(mask, "mask") if mask not in (None, "", b"") else None
    return checked, mask_bytes


def _draw(
    ctx: Ctx, seed: str, items: Items, inputs: int
) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The answer's ``data`` and ``usage``; URL images are registered under ``/files``."""
    fmt = first(items, "response_format") or "b64_json"
    if fmt not in FORMATS:
        raise ApiError(400, f"Invalid parameter: response_format {fmt!r} (b64_json or url)")
    size = first(items, "size") or "auto"
    width, height = _dims(str(size))
    n = _n(items)
    data: list[dict[str, str]] = []
    files: dict[str, bytes] = {}
    base = str(ctx.request.base_url).rstrip("/")
    for i in range(n):
        png = png_for(f"{seed}#{i}" if i else seed, width, height)
        if fmt == "url":
            name = new_id("img_") + ".png"
            files[name] = png
            data.append({"url": f"{base}/files/{name}"})
        else:
            data.append({"b64_json": base64.b64encode(png).decode()})
    ctx.state.add_files(files)
    text_tokens = count_tokens(prompt_of(items))
    image_tokens = IMAGE_IN_TOKENS * inputs
    usage = {
        "total_tokens": text_tokens + image_tokens + IMAGE_OUT_TOKENS * n,
        "input_tokens": text_tokens + image_tokens,
        "output_tokens": IMAGE_OUT_TOKENS * n,
        "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
    }
    return data, usage


def task_object(ctx: Ctx, job: Job) -> dict[str, Any]:
    status, progress = phase(ctx, job)
    obj: dict[str, Any] = {
        "id": job.id,
        "object": "image.task",
        "model": job.model,
        "status": _STATUS.get(status, "failed"),
        "progress": progress,
        "created_at": job.created_at,
    }
    if status == "done":
        obj["data"] = job.params["data"]
        obj["usage"] = job.params["usage"]
    elif status == "failed":
        obj["fail_reason"] = FAIL_REASON
    return obj


async def _run(ctx: Ctx, edit: bool) -> Response:
    platform = platform_of(ctx)
    items = await read_payload(ctx.request)
    model = resolve(first(items, "model"), platform, "image")
    prompt = prompt_of(items)
    seed = f"{model}\0{prompt}"
    inputs = 0
    if edit:
        images, mask = _inputs(items)
        digest = hashlib.sha256()
        for image in (*images, mask):
            digest.update(image or b"url")
        seed += "\0" + digest.hexdigest()
        inputs = len(images) + (mask is not None)
    check_quota(ctx)
    data, usage = _draw(ctx, seed, items, inputs)
    asked_async = ctx.request.query_params.get("async", first(items, "async"))
    if platform is None or asked_async is None or not flag(asked_async):
        return compact_response({"created": int(time.time()), "data": data, "usage": usage})
    job = Job(
        id=new_id("imgtask_"),
        key=ctx.key,
        kind="image",
        model=model,
        prompt=prompt,
        created=time.monotonic(),
        created_at=int(time.time()),
        offset0=ctx.state.clock_offset,
        platform=platform,
        fault=ctx.faults.task,
        params={"data": data, "usage": usage},
        references=inputs,
    )
    ctx.state.add_job(job)
    return compact_response(task_object(ctx, job))


async def generations(ctx: Ctx) -> Response:
    return await _run(ctx, edit=False)


async def edits(ctx: Ctx) -> Response:
    return await _run(ctx, edit=True)


async def image_task(ctx: Ctx) -> Response:
    platform = platform_of(ctx)
    job = find_job(ctx, ctx.request.path_params["task_id"], "image", platform)
    return compact_response(task_object(ctx, job))


async def files(ctx: Ctx) -> Response:
    """``GET /files/<name>``: image URLs of the OpenAI side (no key, like ``/idfile``)."""
    data = ctx.state.files.get(ctx.request.path_params["name"])
    if data is None:
        raise ApiError(404, "File not found")
    return Response(data, media_type="image/png")
