"""Media calls of `AsyncClient`: image, video, remix, submit, task, wait and download.

A task is checked first (`prepare_task`, also public), then sent (`send_task`); the protocol
builds the requests and reads the answers. Every task is reported (usage hook) the moment its
id exists, and again when it ends. Media that come inside an answer (base64 images) are
written to `YJ_HOME/media` the moment they arrive: nothing paid for lives only in memory.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin

import httpx

from ._base import (
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_WAIT_TIMEOUT_S,
    BaseClient,
    TaskUpdate,
    warn,
)
from ._errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    RateLimitError,
    ServerError,
    TaskFailed,
    TaskLost,
    TaskTimeout,
    ValidationError,
    YJError,
)
from ._http import RetryKind, send
from ._prepare import prepare_task
from ._prices import price_table
from ._secrets import REDIRECT_STATUSES, redact_task, same_origin, scrub_errors
from ._tasks import copy_local, keep_inline, record_for, save_response
from ._types import Task, Usage
from .protocols.base import Inline, PreparedTask

__all__ = ["MAX_MEDIA_REDIRECTS", "MediaCalls"]

# Enough for a platform -> CDN -> signed-URL chain; a loop ends here.
MAX_MEDIA_REDIRECTS = 5

# Failures of one status poll that say nothing about the task: `wait` polls on through them.
_POLL_BLIPS = (APIConnectionError, ServerError, RateLimitError)


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
        client, prepared = self.media_request(
            "image", prompt, model=model, params=params, profile=profile, platform=platform
        )
        warn(prepared.warnings, stacklevel=2)
        return await client.run_task(prepared, wait=wait, timeout=timeout, on_update=on_update)

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
        client, prepared = self.media_request(
            "video", prompt, model=model, catelog=catelog, params=params, profile=profile,
            platform=platform,
        )  # fmt: skip
        warn(prepared.warnings, stacklevel=2)
        return await client.run_task(prepared, wait=wait, timeout=timeout, on_update=on_update)

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
        client, prepared = self.media_request(
            "video", prompt, model=model, params=params, profile=profile, platform=platform,
            remix=task_or_id,
        )  # fmt: skip
        warn(prepared.warnings, stacklevel=2)
        return await client.run_task(prepared, wait=wait, timeout=timeout, on_update=on_update)

    def media_request(
        self,
        kind: Literal["image", "video"],
        prompt: str,
        *,
        model: str | None = None,
        catelog: str | None = None,
        params: Mapping[str, Any] | None = None,
        profile: str | None = None,
        platform: str | None = None,
        remix: Task | str | None = None,
    ) -> tuple[MediaCalls, PreparedTask]:
        """(the client for `profile`, the checked task): what `image`, `video` and `remix` (and
        the sync `Client`, which warns in the caller's thread) send. A remix keeps its
        source's model and gateway platform unless told otherwise."""
        client = self._for(profile)
        remix_of = None
        if remix is not None:
            source = remix if isinstance(remix, Task) else Task(taskid=str(remix))
            model, platform = model or source.model, platform or source.platform
            remix_of = source.taskid
        prepared = client.prepare_task(
            kind, prompt, model=model, catelog=catelog, params=params, platform=platform,
            remix_of=remix_of,
        )  # fmt: skip
        return client, prepared

    async def run_task(
        self,
        prepared: PreparedTask,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        on_update: TaskUpdate | None = None,
    ) -> Task:
        """Send a checked task and, unless `wait=False`, wait for it."""
        task = await self.send_task(prepared)
        return await self.wait(task, timeout=timeout, on_update=on_update) if wait else task

    async def submit(
        self,
        kind: Literal["image", "video"],
        prompt: str,
        *,
        model: str | None = None,
        catelog: str | None = None,
        params: Mapping[str, Any] | None = None,
        platform: str | None = None,
        remix_of: str | None = None,
    ) -> Task:
        """Check, then send one task. Nothing is sent if the check finds a problem."""
        prepared = self.prepare_task(
            kind, prompt, model=model, catelog=catelog, params=params, platform=platform,
            remix_of=remix_of,
        )  # fmt: skip
        warn(prepared.warnings, stacklevel=2)
        return await self.send_task(prepared)

    def prepare_task(
        self,
        kind: Literal["image", "video"],
        prompt: str,
        *,
        model: str | None = None,
        catelog: str | None = None,
        params: Mapping[str, Any] | None = None,
        platform: str | None = None,
        remix_of: str | None = None,
        check_files: bool = True,
    ) -> PreparedTask:
        """Check a task without sending it: a `PreparedTask` for `send_task`, or one
        `ValidationError` listing every problem."""
        return prepare_task(
            self.protocol, kind, prompt, model=model or self._default_model(kind, platform),
            profile=self.settings.profile, catelog=catelog, params=params, platform=platform,
            remix_of=remix_of, check_files=check_files,
        )  # fmt: skip

    async def send_task(self, prepared: PreparedTask) -> Task:
        """Send a prepared task; its `Task` is reported (and so in the ledger) at once."""
        what = f"the {prepared.kind} submission"
        secret = self._key.reveal()
        answer = await self._exchange(self.protocol.task_request(prepared), what)
        task = self.protocol.new_task(prepared, self.settings.profile)
        try:
            inline = self._parse(answer, what, lambda body: self.protocol.parse_submit(task, body))
        except YJError as exc:
            if task.taskid:  # the platform made the task: it must not go unrecorded
                record = record_for(redact_task(task, secret), "interrupted", error=str(exc))
                self._emit_once(record)
            raise
        redact_task(task, secret)
        self._keep(task, inline)
        self._emit_once(record_for(task, "pending"))
        return task

    def _keep(self, task: Task, inline: Inline) -> None:
        keep_inline(task, inline, self.settings.home / "media")

    async def task(self, task_or_id: Task | str, *, detail: bool = False) -> Task:
        """Fetch a task's status once. A `Task` given is updated in place.

        `detail=True` asks the gateway for the task's metadata (kept in `Task.detail`).
        """
        task = task_or_id if isinstance(task_or_id, Task) else Task(taskid=str(task_or_id))
        wire = self.protocol.status_request(task, detail=detail)
        if wire is None:
            return task  # finished while its request waited: nothing to poll
        what = "the task status"
        secret = self._key.reveal()
        try:
            answer = await self._exchange(wire, what)
            inline = self._parse(answer, what, lambda body: self.protocol.parse_status(task, body))
        except _POLL_BLIPS:
            raise  # the task may well be fine: `wait` polls on, and the record stays open
        except AuthenticationError:
            raise  # this key cannot see it; the right one may: the record stays open
        except APIError as exc:
            if not self.protocol.task_unknown(exc):
                self._close(task, secret, exc)
                raise
            lost = TaskLost(redact_task(task, secret), exc)
            self._emit_once(record_for(task, "lost", error=lost.reason))
            raise lost from None
        except YJError as exc:
            self._close(task, secret, exc)
            raise
        redact_task(task, secret)  # a failure reason may echo the key
        self._keep(task, inline)
        return task

    def _close(self, task: Task, secret: str, exc: YJError) -> None:
        """Whatever went wrong, the task can no longer be followed from here: its record is
        closed, so the ledger does not keep it `pending` forever."""
        record = record_for(redact_task(task, secret), "interrupted", error=str(exc))
        self._emit_once(record)

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
            except _POLL_BLIPS:
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
            if task.credits is None:  # tokens but no credits (OpenAI-style images): estimate
                usage = Usage.from_wire(task.usage)
                task.credits_estimate = price_table(self.settings.home).estimate(task.model, usage)
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
        secret = self._key.reveal()
        with scrub_errors(secret):
            response = await self._open_media(what, urljoin(self.base_url + "/", url))
            try:
                return await save_response(response, task, what, folder, max_bytes)
            except httpx.RequestError as exc:
                broken = APIConnectionError(
                    f"the {what} download broke off ({type(exc).__name__}); nothing was saved"
                )
            raise broken  # outside the except: it must not chain the httpx error

    async def _open_media(self, what: str, url: str) -> httpx.Response:
        """GET a media URL (2xx, body not read yet), following at most `MAX_MEDIA_REDIRECTS`.

        The key rides only while every hop has stayed on the base URL's exact origin: a CDN
        behind a redirect gets no key, and neither does a URL on our origin that another
        origin chose. Following without the key (rather than refusing) keeps downloads from
        signed CDN URLs working.
        """
        keyed = True
        for _hop in range(MAX_MEDIA_REDIRECTS + 1):
            target = _media_url(what, url)
            keyed = keyed and same_origin(target, self.base_url)
            http = self._client()
            request = http.build_request("GET", target, headers=self._auth() if keyed else {})
            response = await send(
                http, request, kind=RetryKind.READ, policy=self._retry, secret=self._key.reveal(),
                stream=True,
            )  # fmt: skip
            if response.is_success:
                return response
            await response.aclose()  # a redirect's body is never read, let alone saved
            location = response.headers.get("location")
            if response.status_code not in REDIRECT_STATUSES:
                raise _not_media(response, f"the {what} URL answered with no media")
            if not location:
                raise _not_media(response, f"the {what} URL redirected without saying where to")
            url = urljoin(str(target), location)
        too_many = f"the {what} URL redirected more than {MAX_MEDIA_REDIRECTS} times"
        raise _not_media(response, too_many)


def _media_url(what: str, url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise YJError(f"the {what} URL is not a valid URL: {url[:200]!r}") from None
    if parsed.scheme not in ("http", "https"):
        raise ValidationError(f"refusing to download the {what} from a {parsed.scheme!r} URL")
    return parsed


def _not_media(response: httpx.Response, message: str) -> APIError:
    """A 1xx/3xx answer where media was expected; says where it pointed, if anywhere."""
    location = response.headers.get("location")
    where = f" (redirected to {location[:200]!r})" if location else ""
    return APIError(
        f"{message}{where}; nothing was saved",
        status_code=response.status_code,
        method="GET",
        url=str(response.request.url.copy_with(query=None)),
    )
