"""The plumbing under `AsyncClient`: settings, the protocol, the httpx pool, sending, reporting.

Every request goes out through one path: a protocol builds a `WireRequest`, `_perform` reads
the files it uploads, and `_send` adds the key and sends with the retry policy. Answers are
always read as streams: `_exchange` reads a JSON answer within `Limits` (its size, and a
deadline for the whole call) and `_open_stream` hands a streamed one to the chat stream.
With `shared_limiter=True` (the magics' clients) every paid request (a chat, a media
submission; not a read) is sent through the profile's adaptive limiter, which the kernel's
experiments use as well (`yjnb._limiter`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import warnings
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx

from . import protocols
from ._bounded import Answer, deadline, read_answer
from ._config import Secret, Settings, load_settings
from ._errors import (
    APIConnectionError,
    APIError,
    ConfigError,
    MalformedResponse,
    ValidationError,
    YJError,
    redact,
)
from ._hooks import emit
from ._http import HTTPClient, HTTPPool, RetryKind, RetryPolicy, check_transport, send
from ._limiter import holding, limiter_for, through
from ._limits import Limits
from ._secrets import REDIRECT_STATUSES, scrub_errors
from ._tasks import PollSchedule, multipart_files
from ._types import Task, UsageRecord
from .protocols.base import Protocol, WireRequest

__all__ = [
    "DEFAULT_MAX_DOWNLOAD_BYTES",
    "DEFAULT_WAIT_TIMEOUT_S",
    "BaseClient",
    "TaskUpdate",
    "YJWarning",
    "warn",
]

DEFAULT_WAIT_TIMEOUT_S = 600.0
DEFAULT_MAX_DOWNLOAD_BYTES = 500 * 1024 * 1024
TaskUpdate = Callable[[Task], None]
C = TypeVar("C", bound="BaseClient")
T = TypeVar("T")


def unsendable(exc: Exception) -> ValidationError:
    """What httpx's JSON or multipart encoding refused, in the user's words."""
    if isinstance(exc, UnicodeEncodeError):
        return ValidationError(
            "the request holds text that is not valid UTF-8 (a lone surrogate, as from a "
            "file name in another encoding); fix the text or rename the file"
        )
    if isinstance(exc, ValueError) and "float" in str(exc):
        return ValidationError(
            "a parameter is not a number (NaN) or is infinite; JSON cannot carry it"
        )
    return ValidationError(f"the request cannot be encoded: {type(exc).__name__}: {exc}")


def _retries(value: Any, name: str) -> int:
    """A number of retries: a whole number, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} must be a whole number, 0 or more; got {value!r}")
    return value


class YJWarning(UserWarning):
    """Something worth knowing that does not stop the call (an unknown model, say)."""


def warn(messages: list[str], *, stacklevel: int) -> None:
    """Each of a prepared call's warnings once, attributed `stacklevel` frames above the
    caller of `warn` (the user's line: so the sync `Client` warns from its own thread)."""
    for message in messages:
        warnings.warn(message, YJWarning, stacklevel=stacklevel + 1)


class BaseClient:
    """Settings, the httpx pool, sending and usage reporting, shared by every call."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        profile: str | None = None,
        *,
        protocol: str | None = None,
        platform: str | None = None,
        demo: bool | None = None,
        home: str | os.PathLike[str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 3,
        headers: Mapping[str, str] | None = None,
        poll: PollSchedule | None = None,
        limits: Limits | None = None,
        stream_retries: int = 1,
        transport: httpx.AsyncBaseTransport | str | None = None,
        shared_limiter: bool = False,
    ) -> None:
        settings = load_settings(
            api_key=api_key,
            base_url=base_url,
            profile=profile,
            demo=demo,
            home=None if home is None else Path(home),
            protocol=protocol,
            platform=platform,
        )
        if settings.demo:
            from ._demo import demo_endpoint

            url, key = demo_endpoint(settings.home)
            settings = dataclasses.replace(
                settings,
                base_url=url,
                api_key=Secret(api_key or key),
                key_source="argument" if api_key else "demo emulator",
                sources={**settings.sources, "base_url": "demo emulator"},
            )
        self._key = settings.require_key()
        self._scrub = scrub_errors(self._key.reveal())  # one, reused: it keeps no state
        self.settings: Settings = settings
        self.protocol: Protocol = protocols.create(
            settings.protocol, settings.base_url, settings.platform
        )
        self._timeout = httpx.Timeout(timeout) if isinstance(timeout, (int, float)) else timeout
        self._retry = RetryPolicy(
            max_retries=max_retries, stream_retries=_retries(stream_retries, "stream_retries")
        )
        self._headers = dict(headers or {})
        self._poll = poll or PollSchedule()
        self.limits = limits or Limits()
        self._transport = None if transport is None else check_transport(transport)
        self._shared_limiter = bool(shared_limiter)
        self._http: HTTPPool | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._reported: set[tuple[str, str]] = set()
        # What a client for another profile (`profile=` on a call) is made with.
        self._options: dict[str, Any] = dict(
            demo=demo, home=home, timeout=timeout, max_retries=max_retries, headers=headers,
            poll=poll, limits=limits, stream_retries=stream_retries, transport=transport,
            shared_limiter=shared_limiter,
        )  # fmt: skip
        self._others: dict[str, BaseClient] = {}

    def __repr__(self) -> str:
        s = self.settings
        protocol = "" if s.protocol == "yuanjing" else f", protocol={s.protocol!r}"
        platform = f", platform={s.platform!r}" if s.platform else ""
        return (
            f"{type(self).__name__}(profile={s.profile!r}, base_url={s.base_url!r}{protocol}"
            f"{platform}, key={self._key.mask()!r}{', demo=True' if s.demo else ''})"
        )

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def _read_timeout(self) -> float | None:
        return (self._timeout or httpx.Timeout(120.0)).read

    def _default_model(self, kind: str, platform: str | None = None) -> str:
        """The protocol's default model for "chat", "image" or "video"."""
        return self.protocol.default_model(kind, platform)

    def _for(self: C, profile: str | None) -> C:
        """This client, or the one for another profile (made on first use, then kept)."""
        if profile is None or profile == self.settings.profile:
            return self
        if profile not in self._others:
            self._others[profile] = type(self)(profile=profile, **self._options)
        other = self._others[profile]
        assert isinstance(other, type(self))
        return other

    def _client(self) -> HTTPClient:
        # An httpx client is bound to the loop it first ran on; scripts that call
        # asyncio.run() twice get a fresh one instead of a "loop is closed" error.
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop:
            self._http = HTTPPool(
                timeout=self._timeout, headers=self._headers, transport=self._transport
            )
            self._http_loop = loop
        return self._http.next()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key.reveal()}"}

    async def _send(
        self, method: str, path: str, *, retry: RetryKind, stream: bool = False, **kw: Any
    ) -> httpx.Response:
        """Send to the platform with the key, retried as `retry` allows. Errors leave redacted
        and chaining nothing; an answer that redirects is an error (an API call is never
        followed elsewhere)."""
        http = self._client()
        with self._scrub:
            try:
                request = http.build_request(
                    method, self.base_url + path, headers=self._auth(), **kw
                )
            except (TypeError, ValueError) as exc:  # the body cannot be encoded: nothing sent
                raise unsendable(exc) from None
            except httpx.InvalidURL as exc:  # the settings check the scheme, not the rest
                raise ConfigError(f"base_url {self.base_url!r} is not a valid URL: {exc}") from None
            response = await self._limited(http, request, retry, stream)
            if response.status_code in REDIRECT_STATUSES or response.status_code < 200:
                await response.aclose()
                raise _redirected(response)
        return response

    def _limited(
        self, http: HTTPClient, request: httpx.Request, retry: RetryKind, stream: bool
    ) -> Coroutine[Any, Any, httpx.Response]:
        """`send` under the retry rules; with `shared_limiter`, a paid request (not a read) in
        one of the profile's limiter's slots, unless the caller holds one already (an
        experiment's call). Without it a fan-out of the caller's own is not throttled."""

        def sent() -> Coroutine[Any, Any, httpx.Response]:
            return send(
                http, request, kind=retry, policy=self._retry, secret=self._key.reveal(),
                stream=stream,
            )  # fmt: skip

        if retry is RetryKind.READ or not self._shared_limiter:
            return sent()
        limiter = limiter_for(self.settings.profile)
        return sent() if holding.get() is limiter else through(limiter, sent)

    def _perform(self, wire: WireRequest) -> Coroutine[Any, Any, httpx.Response]:
        """Send what a protocol built: JSON, or multipart with every file read once.

        The answer's body is not read: see `_exchange` and `_open_stream`. (A plain function
        handing on `_send`'s coroutine: one coroutine less per call, see `_exchange`.)
        """
        kw: dict[str, Any] = {"params": wire.params}
        if wire.files:
            kw.update(data=wire.data or {}, files=multipart_files(wire.files))
        elif wire.data is not None:
            kw["data"] = wire.data
        else:
            kw["json"] = wire.json
        return self._send(wire.method, wire.path, retry=wire.retry_kind, stream=True, **kw)

    async def _exchange(self, wire: WireRequest, what: str) -> Answer:
        """Send a request that does not stream and read its JSON answer within the limits:
        at most `max_body_bytes` (decompressed), all of it within `deadline_s`.

        `what` names the answer in errors ("the task status"). One coroutine, no closures:
        what a call holds while it waits is what the garbage collector scans under fan-out.
        """
        with self._scrub:
            try:
                async with deadline(self.limits.deadline_s):
                    response = await self._perform(wire)
                    return await read_answer(
                        response,
                        what,
                        max_bytes=self.limits.max_body_bytes,
                        secret=self._scrub.secret,
                    )
            except asyncio.TimeoutError:
                raise self._late(wire, what) from None

    async def _open_stream(self, wire: WireRequest) -> httpx.Response:
        """Send a streamed request; its answer's headers must come within `deadline_s`."""
        try:
            async with deadline(self.limits.deadline_s):
                return await self._perform(wire)
        except asyncio.TimeoutError:
            raise self._late(wire, "the stream") from None

    def _late(self, wire: WireRequest, what: str) -> APIConnectionError:
        url = redact(self.base_url + wire.path, self._key.reveal())
        return APIConnectionError(
            f"{what} from {wire.method} {url} was not complete within "
            f"{self.limits.deadline_s:g} s (Limits.deadline_s)"
        )

    def _parse(self, answer: Answer, what: str, parse: Callable[[Any], T]) -> T:
        """`parse(answer.body)`. What a protocol finds wrong with the answer, and any
        `TypeError`/`KeyError`/... that a body of the wrong shape causes, is raised as a
        `MalformedResponse` with the status, the request and an excerpt."""
        # scrub_errors, not `from None`: the chain would still hold the body.
        with scrub_errors(answer.secret):
            try:
                return parse(answer.body)
            except MalformedResponse as exc:
                raise answer.malformed(exc.message) from None
            except YJError:
                raise
            except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
                why = f"{what} has an unexpected shape ({type(exc).__name__}: {exc})"
                raise answer.malformed(why[:200]) from None

    def _emit_once(self, record: UsageRecord) -> None:
        """Emit, but each state of a task only once (a wait repeated on a finished task).
        Every record of a demo client says so (the ledger keeps demo apart from real)."""
        if self.settings.demo and not record.demo:
            record = dataclasses.replace(record, demo=True)
        if record.taskid:
            key = (record.taskid, record.status)
            if key in self._reported:
                return
            self._reported.add(key)
        emit(record)

    async def aclose(self) -> None:
        for other in self._others.values():
            await other.aclose()
        if self._http is not None and self._http_loop is asyncio.get_running_loop():
            await self._http.aclose()
        self._http = None

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _redirected(response: httpx.Response) -> APIError:
    """An API answer that points elsewhere: following it could take the key (or a paid
    request) to another host, so it is reported with where it pointed."""
    location = response.headers.get("location") or "nowhere"
    return APIError(
        f"the platform redirected this call to {location[:200]!r}; yjnb does not follow"
        " redirects of API calls: check the base URL",
        status_code=response.status_code,
        method=response.request.method,
        url=str(response.request.url.copy_with(query=None)),
    )
