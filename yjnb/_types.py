"""Result types: plain dataclasses with no behaviour beyond small conveniences."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

__all__ = ["ChatChunk", "ChatResult", "ModelInfo", "RetryKind", "Task", "Usage", "UsageRecord"]

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED"})


class RetryKind(enum.Enum):
    """What sending a request again could cost; it decides which failures are retried (the
    table in `yjnb._retry`). A protocol says it where it builds the request."""

    READ = "read"  # a GET: asking again buys nothing
    CHAT = "chat"  # a chat: at worst the tokens of an answer that was lost anyway
    MEDIA = "media"  # a task submission: a second task is paid for again


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _as_int(value: Any) -> int:
    """A token count as the wire has it: a number, a numeric string, or nothing (0). (Not
    nested in `from_wire`: a function made for every answer read.)"""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True)
class Usage:
    """Token counts of one chat call, as the platform billed them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0

    @classmethod
    def from_wire(cls, raw: dict[str, Any] | None) -> Usage | None:
        if not isinstance(raw, dict):
            return None
        details = raw.get("prompt_tokens_details") or raw.get("input_tokens_details") or {}
        # The chat APIs say prompt/completion; the Responses and Images APIs input/output.
        prompt = _as_int(raw.get("prompt_tokens", raw.get("input_tokens")))
        completion = _as_int(raw.get("completion_tokens", raw.get("output_tokens")))
        return cls(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=_as_int(raw.get("total_tokens")) or prompt + completion,
            cached_tokens=_as_int(details.get("cached_tokens") if isinstance(details, dict) else 0),
        )


@dataclass(frozen=True)
class ChatChunk:
    """One piece of a streamed answer. `text` is counted once although the wire repeats it.

    A chunk whose `restart` is set carries no text: the stream broke ("connection dropped",
    "cut without a finish signal", "malformed chunk") and is being started again from
    scratch. Forget the text and reasoning received so far; the chunks that follow are the
    new attempt's (the broken attempt is kept in `stream.broken_attempts`).
    """

    text: str = ""
    reasoning: str = ""
    restart: str = ""


@dataclass
class ChatResult:
    """A finished (or, with `finish_reason="interrupted"`, a broken-off) chat answer."""

    text: str
    model: str
    reasoning: str = ""
    id: str | None = None
    usage_id: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    ttft_s: float | None = None
    latency_s: float | None = None
    prompt: str = ""
    system: str | None = None
    # Marked estimates, never the platform's word: the tokens of an interrupted answer (its
    # usage never came), and credits from the user's price table (`yjnb._prices`).
    usage_estimate: Usage | None = None
    credits_estimate: float | None = None

    @property
    def interrupted(self) -> bool:
        return self.finish_reason == "interrupted"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class ModelInfo:
    """One entry of the platform's model list."""

    id: str
    catelog: str | None = None
    vendor: str | None = None
    description: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, item: Any) -> ModelInfo | None:
        """One entry of a model list: a bare id, or an object in any of the usual spellings."""
        if isinstance(item, str):
            return cls(id=item)
        if not isinstance(item, dict):
            return None
        model_id = item.get("id") or item.get("model") or item.get("name")
        if not model_id:
            return None
        return cls(
            id=str(model_id),
            catelog=item.get("catelogid") or item.get("catelog") or item.get("category"),
            vendor=item.get("vendor") or item.get("owned_by") or item.get("provider"),
            description=item.get("description"),
            raw=dict(item),
        )


TaskStatus = Literal["CREATED", "PENDING", "RUNNING", "SUCCEEDED", "FAILED"]


@dataclass
class Task:
    """A media generation task. Status is upper-cased whatever casing the server used."""

    taskid: str
    status: str = "CREATED"
    kind: str = "video"
    model: str | None = None
    catelog: str | None = None
    prompt: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    video_url: str | None = None
    image_url: str | None = None
    usage: dict[str, Any] | None = None
    error: str | None = None
    progress: float | None = None
    submitted_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None
    local_paths: dict[str, str] = field(default_factory=dict)
    profile: str | None = None
    # The OpenAI-style protocols: more than one image, the gateway's platform and
    # `?detail=true` metadata, and the video a remix started from.
    image_urls: list[str] = field(default_factory=list)
    platform: str | None = None
    detail: dict[str, Any] | None = None
    remixed_from: str | None = None
    # From the user's price table when the platform reported no credits but tokens (marked
    # as an estimate wherever it is shown).
    credits_estimate: float | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def credits(self) -> float | None:
        value = (self.usage or {}).get("credits")
        try:
            return None if value is None else float(value)
        except (TypeError, ValueError):
            return None

    @property
    def elapsed_s(self) -> float:
        end = self.finished_at or utcnow()
        return (end - self.submitted_at).total_seconds()


RecordKind = Literal["chat", "image", "video"]
RecordStatus = Literal["ok", "failed", "interrupted", "pending", "running", "timeout", "lost"]


@dataclass
class UsageRecord:
    """What the usage hook reports: one chat call, or one state of one media task.

    A task is reported as `pending` the moment its id exists and again when it ends
    (`ok`, `failed` or `timeout`, or `lost` when the service does not know it, or
    `interrupted` when it cannot be followed); sinks update it in place by `taskid`. A chat
    is reported once, when it ends (`ok`, `failed` or `interrupted`). The API key is never in
    a record. The words are `yjnb._status`'s.
    """

    kind: RecordKind
    status: RecordStatus
    model: str
    profile: str = "default"
    catelog: str | None = None
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None
    prompt: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    taskid: str | None = None
    usage_id: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    total_tokens: int | None = None
    credits: float | None = None  # None: the platform did not report any (chat on Yuanjing)
    credits_estimate: float | None = None  # from the user's price table, when not reported
    media_seconds: float | None = None
    resolution: str | None = None
    latency_s: float | None = None
    ttft_s: float | None = None
    error: str | None = None
    video_url: str | None = None
    image_url: str | None = None
    local_path: str | None = None
    usage_raw: dict[str, Any] | None = None
    # What an interrupted chat had received (its partial answer): the user paid for it.
    partial_text: str | None = None
    # Made against the demo emulator: kept apart from real spending (budgets, totals).
    demo: bool = False
    # The experiment (`yjnb.experiment`) the call was made for, and that run's id.
    experiment: str | None = None
    run_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
