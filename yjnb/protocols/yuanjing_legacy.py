"""The Yuanjing platform's older API (seeds 000 and 002): videos at `/llmage/video`, chosen by
`llmid`, polled at `/llmage/tasks`; no image endpoint. Chat is the current one."""

from __future__ import annotations

from typing import Any

from .base import PreparedTask
from .yuanjing import Yuanjing

__all__ = ["YuanjingLegacy"]


class YuanjingLegacy(Yuanjing):
    name = "yuanjing-legacy"
    aliases = ("legacy",)
    capabilities = frozenset()

    def split_task_options(self, params: dict[str, Any]) -> dict[str, Any]:
        """`llmid=` picks the older API's model id by hand (else the catalog's is used)."""
        llmid = params.pop("llmid", None)
        return {} if llmid is None else {"llmid": str(llmid)}

    def _llmid(self, task: PreparedTask) -> str | None:
        request = task.request
        return task.options.get("llmid") or self.catalog.llmid_for(request.model, request.catelog)

    def task_problems(self, task: PreparedTask) -> list[str]:
        if task.kind == "image":
            return ["the yuanjing-legacy protocol has no image endpoint; use 'yuanjing'"]
        if not self._llmid(task):
            request = task.request
            return [
                f"no llmid known for {request.model} ({request.catelog}) in the yuanjing-legacy "
                "protocol; pass llmid=... or use the 'yuanjing' profile"
            ]
        return []

    def task_path(self, task: PreparedTask) -> str:
        return "/llmage/video"

    def task_fields(self, task: PreparedTask) -> dict[str, Any]:
        request = task.request
        fields = {"model": request.model, "prompt": request.prompt, "llmid": self._llmid(task)}
        return {**fields, **request.fields}

    def status_path(self) -> str:
        return "/llmage/tasks"
