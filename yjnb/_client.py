"""`AsyncClient`: the platform's API as coroutines (chat and models here; media in `_media`).

The profile's protocol (or `protocol=`) decides the wire format: `yuanjing` and
`yuanjing-legacy` (the Yuanjing API), `openai` (an OpenAI-compatible service) or `gateway` (the
multi-platform gateway, with a `platform`). Calls and results are the same for all of them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal, overload

from ._base import (
    DEFAULT_CHAT_MODEL,
    DEFAULT_IMAGE_MODEL,
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_VIDEO_MODEL,
    DEFAULT_WAIT_TIMEOUT_S,
    TaskUpdate,
    YJWarning,
)
from ._chat import (
    AsyncChatStream,
    StreamAccumulator,
    chat_payload,
    chat_record,
    parse_completion,
)
from ._errors import APIConnectionError, ValidationError, YJError, redact
from ._media import MediaCalls
from ._openai import ResponsesAccumulator, as_list, chat_body, parse_responses, responses_body
from ._tasks import file_labels
from ._types import ChatResult, ModelInfo, utcnow

__all__ = [
    "DEFAULT_CHAT_MODEL",
    "DEFAULT_IMAGE_MODEL",
    "DEFAULT_MAX_DOWNLOAD_BYTES",
    "DEFAULT_VIDEO_MODEL",
    "DEFAULT_WAIT_TIMEOUT_S",
    "AsyncClient",
    "TaskUpdate",
    "YJWarning",
]


class AsyncClient(MediaCalls):
    """The platform's API as coroutines. Settings come from arguments, env, .env and profiles.

    Arguments: `api_key`, `base_url`, `profile`, and keywords `protocol`, `platform` (gateway),
    `demo`, `home`, `timeout`, `max_retries`, `headers`, `poll`. `profile=` on a call uses
    another profile's client, made once and kept.
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
        if profile is not None and profile != self.settings.profile:
            other = self._for(profile)
            return await other.chat(  # type: ignore[call-overload]
                prompt, model=model, system=system, stream=stream, images=images, files=files,
                api=api, platform=platform, **params,
            )  # fmt: skip
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValidationError("prompt is empty; give the question as a non-empty string")
        model = model or self._default_model("chat")
        payload, path, make_acc = self._chat_request(
            prompt, model, system, stream, images, files, api, platform, params
        )
        recorded = {k: v for k, v in params.items() if k != "messages"}
        if images:
            recorded["images"] = file_labels([("images", i) for i in as_list(images)])["images"]
        if files:
            recorded["files"] = file_labels([("files", f) for f in as_list(files)])["files"]
        if api != "chat":
            recorded["api"] = api
        started_at, started = utcnow(), time.perf_counter()

        def on_done(result: ChatResult, status: str, error: str | None) -> None:
            if error is not None:
                error = redact(error, self._key.reveal())
            record = chat_record(
                result,
                status=status,
                error=error,
                started_at=started_at,
                params=recorded,
                profile=self.settings.profile,
            )
            self._emit_once(record)

        def accumulator() -> StreamAccumulator:
            acc = make_acc(model=model, prompt=prompt, system=system)
            acc.started = started
            return acc

        def failed(error: BaseException, status: str = "failed") -> None:
            on_done(
                accumulator().result(interrupted=True), status, str(error) or type(error).__name__
            )

        try:
            response = await self._send("POST", path, json=payload, stream=stream)
        except YJError as exc:
            failed(exc)
            raise
        except asyncio.CancelledError as exc:
            failed(exc, "interrupted")
            raise
        if stream:
            reader = AsyncChatStream(
                response, accumulator(), on_done=on_done, read_timeout=self._read_timeout
            )
            return reader
        try:
            body = response.json()
        except ValueError:
            garbled = APIConnectionError(f"chat answer from {model} is not JSON")
            failed(garbled)
            raise garbled from None
        if api == "responses":
            acc = accumulator()
            parse_responses(acc, body)
            acc.first_token_at = time.perf_counter()
            result = acc.result()
        else:
            result = parse_completion(
                body, model=model, prompt=prompt, system=system, started=started
            )
        on_done(result, "ok", None)
        return result

    def _chat_request(
        self,
        prompt: str,
        model: str,
        system: str | None,
        stream: bool,
        images: Any,
        files: Any,
        api: str,
        platform: str | None,
        params: dict[str, Any],
    ) -> tuple[dict[str, Any], str, type[StreamAccumulator]]:
        """(payload, path, accumulator class); every check happens here, before sending."""
        protocol, profile = self.settings.protocol, self.settings.profile
        if api not in ("chat", "responses"):
            raise ValidationError(f"api={api!r} is not known; use 'chat' or 'responses'")
        if api == "responses" and protocol != "openai":
            raise ValidationError(
                f"api='responses' needs an openai profile; profile {profile!r} uses {protocol}"
            )
        if not self._openai_style:
            if images or files:
                raise ValidationError(
                    f"images and files need an openai or gateway profile; profile {profile!r} "
                    f"uses {protocol}, whose chat takes text only"
                )
            payload = chat_payload(prompt, model=model, system=system, stream=stream, params=params)
            return payload, "/llmage/v1/chat/completions", StreamAccumulator
        if files and protocol != "gateway":
            raise ValidationError(
                f"files= (file parts) need a gateway profile; profile {profile!r} uses {protocol}"
            )
        from ._chat_params import coerce_chat_params

        checked = {**params, **coerce_chat_params(params)}
        root = self._root(platform)
        if api == "responses":
            payload = responses_body(
                prompt, model=model, system=system, stream=stream, images=images, params=checked
            )
            return payload, f"{root}/responses", ResponsesAccumulator
        payload = chat_body(
            prompt, model=model, system=system, stream=stream, images=images, files=files,
            params=checked,
        )  # fmt: skip
        return payload, f"{root}/chat/completions", StreamAccumulator

    # -- models -----------------------------------------------------------------------------

    async def models(
        self, catelog: str | None = None, *, profile: str | None = None, platform: str | None = None
    ) -> list[ModelInfo]:
        """The live model list, optionally one catelog (t2t, t2i, t2v, i2v, ref2v)."""
        if profile is not None and profile != self.settings.profile:
            return await self._for(profile).models(catelog, platform=platform)
        if self._openai_style:
            response = await self._send("GET", self._root(platform) + "/models")
        else:
            params = {"catelogid": catelog} if catelog else None
            response = await self._send("GET", "/llmage/v1/models", params=params)
        body = response.json()
        items = body.get("data", body.get("models", [])) if isinstance(body, dict) else body
        infos = [ModelInfo.from_wire(item) for item in items or []]
        return [m for m in infos if m is not None and (not catelog or m.catelog in (None, catelog))]
