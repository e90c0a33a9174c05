"""Media calls of `AsyncClient`: image, video, remix, submit, task, wait and download.

Yuanjing tasks are submitted to `/llmage/v1/{kind}/generations` (or the older `/llmage/video`)
and polled at `/llmage/v1/tasks`; the OpenAI-style protocols go through `_openai_media`.
Every task is reported (usage hook) the moment its id exists, and again when it ends.
"""

from __future__ import annotations

import asyncio
import os
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from ._base import (
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_WAIT_TIMEOUT_S,
    BaseClient,
    TaskUpdate,
    YJWarning,
)
from ._errors import (
    APIConnectionError,
    RateLimitError,
    ServerError,
    TaskFailed,
    TaskTimeout,
    ValidationError,
    YJError,
)
from ._http import send
from ._tasks import (
    copy_local,
    file_labels,
    multipart_files,
    record_for,
    save_response,
    update_task,
    yuanjing_request,
)
from ._types import Task

__all__ = ["MediaCalls"]


class MediaCalls(BaseClient):
    """Images and videos as tasks, on every protocol."""

    async def image(
        self,
        prompt: str,
        *,
        model: str | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        on_update: TaskUpdate | None = None,
        profile: str | None = None,
        platform: str | None = None,
        **params: Any,
    ) -> Task:
        """Make an image; by default wait for it and return the finished `Task`.

        On the OpenAI-style protocols `images=` makes it an edit (with an optional `mask=`).
        """
        client = self._for(profile)
        model = model or client._default_model("image")
        task = await client.submit("image", prompt, model=model, params=params, platform=platform)
        return await client.wait(task, timeout=timeout, on_update=on_update) if wait else task

    async def video(
        self,
        prompt: str,
        *,
        model: str | None = None,
        catelog: str | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        on_update: TaskUpdate | None = None,
        profile: str | None = None,
        platform: str | None = None,
        **params: Any,
    ) -> Task:
        """Submit a video task (t2v, i2v or ref2v, inferred from the files given) and wait."""
        client = self._for(profile)
        model = model or client._default_model("video")
        task = await client.submit(
            "video", prompt, model=model, catelog=catelog, params=params, platform=platform
        )
        return await client.wait(task, timeout=timeout, on_update=on_update) if wait else task

    async def remix(
        self,
        task_or_id: Task | str,
        prompt: str,
        *,
        model: str | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        on_update: TaskUpdate | None = None,
        profile: str | None = None,
        platform: str | None = None,
        **params: Any,
    ) -> Task:
        """A new video from a finished one and a new prompt (openai and gateway protocols)."""
        client = self._for(profile)
        if not client._openai_style:
            raise ValidationError(
                f"remix needs an openai or gateway profile; profile {client.settings.profile!r} "
                f"uses {client.settings.protocol}"
            )
        source = task_or_id if isinstance(task_or_id, Task) else Task(taskid=str(task_or_id))
        model = model or source.model or client._default_model("video")
        task = await client.submit(
            "video", prompt, model=model, params=params,
            platform=platform or source.platform, remix_of=source.taskid,
        )  # fmt: skip
        return await client.wait(task, timeout=timeout, on_update=on_update) if wait else task

    async def submit(
        self,
        kind: Literal["image", "video"],
        prompt: str,
        *,
        model: str,
        catelog: str | None = None,
        params: Mapping[str, Any] | None = None,
        platform: str | None = None,
        remix_of: str | None = None,
    ) -> Task:
        """Validate, then send one task. Nothing is sent if validation finds a problem."""
        from ._catalog import catalog_for, infer_catelog, prepare

        catalog = catalog_for(self.settings.protocol)
        params = dict(params or {})
        catelog = (
            catelog
            or params.pop("catelog", None)
            or infer_catelog(kind, model, params, catalog=catalog)
        )
        params.pop("catelog", None)
        llmid = params.pop("llmid", None) if self.settings.protocol == "yuanjing-legacy" else None
        prepared = prepare(model, catelog, prompt, params, catalog=catalog)
        for warning in prepared.warnings:
            warnings.warn(warning, YJWarning, stacklevel=3)
        if self._openai_style:
            from ._openai_media import submit_openai

            plat = platform or self.settings.platform
            task = await submit_openai(self, kind, prepared, platform=plat, remix_of=remix_of)
            self._emit_once(record_for(task, "pending"))
            return task
        path, fields = yuanjing_request(self.settings.protocol, kind, prepared, llmid)
        if prepared.files:
            files = multipart_files(prepared)
            data = {k: str(v) for k, v in fields.items()}
            response = await self._send("POST", path, data=data, files=files)
            recorded = {**prepared.fields, **file_labels(prepared.files)}
        else:
            response = await self._send("POST", path, json=fields)
            recorded = dict(prepared.fields)
        body = response.json()
        if not isinstance(body, dict) or not body.get("taskid"):
            raise YJError(
                f"the platform accepted the {kind} task but sent no taskid: {body!r:.200}"
            )
        task = Task(
            taskid=str(body["taskid"]),
            kind=kind,
            model=model,
            catelog=catelog,
            prompt=prepared.prompt,
            params=recorded,
            profile=self.settings.profile,
        )
        update_task(task, body)
        self._emit_once(record_for(task, "pending"))
        return task

    async def task(self, task_or_id: Task | str, *, detail: bool = False) -> Task:
        """Fetch a task's status once. A `Task` given is updated in place.

        `detail=True` asks the gateway for the task's metadata (kept in `Task.detail`).
        """
        task = task_or_id if isinstance(task_or_id, Task) else Task(taskid=str(task_or_id))
        if self._openai_style:
            from ._openai_media import fetch_openai

            return await fetch_openai(self, task, detail=detail)
        legacy = self.settings.protocol == "yuanjing-legacy"
        path = "/llmage/tasks" if legacy else "/llmage/v1/tasks"
        response = await self._send("GET", path, params={"taskid": task.taskid})
        body = response.json()
        return update_task(task, body if isinstance(body, dict) else {})

    async def wait(
        self,
        task_or_id: Task | str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        on_update: TaskUpdate | None = None,
        raise_on_failure: bool = True,
    ) -> Task:
        """Poll until the task ends, backing off from about 1 s to 10 s.

        Raises `TaskTimeout` at the deadline (the task keeps running and can be waited for
        again) and `TaskFailed` if it fails, unless `raise_on_failure=False`.
        """
        task = task_or_id if isinstance(task_or_id, Task) else Task(taskid=str(task_or_id))
        deadline = time.monotonic() + timeout
        delays = self._poll.delays()
        while True:
            pause = next(delays)
            try:
                await self.task(task)
            except RateLimitError as exc:
                pause = max(pause, exc.retry_after or 0.0)
            except (APIConnectionError, ServerError):
                pass  # a blip after the GET retries: keep polling until the deadline
            else:
                if on_update is not None:
                    on_update(task)
                if task.done:
                    break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._emit_once(record_for(task, "timeout"))
                raise TaskTimeout(task, timeout)
            await asyncio.sleep(min(pause, remaining))
        if task.status == "FAILED":
            self._emit_once(record_for(task, "failed"))
            if raise_on_failure:
                raise TaskFailed(task)
        else:
            self._emit_once(record_for(task, "ok"))
        return task

    async def download(
        self,
        task: Task,
        dir: str | os.PathLike[str] | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
    ) -> dict[str, Path]:
        """Save the task's media (video, cover or image) and return {what: path}.

        File names are made by yjnb from the task id; the server's path is never used.
        """
        folder = Path(dir) if dir is not None else self.settings.home / "media"
        folder.mkdir(parents=True, exist_ok=True)
        wanted = [
            ("video", task.video_url),
            ("cover" if task.video_url else "image", task.image_url),
            *((f"image-{n}", url) for n, url in enumerate(task.image_urls[1:], start=2)),
        ]
        saved: dict[str, Path] = {}
        for what, url in wanted:
            if url:
                saved[what] = await self._fetch(task, what, url, folder, max_bytes)
                task.local_paths[what] = str(saved[what])
        # Images that came inline (base64) were saved on arrival: copy them here.
        for what, path in copy_local(task, folder, skip=saved).items():
            saved[what] = path
            task.local_paths[what] = str(path)
        return saved

    async def _fetch(self, task: Task, what: str, url: str, folder: Path, max_bytes: int) -> Path:
        absolute = urljoin(self.base_url + "/", url)
        parts, base = urlsplit(absolute), urlsplit(self.base_url)
        if parts.scheme not in ("http", "https"):
            raise ValidationError(f"refusing to download {what} from a {parts.scheme!r} URL")
        # The key goes only to the platform itself, never to a third-party media host.
        headers = self._auth() if parts.netloc == base.netloc else {}
        http = self._client()
        request = http.build_request("GET", absolute, headers=headers)
        response = await send(
            http,
            request,
            idempotent=True,
            policy=self._retry,
            secret=self._key.reveal(),
            stream=True,
        )
        return await save_response(response, task, what, folder, max_bytes)
