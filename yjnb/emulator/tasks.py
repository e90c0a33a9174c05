"""Image and video tasks: submission (JSON or multipart), validation, pricing, status.

Price table (credits, charged at submit, not refunded on failure):

* video = rate(family) x duration (s) x resolution multiplier, halved with ``off_peak=Y``;
  rates per second: happyhorse 8, seedance 2.0 12, seedance 2.0 fast 6, seedance 1.5 10,
  wan 9, vidu 10; multipliers: <=540p 1.0, 720p 1.5, 1080p 2.5 (wan ``size`` by its short side)
* images, flat: wan2.2-t2i-plus 4, wan2.5-t2i-preview 5, wan2.2-t2i-flash 2, cogview-3-flash 1

Schedule (platform seconds, divided by ``speed``): video CREATED 2 s, PENDING 4 s, RUNNING
20 s; images 1 s, 2 s, 6 s; then SUCCEEDED (or FAILED / RUNNING forever with a task fault).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from .context import ApiError, Ctx, json_response, read_json
from .models import (
    ACTION_TYPES,
    IMAGE_PRICE,
    LEGACY,
    LEGACY_ALIASES,
    MEDIA,
    RES_MULTIPLIER,
    VIDEO_RATE,
    Spec,
)
from .state import Task

SCHEDULE = {"video": (2.0, 4.0, 20.0), "image": (1.0, 2.0, 6.0)}
FAIL_REASON = "Task failed: the provider rejected the request (emulated fault)"

Items = dict[str, list[Any]]


async def read_payload(request: Request) -> Items:
    """Every field with all its values, from multipart/urlencoded forms or a JSON object."""
    ctype = request.headers.get("content-type", "")
    items: Items = {}
    if ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        try:
            form = await request.form(max_files=100, max_fields=200)
        except Exception as exc:  # malformed multipart bodies raise several types
            raise ApiError(400, f"Invalid form body: {exc}") from None
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                items.setdefault(name, []).append(data)
            else:
                items.setdefault(name, []).append(value)
        await form.close()
        return items
    for name, value in (await read_json(request)).items():
        items[name] = list(value) if isinstance(value, list) else [value]
    return items


def _first(items: Items, name: str) -> Any:
    values = items.get(name)
    return values[0] if values else None


def _present(value: Any, url_ok: bool) -> bool:
    if isinstance(value, bytes):
        return True
    # seed 000: image_file1/2 may be a URL (or base64) string instead of a file
    return url_ok and isinstance(value, str) and bool(value.strip())


def _check_files(spec: Spec, items: Items) -> None:
    for name in spec.required_files:
        if not any(_present(v, spec.url_ok) for v in items.get(name, [])):
            raise ApiError(400, f"Missing required parameter: {name}")
    for name in (*spec.required_files, *spec.optional_files):
        for value in items.get(name, []):
            if isinstance(value, bytes) and not value:
                raise ApiError(400, f"Invalid parameter: {name} is an empty file")
    for name, limit in spec.array_files.items():
        values = [v for v in items.get(name, []) if v not in (b"", "", None)]
        if name in spec.required_arrays and not values:
            raise ApiError(400, f"Missing required parameter: {name}")
        if len(values) > limit:
            raise ApiError(400, f"Invalid parameter: {name} (at most {limit} files)")


def _check_params(spec: Spec, items: Items) -> dict[str, Any]:
    params: dict[str, Any] = dict(spec.defaults)
    for name, allowed in spec.enums.items():
        value = _first(items, name)
        if value is None or value == "":
            continue
        if value not in allowed:
            raise ApiError(
                400, f"Invalid parameter: {name} {value!r} (allowed: {', '.join(allowed)})"
            )
        params[name] = value
    for name, bounds in spec.ints.items():
        raw = _first(items, name)
        if raw is None or raw == "":
            continue
        try:
            if isinstance(raw, (bool, float)):
                raise ValueError
            value = int(raw)
        except (TypeError, ValueError):
            raise ApiError(400, f"Invalid parameter: {name} {raw!r} (integer)") from None
        if name in spec.int_choices:
            if value not in bounds:
                choices = ", ".join(map(str, bounds))
                raise ApiError(400, f"Invalid parameter: {name} {value} (allowed: {choices})")
        elif not bounds[0] <= value <= bounds[1]:
            raise ApiError(
                400, f"Invalid parameter: {name} {value} (range {bounds[0]}-{bounds[1]})"
            )
        params[name] = value
    return params


def _tier(resolution: str) -> str:
    if "*" in resolution:
        short = min(int(x) for x in resolution.split("*"))
        return "low" if short < 720 else "720" if short < 1080 else "1080"
    if resolution.lower().startswith("1080"):
        return "1080"
    return "720" if resolution.lower().startswith("720") else "low"


def _credits(value: float) -> float | int:
    value = round(value, 3)
    return int(value) if value == int(value) else value


def price(model: str, catelog: str, spec: Spec, params: dict[str, Any]) -> dict[str, Any]:
    """The usage object the task reports when it succeeds (``credits`` included)."""
    if catelog == "t2i":
        resolution, duration, off_peak = str(params.get("size", "1024*1024")), 0, False
        credits = IMAGE_PRICE[model]
    else:
        resolution = str(params.get("resolution") or params.get("size") or "720p")
        duration = int(params.get("duration", 5))
        off_peak = params.get("off_peak") == "Y"
        credits = VIDEO_RATE[spec.family] * duration * RES_MULTIPLIER[_tier(resolution)]
        if off_peak:
            credits /= 2  # off-peak runs are the cheap option on vidu
    return {
        "action": catelog,
        "credits": _credits(credits),
        "type": ACTION_TYPES[catelog],
        "model": model,
        "resolution": resolution,
        "off_peak": off_peak,
        "duration": duration,
    }


def _media_paths(taskid: str, kind: str) -> dict[str, str]:
    digest = hashlib.sha256(taskid.encode()).digest()
    a, b, c, d, e, f, g, h = (x % 199 + 1 for x in digest[:8])
    if kind == "image":
        return {"image": f"/tmp/{a}/{b}/{c}/{d}/image.png"}
    return {"image": f"/tmp/{a}/{b}/{c}/{d}/cover.jpeg", "video": f"/tmp/{e}/{f}/{g}/{h}/video.mp4"}


def _submit(ctx: Ctx, model: str, catelog: str, items: Items) -> Task:
    spec = MEDIA[(model, catelog)]
    prompt = _first(items, "prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ApiError(400, "Missing required parameter: prompt")
    _check_files(spec, items)
    params = _check_params(spec, items)
    usage = price(model, catelog, spec, params)
    if not ctx.state.try_charge(ctx.key, float(usage["credits"])):
        raise ApiError(429, "Insufficient balance")
    kind = "image" if catelog == "t2i" else "video"
    taskid = ctx.state.new_taskid()
    task = Task(
        taskid=taskid,
        key=ctx.key,
        model=model,
        catelog=catelog,
        prompt=prompt,
        credits=float(usage["credits"]),
        usage=usage,
        created=time.monotonic(),
        kind=kind,
        fault=ctx.faults.task,
        offset0=ctx.state.clock_offset,
        media=_media_paths(taskid, kind),
    )
    ctx.state.add_task(task)
    return task


def _model_and_catelog(items: Items, endpoint: str) -> tuple[str, str]:
    model = _first(items, "model")
    catelog = _first(items, "catelogid")
    if not model:
        raise ApiError(400, "Missing required parameter: model")
    if not catelog:
        raise ApiError(400, "Missing required parameter: catelogid")
    allowed = ("t2i",) if endpoint == "image" else ("t2v", "i2v", "ref2v")
    if catelog not in allowed:
        raise ApiError(
            400, f"Invalid parameter: catelogid {catelog!r} (allowed: {', '.join(allowed)})"
        )
    if (model, catelog) not in MEDIA:
        raise ApiError(400, f"Invalid parameter: model {model!r} is not a {catelog} model")
    return model, catelog


async def image_generations(ctx: Ctx) -> Response:
    items = await read_payload(ctx.request)
    model, catelog = _model_and_catelog(items, "image")
    task = _submit(ctx, model, catelog, items)
    return json_response({"taskid": task.taskid, "status": "CREATED"})


async def video_generations(ctx: Ctx) -> Response:
    items = await read_payload(ctx.request)
    model, catelog = _model_and_catelog(items, "video")
    task = _submit(ctx, model, catelog, items)
    return json_response({"taskid": task.taskid, "status": "CREATED"})


async def legacy_video(ctx: Ctx) -> Response:
    """``POST /llmage/video``: the model comes from ``llmid``; answers lowercase ``created``."""
    items = await read_payload(ctx.request)
    llmid = _first(items, "llmid")
    if not llmid:
        raise ApiError(400, "Missing required parameter: llmid")
    if llmid not in LEGACY:
        raise ApiError(400, f"Invalid parameter: llmid {llmid!r} is unknown")
    catelog, names = LEGACY[llmid]
    asked = _first(items, "model")
    # The seed's own examples send models that do not belong to the llmid; the llmid wins.
    model = asked if asked in names else names[0]
    spec = MEDIA[(model, catelog)]
    known = {*spec.required_files, *spec.optional_files, *spec.array_files, *spec.enums}
    for alias, target in LEGACY_ALIASES.items():
        if alias in items and alias not in known and target in known and target not in items:
            items[target] = items.pop(alias)
    task = _submit(ctx, model, catelog, items)
    return json_response({"taskid": task.taskid, "status": "created"})


def status_of(ctx: Ctx, task: Task) -> dict[str, Any]:
    created, pending, running = SCHEDULE[task.kind]
    t = ctx.state.elapsed(task)
    if t < created:
        return {"taskid": task.taskid, "status": "CREATED"}
    if t < created + pending:
        return {"taskid": task.taskid, "status": "PENDING"}
    if t < created + pending + running or task.fault == "stuck":
        return {"taskid": task.taskid, "status": "RUNNING"}
    if task.fault == "fail":
        return {"status": "FAILED", "taskid": task.taskid, "error": FAIL_REASON}
    base = str(ctx.request.base_url).rstrip("/")
    out: dict[str, Any] = {"usage": task.usage}
    for kind, path in task.media.items():
        out[kind] = f"{base}/idfile?path={path}"
    out["status"] = "SUCCEEDED"
    out["taskid"] = task.taskid
    return out


async def task_status(ctx: Ctx) -> Response:
    taskid = ctx.request.query_params.get("taskid")
    if not taskid and ctx.request.method == "POST":
        taskid = _first(await read_payload(ctx.request), "taskid")
    if not taskid:
        raise ApiError(400, "Missing required parameter: taskid")
    task = ctx.state.tasks.get(str(taskid))
    if task is None or task.key != ctx.key:  # another key's task does not exist for you
        raise ApiError(404, "Task not found")
    return json_response(status_of(ctx, task))
