"""A hostile media server: a small starlette app on a loopback port that answers the way a
misbehaving platform, proxy or CDN might, and remembers who sent the key.

It speaks just enough of the Yuanjing API for a task to be submitted and polled; what it does
is chosen by the prompt (which it also uses as the task id):

- ``no-taskid:HOW``   the submission is accepted without a task id, the key echoed (HOW below);
- ``fail-echo:HOW``   the task fails with a reason that echoes the key;
- ``media:URL``       the task succeeds with ``URL`` as its video (``image:URL`` as its image);
- ``redirect``        the status request is answered 302 to another place.

``POST /v1/images/generations`` answers an OpenAI-style image whose base64 data is the sample
the prompt names (``html``, ``png``...).

Media routes: ``/media/{name}?type=CT`` serves a sample body (`samples.BODIES`) under any
Content-Type; ``/redirect?to=URL&status=302&html=1`` redirects (with an HTML body if asked,
without ``Location`` if ``to`` is missing); ``/loop`` redirects to itself; ``/echo/{status}``
answers that status with the key echoed; ``/drop`` sends the first bytes of a video and then
closes the connection.

HOW is ``raw`` (the key as is), ``quoted`` (URL-encoded), ``split`` (cut in two by a line
break) or ``truncated`` (its first 12 characters and an ellipsis).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .samples import BODIES, MP4

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    authorization: str | None


def _token(request: Request) -> str:
    return request.headers.get("authorization", "").partition(" ")[2]


def echo(token: str, how: str) -> str:
    """The key as a careless server might repeat it."""
    if how == "quoted":
        return quote(token, safe="")
    if how == "split":
        half = len(token) // 2
        return f"{token[:half]}\n{token[half:]}"
    if how == "truncated":
        return token[:12] + "…"
    return token


class HostileMediaServer:
    """The app on a background thread; `seen` lists every request it received."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self.app = Starlette(
            routes=[
                Route("/llmage/v1/{kind}/generations", self.submit, methods=["POST"]),
                Route("/llmage/v1/tasks", self.status),
                Route("/v1/images/generations", self.inline_image, methods=["POST"]),
                Route("/media/{name}", self.media),
                Route("/redirect", self.redirect),
                Route("/loop", self.loop),
                Route("/echo/{status:int}", self.echo_status),
                Route("/drop", self.drop),
            ]
        )

    # -- routes ---------------------------------------------------------------------------

    async def submit(self, request: Request) -> Response:
        form = request.headers.get("content-type", "").startswith("multipart/")
        fields = await request.form() if form else await request.json()
        prompt = str(fields.get("prompt", ""))
        if prompt.startswith("no-taskid:"):
            said = echo(_token(request), prompt.partition(":")[2])
            return JSONResponse({"code": 0, "msg": f"accepted for {said}"})
        return JSONResponse({"taskid": prompt, "status": "created"})

    async def status(self, request: Request) -> Response:
        taskid = request.query_params.get("taskid", "")
        scenario, _, rest = taskid.partition(":")
        if scenario == "fail-echo":
            reason = f"key {echo(_token(request), rest)} is not allowed for this model"
            return JSONResponse({"taskid": taskid, "status": "failed", "error": reason})
        if scenario in ("media", "image"):
            what = "video" if scenario == "media" else "image"
            return JSONResponse({"taskid": taskid, "status": "succeeded", what: rest})
        if scenario == "redirect":
            return Response(status_code=302, headers={"Location": "/elsewhere"})
        return JSONResponse({"taskid": taskid, "status": "running"})

    async def inline_image(self, request: Request) -> Response:
        """An OpenAI-style image answer whose base64 "image" is the sample the prompt names."""
        name = str((await request.json()).get("prompt", "html"))
        data = base64.b64encode(BODIES.get(name, BODIES["html"])).decode()
        return JSONResponse({"created": 1, "data": [{"b64_json": data}]})

    async def media(self, request: Request) -> Response:
        body = BODIES[request.path_params["name"]]
        content_type = request.query_params.get("type", "video/mp4")
        return Response(body, headers={"Content-Type": content_type})

    async def redirect(self, request: Request) -> Response:
        target = request.query_params.get("to")
        html = request.query_params.get("html") == "1"
        status = int(request.query_params.get("status", "302"))
        headers = {"Location": target} if target else {}
        body = BODIES["html"] if html else b""
        return Response(body, status_code=status, headers={**headers, "Content-Type": "text/html"})

    async def loop(self, request: Request) -> Response:
        return Response(status_code=302, headers={"Location": "/loop"})

    async def echo_status(self, request: Request) -> Response:
        said = echo(_token(request), request.query_params.get("how", "raw"))
        body = {"error": f"no media here for {said}"}
        return Response(json.dumps(body), status_code=request.path_params["status"])

    async def drop(self, request: Request) -> Response:
        return _Dropped()  # type: ignore[return-value]

    # -- running --------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            query = scope["query_string"].decode()
            path = scope["path"] + (f"?{query}" if query else "")
            auth = headers.get(b"authorization")
            with self._lock:
                self.seen.append(Seen(scope["method"], path, auth.decode() if auth else None))
        await self.app(scope, receive, send)

    def start(self) -> HostileMediaServer:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((HOST, 0))
        config = uvicorn.Config(
            self, log_config=None, log_level="critical", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the hostile media server failed to start")
            time.sleep(0.005)
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()

    @property
    def port(self) -> int:
        assert self._sock is not None
        return int(self._sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def reset(self) -> None:
        with self._lock:
            self.seen.clear()

    def keys_seen(self, path_prefix: str = "/") -> list[str | None]:
        """The Authorization header of every request under `path_prefix`, in order."""
        with self._lock:
            return [s.authorization for s in self.seen if s.path.startswith(path_prefix)]


class _Dropped:
    """Promise 10,000 bytes, send the first bytes of a video, then end the connection."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: list[tuple[bytes, bytes]] = [
            (b"content-type", b"video/mp4"),
            (b"content-length", b"10000"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": MP4, "more_body": True})
        # Returning now, mid-body, makes uvicorn close the connection: a dropped download.
