"""Record builders for the ledger tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from yjnb._types import UsageRecord

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


def chat_record(**overrides: Any) -> UsageRecord:
    values: dict[str, Any] = {
        "kind": "chat",
        "status": "ok",
        "model": "qwen3-max",
        "profile": "yuanjing",
        "catelog": "t2t",
        "started_at": T0,
        "finished_at": T0 + timedelta(seconds=2),
        "prompt": "你是谁",
        "params": {"system": "be brief", "temperature": 0.3},
        "usage_id": "u-1",
        "prompt_tokens": 10,
        "completion_tokens": 26,
        "cached_tokens": 0,
        "total_tokens": 36,
        "latency_s": 2.0,
        "ttft_s": 0.4,
        "usage_raw": {"total_tokens": 36},
    }
    values.update(overrides)
    return UsageRecord(**values)


def task_record(status: str = "pending", **overrides: Any) -> UsageRecord:
    values: dict[str, Any] = {
        "kind": "video",
        "status": status,
        "model": "viduq3-pro",
        "profile": "yuanjing",
        "catelog": "t2v",
        "started_at": T0,
        "prompt": "a cat on the moon",
        "params": {"duration": 4},
        "taskid": "task-1",
    }
    if status not in ("pending", "running"):
        values.update(
            finished_at=T0 + timedelta(seconds=30),
            latency_s=30.0,
            credits=25.0 if status == "ok" else None,
            media_seconds=4.0 if status == "ok" else None,
            resolution="720p",
            video_url="http://127.0.0.1/idfile?path=/tmp/v.mp4" if status == "ok" else None,
            error="content policy" if status == "failed" else None,
        )
    values.update(overrides)
    return UsageRecord(**values)
