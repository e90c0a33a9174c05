"""One vocabulary of statuses: what the ledger stores, cards and `%yj_tasks` show, the README lists.

Platforms name a task's states in their own words and casings (`CREATED`, `queued`,
`completed`...); the protocols fold them into `Task.status` (CREATED, PENDING, RUNNING,
SUCCEEDED, FAILED). Everything a user reads uses the words below instead, and this module is
the one place that maps one to the other, both ways.
"""

from __future__ import annotations

__all__ = [
    "STATUSES",
    "UNFINISHED",
    "platform_status",
    "status_word",
]

# word -> what it means (the README's table says the same).
STATUSES: dict[str, str] = {
    "pending": "submitted; the platform has not started it yet (it says CREATED or PENDING)",
    "running": "the platform is making it",
    "ok": "finished: the answer or the media are there",
    "failed": "the platform or the service refused it or gave up; the reason is kept",
    "timeout": "the wait's deadline passed; the task may still finish (%yj_tasks --resume)",
    "interrupted": "a chat cut short (its partial text is kept), or a task that could not be "
    "followed any further (the reason is kept)",
    "lost": "the service does not know the task (it answered 404); never polled again",
}
# What `%yj_tasks --resume` follows again: the platform may still finish these.
UNFINISHED = ("pending", "running", "timeout")

_WORDS = {
    "CREATED": "pending",
    "PENDING": "pending",
    "RUNNING": "running",
    "SUCCEEDED": "ok",
    "FAILED": "failed",
}
# A stored word back to a platform status, for a `Task` rebuilt from the ledger. `timeout`
# was still running at its deadline; `interrupted` and `lost` say nothing about the platform.
_PLATFORM = {
    "pending": "PENDING",
    "running": "RUNNING",
    "timeout": "RUNNING",
    "ok": "SUCCEEDED",
    "failed": "FAILED",
}


def status_word(platform: str | None) -> str:
    """The word for a `Task.status` (any casing); an unknown one is shown lower-cased."""
    key = str(platform or "").strip().upper()
    return _WORDS.get(key, key.lower() or "pending")


def platform_status(word: str | None) -> str | None:
    """The `Task.status` a stored word stands for; None when the word says nothing about the
    platform's side (`interrupted`, `lost`, or a word this yjnb does not know)."""
    return _PLATFORM.get(str(word or "").strip().lower())
