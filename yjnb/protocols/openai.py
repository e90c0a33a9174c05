"""An OpenAI-compatible service (seed 004): chat, `/responses`, images and Sora-2 video tasks.

Every path is under an API root, `{base_url}/v1` (a base URL that already ends in `/v1`, as
the openai SDK wants it, is not doubled). Chat takes `messages`, so a conversation's history
travels as messages, with attachments as parts of the last user message. Images are made
while the request waits: the answer is the image (`b64_json` or `url`), so the `Task` comes
back SUCCEEDED with an id yjnb makes (`img-...`) and base64 images as inline media, which the
client saves at once. Videos follow the Sora-2 flow: `/videos`, `/videos/{id}`,
`/videos/{id}/remix`, and `/videos/{id}/content` for the file.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from .._catalog import Catalog
from .._errors import MalformedResponse
from .._types import RetryKind, Task, utcnow
from ._openai_wire import (
    STATUS,
    ResponsesAccumulator,
    image_items,
    messages,
    responses_input,
)
from ._stream import StreamAccumulator
from .base import (
    Attachment,
    Inline,
    PreparedChat,
    PreparedTask,
    Protocol,
    WireRequest,
    fold_status,
    task_id,
)
from .openai_models import MODELS

__all__ = ["OpenAI"]

CATALOG = Catalog("openai", MODELS)
# Names the catalog passes through for unknown models -> the OpenAI field names.
_WIRE = {"images": "image", "first_frame": "input_reference", "input_references": "input_reference"}
_VIDEO_WIRE = {"images": "input_reference", "image": "input_reference"}


class OpenAI(Protocol):
    """An OpenAI-compatible service."""

    name = "openai"
    catalog: ClassVar[Catalog] = CATALOG
    defaults: ClassVar[Mapping[str, str]] = {
        "chat": "gemini-2.5-flash",
        "image": "nano-banana-pro",
        "video": "veo-3.1",
    }
    capabilities = frozenset({"chat_images", "responses", "remix"})

    def root(self, platform: str | None = None) -> str:
        """The path prefix of every call: "/v1", or "" when the base URL ends in /v1."""
        return "" if self.base_url.endswith("/v1") else "/v1"

    # -- chat ---------------------------------------------------------------------------------

    def history(
        self, prompt: str, system: str | None, turns: list[tuple[str, str]]
    ) -> tuple[str, dict[str, Any]]:
        """The history as messages: system, then user/assistant pairs, then the prompt."""
        if not turns:
            return prompt, {}
        sent: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
        for asked, answered in turns:
            sent += [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
        sent.append({"role": "user", "content": prompt})
        return prompt, {"messages": sent}

    def chat_request(
        self, chat: PreparedChat, images: list[Attachment], files: list[Attachment]
    ) -> WireRequest:
        extra = dict(chat.params)
        given = extra.pop("messages", None)
        root = self.root(chat.platform)
        if chat.api == "responses":
            items = responses_input(chat.prompt, given, images)
            body: dict[str, Any] = {"model": chat.model, "input": items, **extra}
            body["stream"] = chat.stream
            if chat.system:
                body["instructions"] = chat.system
            return WireRequest(
                "POST", f"{root}/responses", json=body, stream=chat.stream, retry=RetryKind.CHAT
            )
        sent = messages(chat.prompt, chat.system, given, images, files)
        body = {"model": chat.model, "messages": sent, **extra, "stream": chat.stream}
        if chat.stream:
            # Token counts of a streamed answer come only when asked for (an extra last chunk).
            body.setdefault("stream_options", {"include_usage": True})
        return WireRequest(
            "POST", f"{root}/chat/completions", json=body, stream=chat.stream, retry=RetryKind.CHAT
        )

    def chat_decoder(self, chat: PreparedChat) -> StreamAccumulator:
        if chat.api == "responses":
            return ResponsesAccumulator(model=chat.model, prompt=chat.prompt, system=chat.system)
        return super().chat_decoder(chat)

    # -- models -------------------------------------------------------------------------------

    def models_request(self, catelog: str | None, platform: str | None) -> WireRequest:
        return WireRequest("GET", self.root(platform) + "/models")

    # -- media tasks --------------------------------------------------------------------------

    def _wire_files(self, task: PreparedTask) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
        """(files, fields) under the OpenAI names."""
        rename = {**_WIRE, **(_VIDEO_WIRE if task.kind == "video" else {})}
        request = task.request
        files = [(rename.get(w, w), v) for w, v in request.files]
        fields = {rename.get(k, k): v for k, v in request.fields.items()}
        return files, fields

    def task_problems(self, task: PreparedTask) -> list[str]:
        files, _ = self._wire_files(task)
        names = {w for w, _ in files}
        if task.kind == "image" and "mask" in names and "image" not in names:
            return ["mask= edits given images: add images=... (up to 7)"]
        return []

    def task_path(self, task: PreparedTask, has_images: bool) -> str:
        root = self.root(task.platform)
        if task.kind == "image":
            return f"{root}/images/edits" if has_images else f"{root}/images/generations"
        if task.remix_of:
            return f"{root}/videos/{quote(task.remix_of, safe='')}/remix"
        return f"{root}/videos"

    def multipart_name(self, name: str) -> str:
        return name

    def task_request(self, task: PreparedTask) -> WireRequest:
        files, fields = self._wire_files(task)
        path = self.task_path(task, any(w == "image" for w, _ in files))
        query = {"async": "true"} if task.kind == "image" and self.supports("image_tasks") else None
        body = {"model": task.model, "prompt": task.request.prompt, **fields}
        if files:
            data = {k: str(v) for k, v in body.items()}
            files = [(self.multipart_name(w), v) for w, v in files]
            return WireRequest(
                "POST", path, data=data, files=files, params=query, retry=RetryKind.MEDIA
            )
        return WireRequest("POST", path, json=body, params=query, retry=RetryKind.MEDIA)

    def new_task(self, task: PreparedTask, profile: str) -> Task:
        made = super().new_task(task, profile)
        made.remixed_from = task.remix_of
        return made

    def parse_submit(self, task: Task, body: Any) -> Inline:
        if not isinstance(body, dict):
            raise MalformedResponse(f"the {task.kind} submission is not a JSON object")
        if task.kind == "image" and not self.supports("image_tasks"):
            return self._finished_image(task, body)
        task.taskid = task_id(task.kind, body, "id", "task_id", "taskid")
        task.status = "PENDING"
        return self.parse_status(task, body)

    def _finished_image(self, task: Task, body: dict[str, Any]) -> Inline:
        """The answer is the image itself: the task is done, with an id yjnb makes."""
        created = body.get("created") or int(time.time())
        task.taskid = f"img-{created}-{secrets.token_hex(4)}"
        task.status, task.progress, task.finished_at = "SUCCEEDED", 100.0, utcnow()
        task.usage = dict(body["usage"]) if isinstance(body.get("usage"), dict) else None
        items = image_items(body)
        if not items:
            raise MalformedResponse("the image answer has no images")
        return keep_images(task, items)

    def status_request(self, task: Task, *, detail: bool = False) -> WireRequest | None:
        if task.kind == "image" and not self.supports("image_tasks"):
            return None  # made while the request waited: there is nothing to poll
        what = "images" if task.kind == "image" else "videos"
        path = f"{self.root(task.platform)}/{what}/{quote(task.taskid, safe='')}"
        params = {"detail": "true"} if detail and self.supports("task_detail") else None
        return WireRequest("GET", path, params=params)

    def parse_status(self, task: Task, body: Any) -> Inline:
        """Fold a video (or gateway image) status into `task`: put in Yuanjing's words for
        `fold_status`, then the detail and the content URL are added."""
        if not isinstance(body, dict):
            raise MalformedResponse("the task status is not a JSON object")
        status = body.get("status")
        if isinstance(status, str) and status:
            status = STATUS.get(status.strip().lower(), status)
        reason = body.get("fail_reason") or body.get("error") or body.get("message")
        if isinstance(reason, dict):
            reason = reason.get("message") or json.dumps(reason)
        progress = body.get("progress")
        translated = {
            "status": status,
            "taskid": body.get("id"),
            "usage": body.get("usage"),
            "progress": None if isinstance(progress, bool) else progress,
            "fail_reason": reason,
        }
        fold_status(task, translated)
        if isinstance(body.get("detail"), dict):
            task.detail = dict(body["detail"])
        if task.status == "SUCCEEDED" and task.kind == "video" and not task.video_url:
            root_url = self.base_url + self.root(task.platform)
            task.video_url = f"{root_url}/videos/{quote(task.taskid, safe='')}/content"
        if task.kind == "image" and task.succeeded and not (task.local_paths or task.image_urls):
            return keep_images(task, image_items(body))
        return []


def keep_images(task: Task, items: list[tuple[str, str]]) -> Inline:
    """URLs go to `image_urls` (the first also to `image_url`); base64 images are decoded and
    returned as inline media for the client to save."""
    inline: Inline = []
    for number, (how, value) in enumerate(items, start=1):
        if how == "url":
            task.image_urls.append(value)
            continue
        try:
            data = base64.b64decode(value, validate=False)
        except (binascii.Error, ValueError):
            raise MalformedResponse(
                f"image {number} of task {task.taskid} is not valid base64"
            ) from None
        inline.append(("image" if number == 1 else f"image-{number}", data))
    if task.image_urls and not task.image_url:
        task.image_url = task.image_urls[0]
    return inline
