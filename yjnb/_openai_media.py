"""Images and videos on the OpenAI-style protocols (see `_openai` for the formats).

Images on the OpenAI-compatible service are made while the request waits: the answer is the
image, so the returned `Task` is already SUCCEEDED, with an id yjnb makes (`img-...`). The
gateway's images are tasks (`?async=true`), polled at `/images/{id}` like videos, so their
ids reach the ledger at once and survive a kernel restart. Base64 images are written to
`YJ_HOME/media` the moment they arrive: nothing paid for lives only in memory.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from ._catalog import Prepared
from ._errors import ValidationError, YJError
from ._openai import api_root, image_items, update_openai_task
from ._tasks import file_labels, multipart_files, save_bytes
from ._types import Task, utcnow

if TYPE_CHECKING:
    from ._base import BaseClient as AsyncClient

__all__ = ["fetch_openai", "keep_images", "submit_openai"]

# Names the catalog passes through for unknown models -> the OpenAI field names.
_WIRE = {"images": "image", "first_frame": "input_reference", "input_references": "input_reference"}
_VIDEO_WIRE = {"images": "input_reference", "image": "input_reference"}


def keep_images(task: Task, items: list[tuple[str, str]], folder: Path) -> None:
    """URLs go to `image_urls` (the first also to `image_url`); base64 images to files."""
    for number, (how, value) in enumerate(items, start=1):
        what = "image" if number == 1 else f"image-{number}"
        if how == "url":
            task.image_urls.append(value)
            continue
        try:
            data = base64.b64decode(value, validate=False)
        except (binascii.Error, ValueError):
            raise YJError(f"image {number} of task {task.taskid} is not valid base64") from None
        task.local_paths[what] = str(save_bytes(task, what, data, folder))
    if task.image_urls and not task.image_url:
        task.image_url = task.image_urls[0]


def _wire_names(kind: str, prepared: Prepared, gateway: bool) -> None:
    """Rename fields to the OpenAI names; the gateway's multipart repeats `name[]`."""
    names = _VIDEO_WIRE if kind == "video" else {}
    rename = {**_WIRE, **names}
    prepared.files = [(rename.get(w, w), v) for w, v in prepared.files]
    prepared.fields = {rename.get(k, k): v for k, v in prepared.fields.items()}
    if gateway:
        repeat = {"image", "input_reference"}
        prepared.files = [(f"{w}[]" if w in repeat else w, v) for w, v in prepared.files]


async def submit_openai(
    client: AsyncClient,
    kind: str,
    prepared: Prepared,
    *,
    platform: str | None,
    remix_of: str | None = None,
) -> Task:
    """Send one image or video request (or a remix) and return its `Task`."""
    settings = client.settings
    gateway = settings.protocol == "gateway"
    root = api_root(client.base_url, settings.protocol, platform)
    recorded = {**prepared.fields, **file_labels(prepared.files)}
    _wire_names(kind, prepared, gateway)
    query: dict[str, str] | None = None
    if kind == "image":
        images = [w for w, _ in prepared.files if w.startswith("image")]
        if not images and any(w == "mask" for w, _ in prepared.files):
            raise ValidationError("mask= edits given images: add images=... (up to 7)")
        path = f"{root}/images/edits" if images else f"{root}/images/generations"
        query = {"async": "true"} if gateway else None
    elif remix_of:
        path = f"{root}/videos/{quote(remix_of, safe='')}/remix"
    else:
        path = f"{root}/videos"
    fields = {"model": prepared.model, "prompt": prepared.prompt, **prepared.fields}
    if prepared.files:
        data = {k: str(v) for k, v in fields.items()}
        files = multipart_files(prepared)
        response = await client._send("POST", path, data=data, files=files, params=query)
    else:
        response = await client._send("POST", path, json=fields, params=query)
    body = response.json()
    if not isinstance(body, dict):
        raise YJError(f"the {kind} answer is not a JSON object: {body!r:.200}")
    task = Task(
        taskid="",
        kind=kind,
        model=prepared.model,
        catelog=prepared.catelog,
        prompt=prepared.prompt,
        params={**recorded, "platform": platform} if gateway else recorded,
        profile=settings.profile,
        platform=platform if gateway else None,
        remixed_from=remix_of,
    )
    if kind == "image" and not gateway:  # the answer is the image itself
        created = body.get("created") or int(time.time())
        task.taskid = f"img-{created}-{secrets.token_hex(4)}"
        task.status, task.progress, task.finished_at = "SUCCEEDED", 100.0, utcnow()
        task.usage = dict(body["usage"]) if isinstance(body.get("usage"), dict) else None
        items = image_items(body)
        if not items:
            raise YJError(f"the image answer has no images: {body!r:.200}")
        keep_images(task, items, settings.home / "media")
        return task
    taskid = body.get("id") or body.get("task_id") or body.get("taskid")
    if not taskid:
        raise YJError(f"the platform accepted the {kind} task but sent no id: {body!r:.200}")
    task.taskid = str(taskid)
    task.status = "PENDING"
    return update_openai_task(task, body, client.base_url + root)


async def fetch_openai(client: AsyncClient, task: Task, *, detail: bool = False) -> Task:
    """One status request for a video (or gateway image) task; `task` is updated in place."""
    settings = client.settings
    gateway = settings.protocol == "gateway"
    if task.kind == "image" and not gateway:
        return task  # made while the request waited: there is nothing to poll
    root = api_root(client.base_url, settings.protocol, task.platform or settings.platform)
    what = "images" if task.kind == "image" else "videos"
    params = {"detail": "true"} if detail and gateway else None
    path = f"{root}/{what}/{quote(task.taskid, safe='')}"
    body = (await client._send("GET", path, params=params)).json()
    body = body if isinstance(body, dict) else {}
    update_openai_task(task, body, client.base_url + root)
    if task.kind == "image" and task.succeeded and not (task.local_paths or task.image_urls):
        keep_images(task, image_items(body), settings.home / "media")
    return task
