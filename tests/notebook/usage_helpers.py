"""Helpers for the budget and usage tests: spend credits here, or as another kernel would."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from yjnb._types import UsageRecord
from yjnb.ledger import default_ledger

VIDEO = {"model": "viduq3-pro", "duration": 1}  # 25 credits on the emulator


def spend_video(magics: Any) -> float:
    task = magics.session.client().video("a cat on the moon", **VIDEO)
    assert task.credits == 25.0
    return float(task.credits)


def other_kernel_spends(credits: float) -> None:
    """A row written by another process: in today's total, not in this session's."""
    default_ledger().record(
        UsageRecord(
            kind="video",
            status="ok",
            model="viduq3-pro",
            taskid=f"elsewhere-{credits}",
            credits=credits,
            started_at=datetime.now(timezone.utc),
        )
    )
