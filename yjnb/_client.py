"""`AsyncClient`: the platform's API as coroutines, on one httpx client per event loop."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, overload
from urllib.parse import urljoin, urlsplit

import httpx

from ._chat import (
    AsyncChatStream,
    StreamAccumulator,
    chat_payload,
    chat_record,
    parse_completion,
)
from ._config import Secret, Settings, load_settings
from ._errors import (
    APIConnectionError,
    RateLimitError,
    ServerError,
    TaskFailed,
    TaskTimeout,
    ValidationError,
    YJError,
    redact,
)
from ._hooks import emit
from ._http import HTTPPool, RetryPolicy, send
from ._tasks import (
    PollSchedule,
    file_labels,
    multipart_files,
    record_for,
    save_response,
    submission_fields,
    update_task,
)
from ._types import ChatResult, ModelInfo, Task, UsageRecord, utcnow

__all__ = ["AsyncClient", "YJWarning"]

DEFAULT_CHAT_MODEL = "qwen3-max"
DEFAULT_IMAGE_MODEL = "wan2.2-t2i-flash"
DEFAULT_VIDEO_MODEL = "viduq3-pro"
DEFAULT_WAIT_TIMEOUT_S = 600.0
DEFAULT_MAX_DOWNLOAD_BYTES = 500 * 1024 * 1024
TaskUpdate = Callable[[Task], None]


class YJWarning(UserWarning):
    """Something worth knowing that does not stop the call (an unknown model, say)."""


class AsyncClient:
    """The Yuanjing API as coroutines. Settings come from arguments, env, .env and profiles."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        profile: str | None = None,
        *,
        demo: bool | None = None,
        home: str | os.PathLike[str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 3,
        headers: Mapping[str, str] | None = None,
        poll: PollSchedule | None = None,
    ) -> None:
        settings = load_settings(
            api_key=api_key,
            base_url=base_url,
            profile=profile,
            demo=demo,
            home=None if home is None else Path(home),
        )
        if settings.demo:
            from ._demo import demo_endpoint

            url, key = demo_endpoint()
            settings = dataclasses.replace(
                settings,
                base_url=url,
                api_key=Secret(api_key or key),
                key_source="argument" if api_key else "demo emulator",
            )
        self._key = settings.require_key()
        self.settings: Settings = settings
        self._timeout = httpx.Timeout(timeout) if isinstance(timeout, (int, float)) else timeout
        self._retry = RetryPolicy(max_retries=max_retries)
        self._headers = dict(headers or {})
        self._poll = poll or PollSchedule()
        self._http: HTTPPool | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._reported: set[tuple[str, str]] = set()

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"{type(self).__name__}(profile={s.profile!r}, base_url={s.base_url!r}, "
            f"key={self._key.mask()!r}{', demo=True' if s.demo else ''})"
        )

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def _read_timeout(self) -> float | None:
        return (self._timeout or httpx.Timeout(120.0)).read

    def _client(self) -> httpx.AsyncClient:
        # An httpx client is bound to the loop it first ran on; scripts that call
        # asyncio.run() twice get a fresh one instead of a "loop is closed" error.
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop:
            self._http = HTTPPool(timeout=self._timeout, headers=self._headers)
            self._http_loop = loop
        return self._http.next()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key.reveal()}"}

    async def _send(
        self, method: str, path: str, *, stream: bool = False, **kw: Any
    ) -> httpx.Response:
        http = self._client()
        request = http.build_request(method, self.base_url + path, headers=self._auth(), **kw)
        return await send(
            http,
            request,
            idempotent=method == "GET",
            policy=self._retry,
            secret=self._key.reveal(),
            stream=stream,
        )

    def _emit_once(self, record: UsageRecord) -> None:
        """Emit, but each state of a task only once (a wait repeated on a finished task)."""
        if record.taskid:
            key = (record.taskid, record.status)
            if key in self._reported:
                return
            self._reported.add(key)
        emit(record)

    async def aclose(self) -> None:
        if self._http is not None and self._http_loop is asyncio.get_running_loop():
            await self._http.aclose()
        self._http = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- chat -------------------------------------------------------------------------------

    @overload
    async def chat(
        self,
        prompt: str,
        *,
        model: str = ...,
        system: str | None = ...,
        stream: Literal[False] = ...,
        **params: Any,
    ) -> ChatResult: ...
    @overload
    async def chat(
        self,
        prompt: str,
        *,
        model: str = ...,
        system: str | None = ...,
        stream: Literal[True],
        **params: Any,
    ) -> AsyncChatStream: ...
    async def chat(
        self,
        prompt: str,
        *,
        model: str = DEFAULT_CHAT_MODEL,
        system: str | None = None,
        stream: bool = False,
        **params: Any,
    ) -> ChatResult | AsyncChatStream:
        """Ask `model`. With `stream=True`, returns an `AsyncChatStream` to iterate."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValidationError("prompt is empty; give the question as a non-empty string")
        if not model:
            raise ValidationError("model is empty; name a chat model, e.g. qwen3-max")
        payload = chat_payload(prompt, model=model, system=system, stream=stream, params=params)
        started_at, started = utcnow(), time.perf_counter()

        def on_done(result: ChatResult, status: str, error: str | None) -> None:
            if error is not None:
                error = redact(error, self._key.reveal())
            record = chat_record(
                result,
                status=status,
                error=error,
                started_at=started_at,
                params=params,
                profile=self.settings.profile,
            )
            self._emit_once(record)

        def failed(error: BaseException, status: str = "failed") -> None:
            acc = StreamAccumulator(model=model, prompt=prompt, system=system)
            acc.started = started
            on_done(acc.result(interrupted=True), status, str(error) or type(error).__name__)

        path = "/llmage/v1/chat/completions"
        try:
            response = await self._send("POST", path, json=payload, stream=stream)
        except YJError as exc:
            failed(exc)
            raise
        except asyncio.CancelledError as exc:
            failed(exc, "interrupted")
            raise
        if stream:
            acc = StreamAccumulator(model=model, prompt=prompt, system=system)
            acc.started = started
            return AsyncChatStream(response, acc, on_done=on_done, read_timeout=self._read_timeout)
        try:
            body = response.json()
        except ValueError:
            garbled = APIConnectionError(f"chat answer from {model} is not JSON")
            failed(garbled)
            raise garbled from None
        result = parse_completion(body, model=model, prompt=prompt, system=system, started=started)
        on_done(result, "ok", None)
        return result

    # -- models -----------------------------------------------------------------------------

    async def models(self, catelog: str | None = None) -> list[ModelInfo]:
        """The live model list, optionally one catelog (t2t, t2i, t2v, i2v, ref2v)."""
        params = {"catelogid": catelog} if catelog else None
        response = await self._send("GET", "/llmage/v1/models", params=params)
        body = response.json()
        items = body.get("data", body.get("models", [])) if isinstance(body, dict) else body
        infos = [ModelInfo.from_wire(item) for item in items or []]
        return [m for m in infos if m is not None and (not catelog or m.catelog in (None, catelog))]

    # -- media tasks ------------------------------------------------------------------------

    async def image(
        self,
        prompt: str,
        *,
        model: str = DEFAULT_IMAGE_MODEL,
        wait: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        on_update: TaskUpdate | None = None,
        **params: Any,
    ) -> Task:
        """Submit a text-to-image task; by default wait for it and return the finished `Task`."""
        task = await self.submit("image", prompt, model=model, params=params)
        return await self.wait(task, timeout=timeout, on_update=on_update) if wait else task

    async def video(
        self,
        prompt: str,
        *,
        model: str = DEFAULT_VIDEO_MODEL,
        catelog: str | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        on_update: TaskUpdate | None = None,
        **params: Any,
    ) -> Task:
        """Submit a video task (t2v, i2v or ref2v, inferred from the files given) and wait."""
        task = await self.submit("video", prompt, model=model, catelog=catelog, params=params)
        return await self.wait(task, timeout=timeout, on_update=on_update) if wait else task

    async def submit(
        self,
        kind: Literal["image", "video"],
        prompt: str,
        *,
        model: str,
        catelog: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Task:
        """Validate, then send one task. Nothing is sent if validation finds a problem."""
        from ._catalog import infer_catelog, llmid_for, prepare

        params = dict(params or {})
        catelog = catelog or params.pop("catelog", None) or infer_catelog(kind, model, params)
        params.pop("catelog", None)
        prepared = prepare(model, catelog, prompt, params)
        for warning in prepared.warnings:
            warnings.warn(warning, YJWarning, stacklevel=3)
        llmid = None
        path = f"/llmage/v1/{kind}/generations"
        if self.settings.protocol == "legacy":
            if kind == "image":
                raise ValidationError("the legacy protocol has no image endpoint; use 'yuanjing'")
            llmid = params.get("llmid") or llmid_for(model, catelog)
            if not llmid:
                raise ValidationError(
                    f"no llmid known for {model} ({catelog}) in the legacy protocol; "
                    "pass llmid=... or use the 'yuanjing' profile"
                )
            prepared.fields.pop("llmid", None)
            path = "/llmage/video"
        fields = submission_fields(prepared, llmid)
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

    async def task(self, task_or_id: Task | str) -> Task:
        """Fetch a task's status once. A `Task` given is updated in place."""
        task = task_or_id if isinstance(task_or_id, Task) else Task(taskid=str(task_or_id))
        path = "/llmage/tasks" if self.settings.protocol == "legacy" else "/llmage/v1/tasks"
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
        ]
        saved: dict[str, Path] = {}
        for what, url in wanted:
            if url:
                saved[what] = await self._fetch(task, what, url, folder, max_bytes)
                task.local_paths[what] = str(saved[what])
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
