"""The Yuanjing platform's current API (seed 001): `/llmage/v1/...`, models chosen by `catelogid`.

Chat takes one `prompt` and one `sys_prompt` (with `catelogid` "t2t"), so a conversation's
history travels inside the prompt as a transcript. Media are tasks: submitted to
`/llmage/v1/{kind}/generations` (JSON without files, multipart with files) and polled at
`/llmage/v1/tasks?taskid=...`; the answers use Yuanjing's own words (`taskid`, `status`,
`video`, `image`, `usage`), folded in by `fold_status`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .._catalog import Catalog
from .._types import RetryKind, Task
from .base import (
    Attachment,
    Inline,
    PreparedChat,
    PreparedTask,
    Protocol,
    WireRequest,
    fold_status,
    task_id,
)
from .yuanjing_models import MODELS

__all__ = ["Yuanjing", "transcript"]

CATALOG = Catalog("yuanjing", MODELS, title="yjnb's catalog")


def transcript(turns: list[tuple[str, str]]) -> str:
    """Earlier exchanges as the tagged transcript put before a new prompt."""
    parts = ["<history>"]
    for asked, answered in turns:
        parts += ["<user>", asked.strip(), "</user>", "<assistant>", answered.strip()]
        parts.append("</assistant>")
    parts.append("</history>")
    return "\n".join(parts)


class Yuanjing(Protocol):
    """The Yuanjing platform (the default protocol)."""

    name = "yuanjing"
    catalog: ClassVar[Catalog] = CATALOG
    defaults: ClassVar[Mapping[str, str]] = {
        "chat": "qwen3-max",
        "image": "wan2.2-t2i-flash",
        "video": "viduq3-pro",
    }
    capabilities = frozenset({"image_tasks"})
    default_base_url = "https://opencomputing.ai"

    # -- chat ---------------------------------------------------------------------------------

    def history(
        self, prompt: str, system: str | None, turns: list[tuple[str, str]]
    ) -> tuple[str, dict[str, Any]]:
        """The history as a transcript before the new prompt:

        <history>
        <user>
        first question
        </user>
        <assistant>
        first answer
        </assistant>
        </history>

        the new message
        """
        return (transcript(turns) + "\n\n" + prompt if turns else prompt), {}

    def chat_request(
        self, chat: PreparedChat, images: list[Attachment], files: list[Attachment]
    ) -> WireRequest:
        """The seed's `prompt`/`sys_prompt`/`catelogid`, extras passed through."""
        body: dict[str, Any] = {"model": chat.model, "catelogid": "t2t", "prompt": chat.prompt}
        if chat.system:
            body["sys_prompt"] = chat.system
        body.update(chat.params)
        body["stream"] = chat.stream
        path = "/llmage/v1/chat/completions"
        return WireRequest("POST", path, json=body, stream=chat.stream, retry=RetryKind.CHAT)

    # -- models -------------------------------------------------------------------------------

    def models_request(self, catelog: str | None, platform: str | None) -> WireRequest:
        return WireRequest(
            "GET", "/llmage/v1/models", params={"catelogid": catelog} if catelog else None
        )

    # -- media tasks --------------------------------------------------------------------------

    def task_path(self, task: PreparedTask) -> str:
        return f"/llmage/v1/{task.kind}/generations"

    def task_fields(self, task: PreparedTask) -> dict[str, Any]:
        request = task.request
        fields = {"model": request.model, "prompt": request.prompt, "catelogid": request.catelog}
        return {**fields, **request.fields}

    def task_request(self, task: PreparedTask) -> WireRequest:
        path, fields = self.task_path(task), self.task_fields(task)
        if task.request.files:
            data = {k: str(v) for k, v in fields.items()}
            files = list(task.request.files)
            return WireRequest("POST", path, data=data, files=files, retry=RetryKind.MEDIA)
        return WireRequest("POST", path, json=fields, retry=RetryKind.MEDIA)

    def parse_submit(self, task: Task, body: Any) -> Inline:
        task.taskid = task_id(task.kind, body, "taskid")
        fold_status(task, body)
        return []

    def status_path(self) -> str:
        return "/llmage/v1/tasks"

    def status_request(self, task: Task, *, detail: bool = False) -> WireRequest | None:
        return WireRequest("GET", self.status_path(), params={"taskid": task.taskid})
