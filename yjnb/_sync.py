"""`Client`: the sync facade. Every call runs on the private runner loop (see `_runner`).

It works the same in scripts, in plain IPython and inside a running Jupyter kernel (whose own
loop is busy running the cell), with no `nest_asyncio`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, overload

from ._base import warn
from ._chat import AsyncChatStream
from ._client import DEFAULT_WAIT_TIMEOUT_S, AsyncClient, TaskUpdate
from ._config import Settings
from ._runner import WAIT_SLICE_S, Runner, get_runner
from ._types import ChatChunk, ChatResult, ModelInfo, Task
from .protocols.base import PreparedChat, PreparedTask, Protocol

__all__ = ["ChatStream", "Client"]

logger = logging.getLogger("yjnb")

_END = object()


class _Pump:
    """The task moving one stream's chunks to the queue; it knows nothing of the `ChatStream`,
    so the stream is not kept alive by its own pump and dropping it finalizes it at once."""

    task: asyncio.Task[None] | None = None


async def _pump(stream: AsyncChatStream, chunks: queue.SimpleQueue[Any], pump: _Pump) -> None:
    pump.task = asyncio.current_task()
    try:
        async for chunk in stream:
            chunks.put(chunk)
    except BaseException as exc:  # handed to the consumer, including cancellation
        chunks.put(exc)
        if isinstance(exc, asyncio.CancelledError):
            raise
    else:
        chunks.put(_END)


async def _stop(stream: AsyncChatStream, pump: _Pump, why: str) -> None:
    # Recorded first, so the record says why; then the pump is stopped and the socket closed.
    stream._leave(why)
    task = pump.task
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    await stream.aclose()


class ChatStream:
    """A streamed answer for sync code: `for chunk in stream`, then `stream.result`.

    Chunks are produced on the runner loop and handed over through a queue, so the cost per
    chunk is one queue put/get rather than one cross-thread call. Leaving the stream early
    (`break`, an exception in the loop body, `close()`, Ctrl-C, or dropping it) stops reading
    before the next line runs; `result` then holds the partial answer, marked interrupted.
    A chunk with `restart` set means the stream broke and starts over: forget the text so far.
    """

    def __init__(self, stream: AsyncChatStream, runner: Runner) -> None:
        self._stream = stream
        self._runner = runner
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pump = _Pump()
        self._started = False
        self._finished = False

    @property
    def result(self) -> ChatResult | None:
        return self._stream.result

    @property
    def text(self) -> str:
        return self._stream.text

    @property
    def broken_attempts(self) -> list[ChatResult]:
        """The attempts that broke and were started again (see `AsyncChatStream`)."""
        return self._stream.broken_attempts

    def __iter__(self) -> Iterator[ChatChunk]:
        # A generator, not `self`: a `for` loop left early drops it at once, and its
        # `finally` is where a `break` becomes visible.
        try:
            while True:
                try:
                    chunk = self.__next__()
                except StopIteration:
                    return
                yield chunk
        finally:
            if not self._finished:
                self._leave("the caller left the stream before its end")

    def __next__(self) -> ChatChunk:
        if self._finished:
            raise StopIteration
        if not self._started:
            self._started = True
            self._runner.submit(_pump(self._stream, self._queue, self._pump))
        try:
            while True:
                try:
                    item = self._queue.get(timeout=WAIT_SLICE_S)
                    break
                except queue.Empty:
                    continue
        except KeyboardInterrupt:
            if not self._finished:
                self._leave("interrupted (KeyboardInterrupt)")
            raise
        if item is _END:
            self._finished = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._finished = True
            raise item
        return item

    def until_done(self) -> ChatResult:
        for _ in self:
            pass
        assert self.result is not None
        return self.result

    def close(self) -> None:
        """Stop the stream; what arrived so far stays in `result`."""
        if not self._finished:
            self._leave("closed before the end")

    def _leave(self, why: str) -> None:
        self._finished = True
        if sys.is_finalizing():
            return  # the runner's thread may be gone: nothing can be stopped or recorded
        stop = _stop(self._stream, self._pump, why)
        if self._runner.in_runner_thread():
            self._runner.submit(stop)  # a finalizer on the loop's own thread cannot wait
        else:
            self._runner.run(stop)

    def __del__(self) -> None:
        if not getattr(self, "_finished", True):
            try:
                self._leave("the stream was dropped before its end")
            except Exception:  # a finalizer must not raise; the loop may be gone
                logger.debug("could not stop a dropped stream", exc_info=True)

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Client:
    """The platform's API for sync code. Arguments and calls as for `AsyncClient`."""

    def __init__(self, *args: Any, runner: Runner | None = None, **kwargs: Any) -> None:
        self._async = AsyncClient(*args, **kwargs)
        self._runner = runner or get_runner()

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncClient(", "Client(", 1)

    @property
    def settings(self) -> Settings:
        return self._async.settings

    @property
    def base_url(self) -> str:
        return self._async.base_url

    @property
    def protocol(self) -> Protocol:
        return self._async.protocol

    @property
    def aio(self) -> AsyncClient:
        """The underlying `AsyncClient` (its httpx client lives on the runner loop)."""
        return self._async

    def prepare_chat(self, prompt: str, **kwargs: Any) -> PreparedChat:
        """Check a chat call without sending it (see `AsyncClient.prepare_chat`)."""
        return self._async.prepare_chat(prompt, **kwargs)

    def prepare_task(
        self, kind: Literal["image", "video"], prompt: str, **kwargs: Any
    ) -> PreparedTask:
        """Check a media task without sending it (see `AsyncClient.prepare_task`)."""
        return self._async.prepare_task(kind, prompt, **kwargs)

    @overload
    def chat(
        self,
        prompt: str,
        *,
        model: str | None = ...,
        system: str | None = ...,
        stream: Literal[False] = ...,
        **params: Any,
    ) -> ChatResult: ...
    @overload
    def chat(
        self,
        prompt: str,
        *,
        model: str | None = ...,
        system: str | None = ...,
        stream: Literal[True],
        **params: Any,
    ) -> ChatStream: ...
    def chat(
        self,
        prompt: str,
        *,
        model: str | None = None,
        system: str | None = None,
        stream: bool = False,
        **params: Any,
    ) -> ChatResult | ChatStream:
        # Checked here, in the caller's thread, so that a warning names the caller's line.
        client = self._async._for(params.pop("profile", None))
        chat = client.prepare_chat(prompt, model=model, system=system, stream=stream, **params)
        warn(chat.warnings, stacklevel=2)
        answer = self._runner.run(client.send_chat(chat))
        if isinstance(answer, AsyncChatStream):
            return ChatStream(answer, self._runner)
        return answer

    def models(
        self, catelog: str | None = None, *, profile: str | None = None, platform: str | None = None
    ) -> list[ModelInfo]:
        return self._runner.run(self._async.models(catelog, profile=profile, platform=platform))

    def image(
        self,
        prompt: str,
        *,
        model: str | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        on_update: TaskUpdate | None = None,
        **params: Any,
    ) -> Task:
        return self._media("image", prompt, model, wait, timeout, on_update, params)

    def video(
        self,
        prompt: str,
        *,
        model: str | None = None,
        catelog: str | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        on_update: TaskUpdate | None = None,
        **params: Any,
    ) -> Task:
        params["catelog"] = catelog
        return self._media("video", prompt, model, wait, timeout, on_update, params)

    def remix(
        self,
        task_or_id: Task | str,
        prompt: str,
        *,
        model: str | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        on_update: TaskUpdate | None = None,
        **params: Any,
    ) -> Task:
        params["remix"] = task_or_id
        return self._media("video", prompt, model, wait, timeout, on_update, params)

    def _media(
        self,
        kind: Literal["image", "video"],
        prompt: str,
        model: str | None,
        wait: bool,
        timeout: float,
        on_update: TaskUpdate | None,
        params: dict[str, Any],
    ) -> Task:
        """Check in the caller's thread (a warning names the caller's line), then send."""
        options = {
            k: params.pop(k) for k in ("catelog", "profile", "platform", "remix") if k in params
        }
        client, prepared = self._async.media_request(
            kind, prompt, model=model, params=params, **options
        )
        warn(prepared.warnings, stacklevel=3)
        coro = client.run_task(prepared, wait=wait, timeout=timeout, on_update=on_update)
        return self._runner.run(coro)

    def task(self, task_or_id: Task | str, *, detail: bool = False) -> Task:
        return self._runner.run(self._async.task(task_or_id, detail=detail))

    def wait(
        self,
        task_or_id: Task | str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        on_update: TaskUpdate | None = None,
        raise_on_failure: bool = True,
    ) -> Task:
        coro = self._async.wait(
            task_or_id, timeout=timeout, on_update=on_update, raise_on_failure=raise_on_failure
        )
        return self._runner.run(coro)

    def download(
        self,
        task: Task,
        dir: str | os.PathLike[str] | None = None,
        *,
        max_bytes: int | None = None,
    ) -> dict[str, Path]:
        kwargs = {} if max_bytes is None else {"max_bytes": max_bytes}
        return self._runner.run(self._async.download(task, dir, **kwargs))

    def close(self) -> None:
        self._runner.run(self._async.aclose())

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
