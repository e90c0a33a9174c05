"""The `Protocol` interface: one wire format, translated both ways, without any I/O.

A protocol turns a prepared chat or media call into a `WireRequest` (method, path, JSON or
multipart body, query) and the answers back into yjnb's types (`ChatResult`, `Task`,
`ModelInfo`). It owns its model catalog, its default models and its capabilities. The client
(`yjnb._client`) does all the I/O: it sends what a protocol builds and hands it what came
back. Where protocols differ, a method here is overridden; nothing outside this package asks
which protocol it talks to (httpx's transports and openai-python's provider hooks are the
model).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .._catalog import Catalog
from .._catalog_types import Prepared
from .._errors import APIError, MalformedResponse
from .._types import ModelInfo, RetryKind, Task, utcnow
from ._stream import StreamAccumulator

__all__ = [
    "CAPABILITIES",
    "Attachment",
    "Inline",
    "PreparedChat",
    "PreparedTask",
    "Protocol",
    "RetryKind",
    "StreamAccumulator",
    "WireRequest",
    "fold_status",
    "task_id",
]

# What a protocol may or may not do (`Protocol.capabilities` lists what it does), and how a
# refusal names it: "<phrase> an openai or gateway profile; profile 'x' uses yuanjing".
CAPABILITIES: Mapping[str, str] = {
    "chat_images": "images need",
    "chat_files": "files need",
    "responses": "api='responses' needs",
    "remix": "remix needs",
    "task_detail": "detail=True needs",
    "image_tasks": "image tasks need",
    "platform": "platform= needs",
}

# Media that came inside an answer (base64 images): (what, bytes) for the client to save.
Inline = list[tuple[str, bytes]]


@dataclass
class WireRequest:
    """One HTTP request as a protocol builds it; the client sends it."""

    method: str
    path: str  # under the base URL
    json: dict[str, Any] | None = None
    data: dict[str, str] | None = None  # multipart text fields
    # Multipart files: (field name, the input as given). The client reads each one once.
    files: list[tuple[str, Any]] = field(default_factory=list)
    params: dict[str, str] | None = None  # the query string
    stream: bool = False
    retry: RetryKind | None = None  # what a retry could cost; None: from the method

    @property
    def retry_kind(self) -> RetryKind:
        """As the protocol said; else a GET is a read, and any other request is treated as a
        paid submission (the kind retried least), so a POST nobody marked is never bought
        twice. Chats mark themselves `CHAT`, task submissions `MEDIA`."""
        if self.retry is not None:
            return self.retry
        return RetryKind.READ if self.method == "GET" else RetryKind.MEDIA


@dataclass(frozen=True)
class Attachment:
    """An image or file for a chat message: a URL as given, or bytes the client read."""

    url: str | None = None  # http(s) or data: URL, sent as is
    data: bytes = b""
    mime: str = "application/octet-stream"


@dataclass
class PreparedChat:
    """A checked chat call (see `yjnb._prepare.prepare_chat`)."""

    model: str
    prompt: str
    system: str | None = None
    stream: bool = False
    api: str = "chat"  # "chat" or "responses"
    platform: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # checked, ready to send
    images: list[Any] = field(default_factory=list)  # as given: paths, URLs, bytes
    files: list[Any] = field(default_factory=list)
    recorded: dict[str, Any] = field(default_factory=dict)  # what the ledger keeps
    warnings: list[str] = field(default_factory=list)


@dataclass
class PreparedTask:
    """A checked media task (see `yjnb._prepare.prepare_task`)."""

    kind: str  # "image" or "video"
    request: Prepared  # model, catelog, prompt, wire fields and files
    platform: str | None = None
    remix_of: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # protocol-only options (llmid)
    recorded: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def model(self) -> str:
        return self.request.model


class Protocol:
    """One wire protocol. Subclasses set the class attributes and override the hooks.

    An instance is bound to a base URL and, for the gateway, a default platform.
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    catalog: ClassVar[Catalog]
    # The default model of each kind ("chat", "image", "video"): the one table.
    defaults: ClassVar[Mapping[str, str]]
    capabilities: ClassVar[frozenset[str]] = frozenset()
    # The service's own address, for a profile that names none (only Yuanjing has one).
    default_base_url: ClassVar[str | None] = None

    def __init__(self, base_url: str = "", platform: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.platform = platform or None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def supports(self, capability: str) -> bool:
        return capability in self.capabilities

    def default_model(self, kind: str, platform: str | None = None) -> str:
        """The default model for "chat", "image" or "video"."""
        return self.defaults[kind]

    def platform_problems(self, platform: str | None) -> list[str]:
        """What is wrong with the platform a call would use (only the gateway needs one)."""
        return []

    # -- chat ---------------------------------------------------------------------------------

    def history(
        self, prompt: str, system: str | None, turns: list[tuple[str, str]]
    ) -> tuple[str, dict[str, Any]]:
        """(the prompt to send, extra parameters) carrying earlier (prompt, answer) turns."""
        raise NotImplementedError

    def chat_request(
        self, chat: PreparedChat, images: list[Attachment], files: list[Attachment]
    ) -> WireRequest:
        raise NotImplementedError

    def chat_decoder(self, chat: PreparedChat) -> StreamAccumulator:
        """A fresh decoder of this protocol's stream events (and whole answers)."""
        return StreamAccumulator(model=chat.model, prompt=chat.prompt, system=chat.system)

    # -- models -------------------------------------------------------------------------------

    def models_request(self, catelog: str | None, platform: str | None) -> WireRequest:
        raise NotImplementedError

    def parse_models(self, body: Any, catelog: str | None) -> list[ModelInfo]:
        """An OpenAI-style list (`data` or `models`) or a bare list; entries that are not
        models are skipped, any other shape is a `MalformedResponse`."""
        items = body.get("data", body.get("models")) if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise MalformedResponse(
                "the model list is neither a list nor an object with a data or models list"
            )
        infos = [ModelInfo.from_wire(item) for item in items]
        return [m for m in infos if m is not None and (not catelog or m.catelog in (None, catelog))]

    # -- media tasks --------------------------------------------------------------------------

    def split_task_options(self, params: dict[str, Any]) -> dict[str, Any]:
        """Take this protocol's own options (not model parameters) out of `params`."""
        return {}

    def task_problems(self, task: PreparedTask) -> list[str]:
        """What this protocol cannot send of a checked task (before anything is sent)."""
        return []

    def task_request(self, task: PreparedTask) -> WireRequest:
        raise NotImplementedError

    def new_task(self, task: PreparedTask, profile: str) -> Task:
        """The `Task` a submission makes, before its answer is read."""
        return Task(
            taskid="",
            kind=task.kind,
            model=task.model,
            catelog=task.request.catelog,
            prompt=task.request.prompt,
            params=dict(task.recorded),
            profile=profile,
        )

    def parse_submit(self, task: Task, body: Any) -> Inline:
        """Fold the submission's answer into `task` (its id at least); raise
        `MalformedResponse` if the answer has no task id. Returns media that came inline."""
        raise NotImplementedError

    def status_request(self, task: Task, *, detail: bool = False) -> WireRequest | None:
        """The request that reads a task's status; None when there is nothing to poll."""
        raise NotImplementedError

    def task_unknown(self, error: APIError) -> bool:
        """Whether an error answer to a status request means the service does not know the
        task (the seeds answer 404, "任务ID不存在" / "Task not found"): it is then `lost`."""
        return error.status_code == 404

    def parse_status(self, task: Task, body: Any) -> Inline:
        """Fold one status answer into `task`; returns media that came inline."""
        if not isinstance(body, dict):
            raise MalformedResponse("the task status is not a JSON object")
        fold_status(task, body)
        return []


def task_id(kind: str, body: Any, *keys: str) -> str:
    """The task id of a submission's answer, under the first of `keys` it has: a string or a
    number. Anything else (none, an object) is a `MalformedResponse`."""
    if not isinstance(body, dict):
        raise MalformedResponse(f"the {kind} submission is not a JSON object")
    value = next((body[k] for k in keys if body.get(k)), None)
    if value is None:
        raise MalformedResponse(
            f"the platform accepted the {kind} task but sent no task id ({keys[0]})"
        )
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise MalformedResponse(f"the {kind} submission's task id is not a string")
    return str(value)


def fold_status(task: Task, body: Mapping[str, Any]) -> Task:
    """Fold one status answer, in Yuanjing's words, into `task` (in place) and return it.
    Status casing varies ("created", "CREATED"): it is upper-cased."""
    status = body.get("status")
    if isinstance(status, str) and status:
        task.status = status.strip().upper()
    if body.get("taskid") and not task.taskid:
        task.taskid = str(body["taskid"])
    if isinstance(body.get("usage"), dict):
        task.usage = dict(body["usage"])
    for key, attr in (("video", "video_url"), ("image", "image_url")):
        value = body.get(key)
        if isinstance(value, str) and value:
            setattr(task, attr, value)
    progress = body.get("progress")
    if isinstance(progress, (int, float)) and not isinstance(progress, bool):
        task.progress = float(progress)
    if task.status == "FAILED":
        reason = next(
            (body[k] for k in ("error", "message", "reason", "fail_reason") if body.get(k)),
            None,
        )
        task.error = str(reason) if reason else task.error or "the platform gave no reason"
    if task.done and task.finished_at is None:
        task.finished_at = utcnow()
    return task
