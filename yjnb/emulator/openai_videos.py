"""Sora-2 compatible video jobs: create, status, content and remix (``/v1`` and gateway).

Create and remix take JSON or multipart: ``input_reference`` or ``input_reference[]``
(files, URL / base64 strings, a JSON list too). ``seconds`` (a string; a JSON number is
accepted) and ``size`` follow :mod:`.oai_models` ``VIDEO_RULES``; omitted, they take the
model's defaults (a remix with the same model keeps its source's). Every answer is the
status object ``{"id", "object": "video", "model", "status", "progress", "fail_reason",
"created_at", "seconds", "size"}``, plus ``remixed_from_video_id`` on remixes, ``error``
(``{"code", "message"}``, as the OpenAI SDK reads it) when failed, and ``detail`` with the
gateway's ``?detail=true``.

Status names: ``pending``, ``processing``, then the model's success / failure spelling.
``/content`` answers the bundled MP4 (``?variant=thumbnail`` or ``spritesheet``: the JPEG
cover) once succeeded, 400 ``video_not_ready`` before (or after a failure). A remix needs
a completed source video (400 ``video_not_ready`` otherwise, 404 for an unknown one).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.responses import Response

from .context import ApiError, Ctx, compact_response
from .media import asset
from .oai_common import FAIL_REASON, find_job, flag, image_input, new_id, phase, platform_of
from .oai_models import VideoRule, resolve, video_rule
from .openai_api import check_quota
from .openai_images import first, prompt_of
from .state import Job
from .tasks import Items, read_payload

MAX_SECONDS = 12
VARIANTS = {"video": ("video.mp4", "video/mp4"), "thumbnail": ("cover.jpeg", "image/jpeg")}
VARIANTS["spritesheet"] = VARIANTS["thumbnail"]


def _seconds(raw: Any, rule: VideoRule, model: str) -> str:
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise ApiError(400, f'Invalid parameter: seconds {raw!r} (a string like "8")')
    seconds = str(raw).strip()
    if rule.seconds is not None:
        if seconds not in rule.seconds:
            allowed = ", ".join(rule.seconds)
            raise ApiError(400, f"Invalid parameter: seconds {seconds!r} for {model} ({allowed})")
    elif not seconds.isdigit() or not 1 <= int(seconds) <= MAX_SECONDS:
        raise ApiError(400, f"Invalid parameter: seconds {seconds!r} (1-{MAX_SECONDS})")
    return seconds


def _size(raw: Any, rule: VideoRule, model: str) -> str:
    size = str(raw).strip()
    if rule.sizes is not None:
        if size not in rule.sizes:
            allowed = ", ".join(rule.sizes)
            raise ApiError(400, f"Invalid parameter: size {size!r} for {model} ({allowed})")
    else:
        w, x, h = size.partition("x")
        sides = (w, h) if x and w.isdigit() and h.isdigit() else ()
        if not sides or not all(64 <= int(side) <= 4096 for side in sides):
            raise ApiError(400, f"Invalid parameter: size {size!r} (WxH, like 1280x720)")
    return size


def _submit(ctx: Ctx, items: Items, platform: str | None, source: Job | None) -> Job:
    asked = first(items, "model")
    model = resolve(asked or (source.model if source else None), platform, "video")
    rule = video_rule(model)
    prompt = prompt_of(items)
    keep = source is not None and source.model == model
    seconds, size = first(items, "seconds"), first(items, "size")
    if seconds in (None, ""):
        seconds = source.params["seconds"] if source and keep else rule.default_seconds
    if size in (None, ""):
        size = source.params["size"] if source and keep else rule.default_size
    params = {"seconds": _seconds(seconds, rule, model), "size": _size(size, rule, model)}
    refs = [*items.get("input_reference", []), *items.get("input_reference[]", [])]
    for ref in refs:
        image_input(ref, "input_reference")
    check_quota(ctx)
    job = Job(
        id=new_id("video_"),
        key=ctx.key,
        kind="video",
        model=model,
        prompt=prompt,
        created=time.monotonic(),
        created_at=int(time.time()),
        offset0=ctx.state.clock_offset,
        platform=platform,
        fault=ctx.faults.task,
        params=params,
        references=len(refs),
        remixed_from=source.id if source else None,
    )
    ctx.state.add_job(job)
    return job


def _status_name(job: Job, status: str) -> str:
    rule = video_rule(job.model)
    return {"done": rule.success, "failed": rule.failure}.get(status, status)


def video_object(ctx: Ctx, job: Job, detail: bool = False) -> dict[str, Any]:
    status, progress = phase(ctx, job)
    obj: dict[str, Any] = {
        "id": job.id,
        "object": "video",
        "model": job.model,
        "status": _status_name(job, status),
        "progress": progress,
        "fail_reason": FAIL_REASON if status == "failed" else None,
        "created_at": job.created_at,
        "seconds": job.params["seconds"],
        "size": job.params["size"],
    }
    if job.remixed_from:
        obj["remixed_from_video_id"] = job.remixed_from
    if status == "failed":
        obj["error"] = {"code": "video_generation_failed", "message": FAIL_REASON}
    if detail:
        obj["detail"] = {
            "platform": job.platform,
            "prompt": job.prompt,
            "seconds": job.params["seconds"],
            "size": job.params["size"],
            "input_references": job.references,
            "remixed_from_video_id": job.remixed_from,
            "elapsed_seconds": round(ctx.state.elapsed(job), 3),
            "provider_status": status.upper(),
        }
    return obj


async def create(ctx: Ctx) -> Response:
    platform = platform_of(ctx)
    job = _submit(ctx, await read_payload(ctx.request), platform, None)
    return compact_response(video_object(ctx, job))


def _job(ctx: Ctx) -> tuple[Job, str | None]:
    platform = platform_of(ctx)
    return find_job(ctx, ctx.request.path_params["video_id"], "video", platform), platform


async def retrieve(ctx: Ctx) -> Response:
    job, platform = _job(ctx)
    detail = platform is not None and flag(ctx.request.query_params.get("detail", ""))
    return compact_response(video_object(ctx, job, detail))


def _require_done(ctx: Ctx, job: Job, action: str) -> None:
    status, _ = phase(ctx, job)
    if status != "done":
        name = _status_name(job, status)
        raise ApiError(
            400, f"Video `{job.id}` is {name}: {action} needs a completed video",
            code="video_not_ready",
        )  # fmt: skip


async def content(ctx: Ctx) -> Response:
    job, _ = _job(ctx)
    _require_done(ctx, job, "downloading")
    variant = ctx.request.query_params.get("variant") or "video"
    if variant not in VARIANTS:
        raise ApiError(400, f"Invalid parameter: variant {variant!r} ({', '.join(VARIANTS)})")
    name, ctype = VARIANTS[variant]
    return Response(asset(name), media_type=ctype)


async def remix(ctx: Ctx) -> Response:
    source, platform = _job(ctx)
    items = await read_payload(ctx.request)
    _require_done(ctx, source, "a remix")
    job = _submit(ctx, items, platform, source)
    return compact_response(video_object(ctx, job))
