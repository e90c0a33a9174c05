"""Per-request plumbing shared by the endpoint modules: context, errors, JSON I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .faults import Faults
from .state import State


class ApiError(Exception):
    """Raised by handlers; becomes ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


@dataclass
class Ctx:
    """What a handler sees: the request, the state, the caller's key and its faults."""

    request: Request
    state: State
    key: str
    faults: Faults


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # The platform answers with Python's json.dumps defaults (", " separators); non-streamed
    # bodies carry raw UTF-8, as in the seed's non-streaming capture.
    body = json.dumps(obj, ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": message}, status, headers)


async def read_json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Invalid JSON body") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid JSON body: expected an object")
    return body
