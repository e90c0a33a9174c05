"""A multi-platform gateway (seed 003): OpenAI's formats under `/{platform}/v1/...`.

What differs from the OpenAI-compatible service: every call needs a platform (the profile's,
or `platform=` on the client or the call); chat messages may carry `file` parts too; images
are tasks (`?async=true`), polled at `/images/{id}`, so their ids reach the ledger at once;
tasks take `?detail=true`; multipart repeats `image[]` and `input_reference[]`; the default
models depend on the platform.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._errors import ValidationError
from .._types import Task
from .base import PreparedTask
from .openai import OpenAI

__all__ = ["Gateway"]

_REPEATED = frozenset({"image", "input_reference"})


class Gateway(OpenAI):
    name = "gateway"
    capabilities = frozenset(
        {"chat_images", "chat_files", "remix", "task_detail", "image_tasks", "platform"}
    )
    # A platform serving OpenAI's own models has their defaults; the others OpenAI's table.
    platform_defaults: Mapping[str, Mapping[str, str]] = {
        "openai": {"chat": "gpt-4o-mini", "image": "dall-e-3", "video": "sora-2"},
    }

    def default_model(self, kind: str, platform: str | None = None) -> str:
        table = self.platform_defaults.get(platform or self.platform or "", self.defaults)
        return table[kind]

    def platform_problems(self, platform: str | None) -> list[str]:
        if platform or self.platform:
            return []
        return [
            "the gateway protocol needs a platform: pass platform=... (to the client or the "
            "call) or set platform in the profile"
        ]

    def root(self, platform: str | None = None) -> str:
        chosen = platform or self.platform
        if not chosen:
            raise ValidationError(self.platform_problems(None))
        return f"/{chosen}/v1"

    def multipart_name(self, name: str) -> str:
        return f"{name}[]" if name in _REPEATED else name

    def new_task(self, task: PreparedTask, profile: str) -> Task:
        made = super().new_task(task, profile)
        made.platform = task.platform or self.platform
        made.params["platform"] = made.platform
        return made
