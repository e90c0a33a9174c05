"""An image or video experiment's calls: each cell a task, submitted, waited for and saved.

The task's id is held in the answer cache (`AnswerCache.hold`) the moment the platform gives
it, before the wait: whatever ends the wait (an interrupt, the wait's deadline, a killed
kernel, a download that broke off), a re-run waits for that same task again (`resume`) and
never buys it twice. A task that failed, or that the platform no longer knows, is let go: a
re-run submits it anew, as a failed chat call is sent again.

The files are saved by yjnb under names it makes from the task id (`AsyncClient.download`),
into the run's media folder; the results keep their paths.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import TaskFailed, TaskLost
from ._experiment_cache import AnswerCache
from ._experiment_plan import Cell
from ._types import Task, Usage

if TYPE_CHECKING:
    from ._client import AsyncClient

__all__ = ["MediaResult", "MediaSender", "media_columns"]


def media_columns(kind: str) -> tuple[str, ...]:
    """The results columns a media run adds: the task id and the saved file's path (and a
    video's cover, which the compare grid shows)."""
    if kind == "image":
        return ("taskid", "image_path")
    if kind == "video":
        return ("taskid", "video_path", "cover_path")
    return ()


@dataclass
class MediaResult:
    """A finished task and the files saved of it."""

    task: Task
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def credits(self) -> float | None:
        return self.task.credits

    @property
    def credits_estimate(self) -> float | None:
        return self.task.credits_estimate

    @property
    def usage(self) -> Usage | None:
        """Tokens, when the service reported any (the OpenAI-style images do)."""
        usage = Usage.from_wire(self.task.usage)
        return usage if usage is not None and usage.total_tokens else None

    def answer(self) -> dict[str, Any]:
        """What the cache keeps of the task, and what its results row shows."""
        usage = self.usage
        kind = self.task.kind
        found = {
            "taskid": self.task.taskid,
            f"{kind}_path": _path(self.paths.get(kind)),
        }
        if kind == "video":
            found["cover_path"] = _path(self.paths.get("cover"))
        return {
            "text": None,
            "prompt_tokens": usage.prompt_tokens if usage else None,
            "completion_tokens": usage.completion_tokens if usage else None,
            "cached_tokens": None,
            "latency_s": self.task.elapsed_s,
            "ttft_s": None,
            "credits": self.task.credits,
            "credits_estimate": self.task.credits_estimate,
            "usage_id": None,
            **found,
        }


def _path(path: Path | None) -> str | None:
    return None if path is None else str(path)


class MediaSender:
    """Sends a media cell's task and waits for it (see the module's docstring)."""

    def __init__(
        self,
        client: AsyncClient,
        cache: AnswerCache,
        *,
        experiment: str,
        run_id: str,
        media_dir: Path,
        timeout: float,
    ) -> None:
        self.client, self.cache = client, cache
        self.experiment, self.run_id = experiment, run_id
        self.media_dir, self.timeout = media_dir, timeout

    async def send(self, cell: Cell) -> MediaResult:
        assert cell.task is not None
        task = await self.client.send_task(cell.task)
        self.cache.hold(cell.key, held(task), experiment=self.experiment, run_id=self.run_id)
        return await self._finish(cell, task)

    async def resume(self, cell: Cell, info: dict[str, Any]) -> MediaResult:
        """Wait again for a task an earlier run held: it was paid for, it is not sent again."""
        return await self._finish(cell, unheld(info, self.client.settings.profile))

    async def _finish(self, cell: Cell, task: Task) -> MediaResult:
        try:
            await self.client.wait(task, timeout=self.timeout)
        except (TaskFailed, TaskLost):
            self.cache.release(cell.key)  # it will not finish: a re-run sends it anew
            raise
        saved = await self.client.download(task, self.media_dir)
        return MediaResult(task, saved)


def held(task: Task) -> dict[str, Any]:
    """What the cache holds of a submitted task: enough to follow it again."""
    return {
        "taskid": task.taskid,
        "kind": task.kind,
        "model": task.model,
        "catelog": task.catelog,
        "platform": task.platform,
        "prompt": task.prompt,
        "params": task.params,
        "submitted_at": task.submitted_at.isoformat(),
    }


def unheld(info: dict[str, Any], profile: str | None) -> Task:
    submitted = info.get("submitted_at")
    task = Task(
        taskid=str(info["taskid"]),
        kind=str(info.get("kind") or "image"),
        model=info.get("model"),
        catelog=info.get("catelog"),
        platform=info.get("platform"),
        prompt=info.get("prompt"),
        params=dict(info.get("params") or {}),
        profile=profile,
    )
    if isinstance(submitted, str):
        with contextlib.suppress(ValueError):
            task.submitted_at = datetime.fromisoformat(submitted)
    return task
