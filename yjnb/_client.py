"""`AsyncClient`: the platform's API as coroutines (chat and models here; media in `_media`).

The profile's protocol (or `protocol=`) decides the wire format (`yjnb.protocols`): calls and
results are the same for all of them. Each call is checked first (`prepare_chat`, also public,
so a caller can check several calls before sending any), then sent (`send_chat`).
"""

from __future__ import annotations

import asyncio
import functools
import time
from datetime import datetime
from typing import Any, Literal, overload

from ._base import (
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_WAIT_TIMEOUT_S,
    TaskUpdate,
    YJWarning,
    warn,
)
from ._chat import AsyncChatStream, chat_record
from ._errors import YJError, redact
from ._experiment import Experiment, run_experiment
from ._media import MediaCalls
from ._prepare import is_remote, prepare_chat
from ._prices import price_table
from ._tasks import read_input
from ._types import ChatResult, ModelInfo, utcnow
from .protocols.base import Attachment, PreparedChat, StreamAccumulator, WireRequest

__all__ = [
    "DEFAULT_MAX_DOWNLOAD_BYTES",
    "DEFAULT_WAIT_TIMEOUT_S",
    "AsyncClient",
    "TaskUpdate",
    "YJWarning",
]


def load_attachment(value: Any, what: str) -> Attachment:
    """A chat image or file: a URL as given, anything else read into bytes now."""
    if is_remote(value):
        return Attachment(url=value)
    _, data, mime = read_input(value, what)
    return Attachment(data=data, mime=mime)


class AsyncClient(MediaCalls):
    """The platform's API as coroutines. Settings come from arguments, env, .env and profiles.

    Arguments: `api_key`, `base_url`, `profile`, and keywords `protocol`, `platform` (gateway),
    `demo`, `home`, `timeout`, `max_retries`, `headers`, `poll`, `limits` (`yjnb.Limits`: the
    size and time bounds of every call), `stream_retries` (how often a broken chat stream is
    started again, default 1; 0 never), `transport` (None: aiohttp's pool directly; "httpx",
    or an `httpx.AsyncBaseTransport`), `shared_limiter` (True: chats and media submissions take
    a slot of the profile's adaptive limiter, shared with the kernel's experiments and magics;
    the magics' clients do). `profile=` on a call uses another profile's client, made once and
    kept.
    """

    async def __aenter__(self) -> AsyncClient:
        return self

    # -- chat -------------------------------------------------------------------------------

    @overload
    async def chat(
        self,
        prompt: str,
        *,
        model: str | None = ...,
        system: str | None = ...,
        stream: Literal[False] = ...,
        **params: Any,
    ) -> ChatResult: ...
    @overload
    async def chat(
        self,
        prompt: str,
        *,
        model: str | None = ...,
        system: str | None = ...,
        stream: Literal[True],
        **params: Any,
    ) -> AsyncChatStream: ...
    async def chat(
        self,
        prompt: str,
        *,
        model: str | None = None,
        system: str | None = None,
        stream: bool = False,
        images: Any = None,
        files: Any = None,
        api: str = "chat",
        profile: str | None = None,
        platform: str | None = None,
        **params: Any,
    ) -> ChatResult | AsyncChatStream:
        """Ask `model`. With `stream=True`, returns an `AsyncChatStream` to iterate.

        `images=` and `files=` (paths, URLs or bytes) attach parts on the OpenAI-style
        protocols; `api="responses"` uses the OpenAI service's `/responses`.
        """
        client = self._for(profile)  # this client, or the one of another profile
        chat = client.prepare_chat(
            prompt, model=model, system=system, stream=stream, images=images, files=files,
            api=api, platform=platform, **params,
        )  # fmt: skip
        warn(chat.warnings, stacklevel=2)
        return await client.send_chat(chat)

    def prepare_chat(
        self,
        prompt: str,
        *,
        model: str | None = None,
        system: str | None = None,
        stream: bool = False,
        images: Any = None,
        files: Any = None,
        api: str = "chat",
        platform: str | None = None,
        **params: Any,
    ) -> PreparedChat:
        """Check a chat call without sending it: a `PreparedChat` for `send_chat`, or one
        `ValidationError` listing every problem."""
        return prepare_chat(
            self.protocol, prompt, model=model or self._default_model("chat", platform),
            profile=self.settings.profile, system=system, stream=stream, images=images,
            files=files, api=api, platform=platform, params=params,
        )  # fmt: skip

    async def send_chat(self, chat: PreparedChat) -> ChatResult | AsyncChatStream:
        """Send a prepared chat; a `ChatResult`, or an `AsyncChatStream` if it streams."""
        images = [load_attachment(i, "images") for i in chat.images] if chat.images else []
        files = [load_attachment(f, "files") for f in chat.files] if chat.files else []
        wire = self.protocol.chat_request(chat, images, files)
        started_at, started = utcnow(), time.perf_counter()
        acc = self._chat_decoder(chat, started)
        try:
            if chat.stream:
                return await self._chat_stream(chat, wire, acc, started_at, started)
            answer = await self._exchange(wire, "the chat answer")
            self._parse(answer, "the chat answer", acc.absorb)
        except (YJError, asyncio.CancelledError) as exc:
            status = "interrupted" if isinstance(exc, asyncio.CancelledError) else "failed"
            broken = self._chat_decoder(chat, started).result(interrupted=True)
            self._chat_done(chat, started_at, broken, status, str(exc) or type(exc).__name__)
            raise
        result = acc.result()
        self._chat_done(chat, started_at, result, "ok", None)
        return result

    async def _chat_stream(
        self, chat: PreparedChat, wire: WireRequest, acc: StreamAccumulator, started_at: datetime,
        started: float,
    ) -> AsyncChatStream:  # fmt: skip
        """The stream of a chat, once its answer has begun. (Its own method: the closures a
        stream needs are not made for every call that does not stream.)"""
        loop_started = asyncio.get_running_loop().time()

        async def reopen() -> tuple[Any, Any]:
            return await self._open_stream(wire), self._chat_decoder(chat, started)

        response = await self._open_stream(wire)
        return AsyncChatStream(
            response, acc, on_done=functools.partial(self._chat_done, chat, started_at),
            read_timeout=self._read_timeout, limits=self.limits, started=loop_started,
            secret=self._key.reveal(), reopen=reopen, policy=self._retry,
        )  # fmt: skip

    def _chat_decoder(self, chat: PreparedChat, started: float) -> StreamAccumulator:
        """A fresh decoder of the chat's answer, its clock started at `started`."""
        acc = self.protocol.chat_decoder(chat)
        acc.started = started
        return acc

    def _chat_done(
        self, chat: PreparedChat, started_at: datetime, result: ChatResult, status: str,
        error: str | None,
    ) -> None:  # fmt: skip
        """Record a chat call that ended (`status` "ok", "failed" or "interrupted")."""
        if error is not None:
            error = redact(error, self._key.reveal())
        # The platform reports no chat credits; a refused call (`failed`) cost nothing.
        if result.credits_estimate is None and status != "failed":
            usage = result.usage or result.usage_estimate
            result.credits_estimate = price_table(self.settings.home).estimate(result.model, usage)
        record = chat_record(
            result, status=status, error=error, started_at=started_at, params=chat.recorded,
            profile=self.settings.profile,
        )  # fmt: skip
        if record.partial_text:  # a hostile server may have echoed the key into it
            record.partial_text = redact(record.partial_text, self._key.reveal())
        self._emit_once(record)

    # -- experiments ------------------------------------------------------------------------

    async def experiment(
        self, data: Any, prompt: Any, models: Any = None, **options: Any
    ) -> Experiment:
        """`yjnb.experiment(...)` on this client and the caller's loop (same options but
        `client=`). A cancellation propagates; what finished is cached for the re-run."""
        return await run_experiment(
            self._for(options.pop("profile", None)), data, prompt, models, **options
        )

    # -- models -----------------------------------------------------------------------------

    async def models(
        self, catelog: str | None = None, *, profile: str | None = None, platform: str | None = None
    ) -> list[ModelInfo]:
        """The live model list, optionally one catelog (t2t, t2i, t2v, i2v, ref2v)."""
        if profile is not None and profile != self.settings.profile:
            return await self._for(profile).models(catelog, platform=platform)
        wire = self.protocol.models_request(catelog, platform)
        answer = await self._exchange(wire, "the model list")
        return self._parse(
            answer, "the model list", lambda body: self.protocol.parse_models(body, catelog)
        )
