"""The ASGI app: routes, request counting, faults, auth and the admin endpoints.

Order for every platform request: count ``METHOD path`` -> apply faults (status, rate limit:
after the latency) -> check the key -> count it against the key's quota (:mod:`.quotas`) ->
the latency -> run the handler. The quota counts a request when it arrives and refuses it at
once, as a platform's gateway does before any model works on it: a latency fault is the
answer's time, and no longer delays the moment a request opens a quota's window. With quotas
set, every answer to a key carries its ``x-ratelimit-*`` headers. Admin endpoints
(``/_emulator/...``) are not counted, never faulted, need no key, and answer
loopback clients only.

Three APIs share the server: Yuanjing under ``/llmage`` (``{"error": "..."}`` bodies), the
OpenAI-compatible service under ``/v1`` and the gateway under ``/{platform}/v1`` (both with
OpenAI error bodies, for faults, auth and unknown routes too). The specific routes come
first, so ``/llmage/v1/...`` never reaches the gateway; ``llmage`` is no platform (404).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import chat, media, openai_api, openai_images, openai_videos, tasks
from .context import (
    ApiError,
    Ctx,
    ErrorFactory,
    error_response,
    json_response,
    openai_error_response,
    read_json,
)
from .faults import NO_FAULTS, Faults, parse_header
from .models import models_list
from .quotas import RATE_LIMIT_CODE, limits_from
from .state import State

Handler = Callable[[Ctx], Awaitable[Any]]
FAULT_HEADER = "x-emulator-fault"
STATUS_TEXT = {
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_DROP_MESSAGE = "ASGI callable returned without completing response."


class _DropFilter(logging.Filter):
    """``drop_after`` ends a response on purpose; uvicorn would log that as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _DROP_MESSAGE


def quiet_uvicorn() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropFilter) for f in logger.filters):
        logger.addFilter(_DropFilter())


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def _faulted(faults: Faults, errors: ErrorFactory) -> Response | None:
    """The response a fault replaces the real one with, after any latency (which, for an
    answer no fault replaces, comes after the quota: see the module's docstring)."""
    replaced = _replaced(faults, errors)
    if replaced is not None and faults.latency:
        await asyncio.sleep(faults.latency)
    return replaced


def _replaced(faults: Faults, errors: ErrorFactory) -> Response | None:
    if faults.status is not None:
        text = STATUS_TEXT.get(faults.status, "Error")
        return errors(faults.status, f"{text} (emulated fault)", None, None)
    if faults.rate_limit:
        after = faults.retry_after if faults.retry_after is not None else 1.0
        value = str(int(after)) if after == int(after) else str(after)
        return errors(429, "Too many requests", {"Retry-After": value}, None)
    return None


def endpoint(
    state: State, handler: Handler, auth: bool = True, errors: ErrorFactory = error_response
) -> Callable[..., Awaitable[Any]]:
    async def route(request: Request) -> Any:
        path = request.url.path
        state.count(f"{request.method} {path}")
        faults = state.faults.take(path) or NO_FAULTS
        header = request.headers.get(FAULT_HEADER)
        if header:
            try:
                faults = faults.merged(parse_header(header))
            except ValueError as exc:
                return errors(400, str(exc), None, "invalid_fault")
        replaced = await _faulted(faults, errors)
        if replaced is not None:
            return replaced
        key = _bearer(request)
        if not auth or key is None or not state.known(key):
            if faults.latency:
                await asyncio.sleep(faults.latency)
            if auth:
                return errors(401, "Invalid API Key", None, None)
            return await _answer(handler, Ctx(request, state, key or "", faults), errors)
        refusal = state.quotas.admit(key)  # on arrival, and a refusal is answered at once
        if refusal is not None:
            response = errors(429, refusal.message, refusal.headers, RATE_LIMIT_CODE)
        else:
            if faults.latency:
                await asyncio.sleep(faults.latency)
            response = await _answer(handler, Ctx(request, state, key, faults), errors)
        # Taken after the handler, so a chat's answer reports the tokens it just spent.
        return _with_headers(response, state.quotas.headers(key))

    return route


async def _answer(handler: Handler, ctx: Ctx, errors: ErrorFactory) -> Any:
    try:
        return await handler(ctx)
    except ApiError as exc:
        return errors(exc.status, exc.message, exc.headers, exc.code)


class _ExtraHeaders:
    """A raw ASGI response (the chat streams) with headers added to its start."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *self.raw]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_headers(response: Any, headers: dict[str, str]) -> Any:
    if not headers:  # no quota: the response as it was
        return response
    if isinstance(response, Response):
        response.headers.update(headers)
        return response
    return _ExtraHeaders(response, headers)


def admin(state: State, handler: Callable[[Request, State], Awaitable[Any]]) -> Any:
    async def route(request: Request) -> Any:
        host = request.client.host if request.client else ""
        if host not in _LOOPBACK:
            return error_response(403, "Admin endpoints answer loopback clients only")
        try:
            return await handler(request, state)
        except (ApiError, ValueError) as exc:
            message = exc.message if isinstance(exc, ApiError) else str(exc)
            return error_response(400, message)

    return route


async def list_models(ctx: Ctx) -> Response:
    rows = models_list()
    catelog = ctx.request.query_params.get("catelogid")
    if catelog:
        rows = [r for r in rows if r["catelogid"] == catelog]
    if ctx.request.query_params.get("format") == "bare":
        return json_response(rows)
    return json_response({"object": "list", "data": rows})


async def _stats(request: Request, state: State) -> Response:
    return json_response(state.stats())


async def _set_faults(request: Request, state: State) -> Response:
    state.faults.set(await read_json(request))
    return json_response({"faults": state.faults.describe()})


async def _set_limits(request: Request, state: State) -> Response:
    state.quotas.set(limits_from(await read_json(request)))
    return json_response({"limits": state.quotas.limits.describe()})


async def _reset(request: Request, state: State) -> Response:
    state.reset()
    return json_response({"reset": True})


async def _idfile(ctx: Ctx) -> Response:
    return await media.idfile(ctx.request, ctx.state)


_OPENAI_PATH = re.compile(r"/(?!llmage/)[^/]+/v1/|/v1/")


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    message = "Not found" if status == 404 else "Method not allowed"
    if _OPENAI_PATH.match(request.url.path):
        return openai_error_response(status, f"{message}: {request.method} {request.url.path}")
    return error_response(status, message)


def openai_routes(state: State, root: str) -> list[Route]:
    """The OpenAI-compatible API under ``root`` (``/v1``) or the gateway's (``/{platform}/v1``)."""

    def r(path: str, handler: Handler, method: str) -> Route:
        route = endpoint(state, handler, errors=openai_error_response)
        return Route(root + path, route, methods=[method])

    routes = [
        r("/models", openai_api.list_models, "GET"),
        r("/chat/completions", openai_api.chat_completions, "POST"),
        r("/images/generations", openai_images.generations, "POST"),
        r("/images/edits", openai_images.edits, "POST"),
        r("/videos", openai_videos.create, "POST"),
        r("/videos/{video_id}", openai_videos.retrieve, "GET"),
        r("/videos/{video_id}/content", openai_videos.content, "GET"),
        r("/videos/{video_id}/remix", openai_videos.remix, "POST"),
    ]
    if root == "/v1":
        routes.append(r("/responses", openai_api.responses, "POST"))
    else:
        routes.append(r("/images/{task_id}", openai_images.image_task, "GET"))
    return routes


def create_app(state: State) -> Starlette:
    """A plain ASGI app over ``state`` (serve it with any ASGI server)."""
    v1 = "/llmage/v1"
    post = ["POST"]
    routes = [
        Route(f"{v1}/models", endpoint(state, list_models), methods=["GET"]),
        Route(f"{v1}/chat/completions", endpoint(state, chat.chat_completions), methods=post),
        Route(
            f"{v1}/image/generations", endpoint(state, tasks.image_generations), methods=["POST"]
        ),
        Route(
            f"{v1}/video/generations", endpoint(state, tasks.video_generations), methods=["POST"]
        ),
        Route(f"{v1}/tasks", endpoint(state, tasks.task_status), methods=["GET"]),
        Route("/llmage/video", endpoint(state, tasks.legacy_video), methods=post),
        Route("/llmage/tasks", endpoint(state, tasks.task_status), methods=["GET", "POST"]),
        Route("/idfile", endpoint(state, _idfile, auth=False), methods=["GET"]),
        Route("/_emulator/stats", admin(state, _stats), methods=["GET"]),
        Route("/_emulator/faults", admin(state, _set_faults), methods=post),
        Route("/_emulator/limits", admin(state, _set_limits), methods=post),
        Route("/_emulator/reset", admin(state, _reset), methods=post),
        Route(
            "/files/{name}",
            endpoint(state, openai_images.files, auth=False, errors=openai_error_response),
            methods=["GET"],
        ),
        *openai_routes(state, "/v1"),
        *openai_routes(state, "/{platform}/v1"),  # last: every specific route wins over it
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_found})
    app.state.emulator = state
    return app
