"""Watching a task in the background: poll, update the card, save the media, note the file.

A `Watcher` runs on the shared runner loop (`yjnb._runner`), so a cell can return at once
(`--bg`), be interrupted (the watcher simply keeps going) or wait for it in slices that a
kernel interrupt can break. Watchers of one kernel are kept in `magics.state["media_watchers"]`
by task id, so `%yj_tasks --resume` never attaches a second card to a task already followed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from .._errors import TaskTimeout, YJError
from .._runner import WAIT_SLICE_S, get_runner
from .._types import Task
from ..ledger import default_ledger
from .task_view import TaskCard
from .usage import usage_line

__all__ = ["Watcher", "media_dir", "watchers"]

logger = logging.getLogger("yjnb")
TICK_S = 1.0


def watchers(magics: Any) -> dict[str, Watcher]:
    """The watchers of this kernel, by task id."""
    found: dict[str, Watcher] = magics.state.setdefault("media_watchers", {})
    return found


def media_dir(magics: Any, client: Any, save: str | None) -> Path:
    """`--save DIR` (relative to the notebook), else `YJMagics.media_dir`, else YJ_HOME/media."""
    if save:
        return (Path.cwd() / Path(save).expanduser()).absolute()
    if getattr(magics, "media_dir", ""):
        return (Path.cwd() / Path(magics.media_dir).expanduser()).absolute()
    return Path(client.settings.home) / "media"


def note_saved(taskid: str, path: str) -> None:
    """Tell the ledger where the media were saved (the task's row exists since its submit)."""
    try:
        default_ledger().set_local_path(taskid, path)
    except Exception:
        logger.debug("could not note the saved file in the ledger", exc_info=True)


class Watcher:
    """Follows one task until it ends or `timeout` passes, then saves its media."""

    def __init__(
        self,
        client: Any,
        task: Task,
        card: TaskCard,
        *,
        timeout: float,
        save_dir: Path | None,
        registry: dict[str, Watcher] | None = None,
    ) -> None:
        self.client = client
        self.task = task
        self.card = card
        self.timeout = timeout
        self.save_dir = save_dir
        self.registry = registry
        self.future: concurrent.futures.Future[Task] | None = None

    def start(self) -> Watcher:
        if self.registry is not None:
            self.registry[self.task.taskid] = self
        self.future = get_runner().submit(self._run())
        return self

    @property
    def done(self) -> bool:
        return self.future is not None and self.future.done()

    def result(self, timeout: float | None = None) -> Task:
        """Wait for the watcher (in slices, so a KeyboardInterrupt gets through)."""
        assert self.future is not None, "start() the watcher first"
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            left = WAIT_SLICE_S if end is None else min(WAIT_SLICE_S, end - time.monotonic())
            try:
                return self.future.result(max(left, 0.0))
            except concurrent.futures.TimeoutError:
                if end is not None and time.monotonic() >= end:
                    raise

    def cancel(self) -> None:
        """Stop following the task (it keeps running on the platform)."""
        if self.future is not None:
            self.future.cancel()

    # -- on the runner loop ----------------------------------------------------------------

    def _on_update(self, task: Task) -> None:
        try:
            self.card.refresh()
        except Exception:  # a display problem must not stop the polling
            logger.debug("card update failed", exc_info=True)

    async def _tick(self) -> None:
        interval = max(TICK_S, self.card.refresh_interval)
        while True:
            await asyncio.sleep(interval)
            self._on_update(self.task)

    async def _run(self) -> Task:
        self.card.sink.enter_worker()
        ticker = (
            asyncio.create_task(self._tick()) if getattr(self.card.sink, "live", False) else None
        )
        try:
            await self.client.aio.wait(
                self.task,
                timeout=self.timeout,
                on_update=self._on_update,
                raise_on_failure=False,
            )
        except TaskTimeout:
            self.card.outcome = "timeout"
        except asyncio.CancelledError:
            self.card.outcome = "stopped"
            self.card.note = "no longer followed here; the task keeps running (%yj_tasks --resume)"
            self._final()
            raise
        except YJError as exc:
            self.card.outcome = "error"
            self.card.error = str(exc)
        else:
            self.card.outcome = "done"
            if self.task.succeeded:
                await self._save()
            tokens = (self.task.usage or {}).get("total_tokens")  # OpenAI-style images
            self.card.usage_line = usage_line(
                self.task.kind,
                tokens=tokens if isinstance(tokens, int) and tokens > 0 else None,
                credits=self.task.credits,
            )
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(BaseException):
                    await ticker
        self._final()
        return self.task

    async def _save(self) -> None:
        try:
            saved = await self.client.aio.download(self.task, self.save_dir)
        except (YJError, OSError) as exc:
            self.card.save_error = str(exc)
            return
        main = saved.get("video") or saved.get("image")
        if main is not None:
            note_saved(self.task.taskid, str(main))

    def _final(self) -> None:
        try:
            self.card.refresh(force=True)
        except Exception:
            logger.debug("final card update failed", exc_info=True)
