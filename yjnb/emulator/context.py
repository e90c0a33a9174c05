"""Per-request plumbing shared by the endpoint modules: context, errors, JSON I/O.

Two error shapes: the Yuanjing API's ``{"error": "message"}`` (``/llmage``) and the OpenAI
shape ``{"error": {"message", "type", "code"}}`` (``/v1`` and the gateway). ``type`` follows
OpenAI's names by status; ``code`` is a short string (``ApiError.code`` or a status default).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .faults import Faults
from .quotas import RATE_LIMIT_CODE
from .state import State


class ApiError(Exception):
    """Raised by handlers; becomes ``{"error": message}`` with ``status``."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers
        self.code = code  # OpenAI-style errors only


@dataclass
class Ctx:
    """What a handler sees: the request, the state, the caller's key and its faults."""

    request: Request
    state: State
    key: str
    faults: Faults


def spend_tokens(ctx: Ctx, tokens: int) -> None:
    """Take a chat's tokens from the caller's per-minute quota, or raise its 429."""
    refusal = ctx.state.quotas.spend(ctx.key, tokens)
    if refusal is not None:
        raise ApiError(429, refusal.message, refusal.headers, RATE_LIMIT_CODE)


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # The platform answers with Python's json.dumps defaults (", " separators); non-streamed
    # bodies carry raw UTF-8, as in the seed's non-streaming capture.
    body = json.dumps(obj, ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def compact_response(
    obj: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """OpenAI-side bodies: compact separators and raw UTF-8, like the seeds' captures."""
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, code: str | None = None
) -> Response:
    return json_response({"error": message}, status, headers)


#: status -> (OpenAI error type, default code)
OPENAI_ERRORS = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "forbidden"),
    404: ("not_found_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    408: ("timeout_error", "timeout"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}


def openai_error_response(
    status: int, message: str, headers: dict[str, str] | None = None, code: str | None = None
) -> Response:
    kind, default = OPENAI_ERRORS.get(status, ("server_error", "service_unavailable"))
    if status >= 500 and status != 503:
        default = "server_error"
    body = {"error": {"message": message, "type": kind, "code": code or default}}
    return compact_response(body, status, headers)


ErrorFactory = Callable[[int, str, "dict[str, str] | None", "str | None"], Response]


async def read_json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Invalid JSON body") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid JSON body: expected an object")
    return body
