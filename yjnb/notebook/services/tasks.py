"""The task service: start a task, follow it with a live card, wait for it in the cell.

Used by %yj_video and %yj_image (and their `--remix`), the forms and `%yj_tasks --resume`:

* `start_task` sends a checked request; `submit_and_follow` runs any submitting coroutine,
  shows the task's card and follows it; `follow` follows a task that
  exists already (resumed from the ledger).
* A `Watcher` polls, updates the card, saves the media and notes the file in the ledger. It
  runs on the shared runner loop (`yjnb._runner`), so a cell can return at once (`--bg`), be
  interrupted (the watcher simply keeps going) or wait for it in slices that a kernel
  interrupt can break (`wait_in_cell`). The watchers of one kernel are kept in
  `Session.watchers` by task id, so `%yj_tasks --resume` never attaches a second card to a
  task already followed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ..._errors import (
    AuthenticationError,
    InsufficientBalanceError,
    TaskLost,
    TaskTimeout,
    YJError,
)
from ..._runner import WAIT_SLICE_S, get_runner
from ..._status import platform_status
from ..._types import Task
from ...ledger import default_ledger
from ...protocols.base import PreparedTask
from ..views.task_card import TaskCard
from .budget import usage_line

if TYPE_CHECKING:
    from ..session import Session

__all__ = [
    "Watcher",
    "follow",
    "media_dir",
    "start_task",
    "submit_and_follow",
    "task_from_row",
    "wait_in_cell",
]

logger = logging.getLogger("yjnb")
TICK_S = 1.0


def media_dir(session: Session, client: Any, save: str | None) -> Path:
    """`--save DIR`, else `YJMagics.media_dir` (default `media`), both relative to the notebook
    (the kernel's working directory), so cards can point at the files by relative URL; an
    empty `media_dir` means YJ_HOME/media, the Python API's home for downloads."""
    if save:
        return (Path.cwd() / Path(save).expanduser()).absolute()
    if session.options.media_dir:
        return (Path.cwd() / Path(session.options.media_dir).expanduser()).absolute()
    return Path(client.settings.home) / "media"


def task_from_row(row: dict[str, Any]) -> Task:
    """A `Task` as the ledger's row knows it (for --resume, a shown task and --remix)."""
    params = dict(row.get("params") or {})
    platform = params.get("platform")  # a gateway task notes the platform it was made on
    # What the ledger knows; a status request updates it (an openai image has none to make).
    task = Task(
        taskid=str(row["taskid"]),
        # `interrupted` and `lost` say nothing of the platform's side: kept as they are.
        status=platform_status(row.get("status")) or str(row.get("status") or "PENDING").upper(),
        kind=str(row.get("kind") or "video"),
        model=row.get("model"),
        catelog=row.get("catelog"),
        prompt=row.get("prompt"),
        params=params,
        profile=row.get("profile"),
        platform=str(platform) if platform else None,
    )
    started = row.get("started_at")
    if isinstance(started, datetime) and started.tzinfo is not None:
        task.submitted_at = started
    return task


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
        except TaskLost as exc:  # the ledger marks it lost: --resume will not poll it again
            self.card.outcome = "lost"
            self.card.error = f"{exc}; %yj_tasks --forget {self.task.taskid} hides it"
        except asyncio.CancelledError:
            self.card.outcome = "stopped"
            self.card.note = "no longer followed here; the task keeps running (%yj_tasks --resume)"
            self._final()
            raise
        except AuthenticationError as exc:  # the ledger keeps it unfinished: resumable
            self.card.outcome = "stopped"
            self.card.error = f"{exc}; the task keeps running: %yj_tasks --resume with that key"
        except YJError as exc:
            self.card.outcome = "error"
            self.card.error = str(exc)
        else:
            self.card.outcome = "done"
            if self.task.succeeded:
                await self._save()
                await asyncio.to_thread(self._prepare_media)
            tokens = (self.task.usage or {}).get("total_tokens")  # OpenAI-style images
            self.card.usage_line = usage_line(
                self.task.kind,
                tokens=tokens if isinstance(tokens, int) and tokens > 0 else None,
                credits=self.task.credits,
                credits_estimate=self.task.credits_estimate,
                demo=bool(self.client.settings.demo),
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
            # The ledger's writer thread does the write; waiting for it here would block the loop.
            await asyncio.to_thread(note_saved, self.task.taskid, str(main))

    def _prepare_media(self) -> None:
        try:
            self.card.prepare_media()
        except Exception:  # an unreadable file: the card still links it
            logger.debug("could not read the saved media for the notebook", exc_info=True)

    def _final(self) -> None:
        try:
            self.card.refresh(force=True)
            if self.card.outcome == "done":
                self.card.emit_embeds()
        except Exception:
            logger.debug("final card update failed", exc_info=True)


# -- starting and following ---------------------------------------------------------------------


def start_task(
    session: Session,
    prepared: PreparedTask,
    *,
    sink: Any,
    profile: str | None = None,
    platform: str | None = None,
    save: str | None = None,
    timeout: float | None = None,
) -> Watcher:
    """Send a checked request (`check_request`) as it is, and follow its task with a card."""
    client = session.client(profile, platform)
    call = client.aio.send_task(prepared)
    return submit_and_follow(session, client, call, sink, save=save, timeout=timeout)


def submit_and_follow(
    session: Session,
    client: Any,
    call: Any,
    sink: Any,
    *,
    save: str | None = None,
    timeout: float | None = None,
) -> Watcher:
    """Run the coroutine `call` (a submit or a remix) and follow its task with a live card."""
    try:
        task = get_runner().run(call)
    except InsufficientBalanceError as exc:
        raise UsageError(f"InsufficientBalanceError: {exc}; nothing was charged") from None
    card = TaskCard(
        sink,
        task,
        demo=bool(session.demo or client.settings.demo),
        refresh_interval=session.options.refresh_interval,
    )
    card.show()
    return follow(session, client, task, card, timeout=timeout, save=save)


def follow(
    session: Session,
    client: Any,
    task: Task,
    card: TaskCard,
    *,
    timeout: float | None = None,
    save: str | None = None,
) -> Watcher:
    """Follow a submitted task (its card is shown) until it ends or the timeout passes."""
    return Watcher(
        client,
        task,
        card,
        timeout=session.options.wait_timeout if timeout is None else timeout,
        save_dir=media_dir(session, client, save),
        registry=session.watchers,
    ).start()


def wait_in_cell(watcher: Watcher) -> Task | None:
    """Wait for the watcher; a kernel interrupt moves the task to the background."""
    try:
        return watcher.result()
    except KeyboardInterrupt:
        watcher.card.note = (
            "interrupted: the task keeps running in the background and this card keeps "
            "updating; %yj_tasks lists it"
        )
        watcher.card.refresh(force=True)
        print(f"yjnb: task {watcher.task.taskid} moved to the background (%yj_tasks to see it)")
        return None
