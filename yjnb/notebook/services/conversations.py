"""Conversations of %%yj_chat: one per (profile, model), kept in `Session.conversations`.

Consecutive cells that use the same model continue its conversation, up to
`YJMagics.max_history` exchanges (the oldest are dropped first); `--new` starts afresh. Only
complete answers join the history: an interrupted or failed call leaves it as it was. A
conversation remembers its system prompt: a later cell without `-s` keeps it, a cell with
`-s` replaces it.

How the history travels is the protocol's business (`Protocol.history`): inside the prompt
as a transcript on Yuanjing (one `prompt`, one `sys_prompt`), as OpenAI-style `messages` on the
openai and gateway protocols. Only the text of a prompt joins the history, never its
attachments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...protocols.base import PreparedChat, Protocol

__all__ = ["Conversation", "Request", "conversation"]


@dataclass
class Request:
    """What one model is sent for one cell."""

    model: str
    prompt: str  # the user's prompt, interpolated
    system: str | None
    wire_prompt: str  # the prompt sent: on Yuanjing the transcript, then the prompt
    params: dict[str, Any] = field(default_factory=dict)  # `messages` on OpenAI-style ones
    prepared: PreparedChat | None = None  # the checked call, set before anything is sent


@dataclass
class Conversation:
    """The exchanges so far with one model on one profile."""

    model: str
    system: str | None = None
    turns: list[tuple[str, str]] = field(default_factory=list)  # (prompt, answer)

    def request(
        self, prompt: str, *, system: str | None, max_history: int, protocol: Protocol
    ) -> Request:
        """The request for a new prompt, carrying the last `max_history` exchanges."""
        if system is not None:
            self.system = system or None
        turns = self.turns[-max_history:] if max_history > 0 else []
        wire, params = protocol.history(prompt, self.system, turns)
        return Request(self.model, prompt, self.system, wire, dict(params))

    def add(self, prompt: str, answer: str, max_history: int) -> None:
        self.turns.append((prompt, answer))
        del self.turns[: max(0, len(self.turns) - max(max_history, 0))]


def conversation(
    convs: dict[tuple[str, str], Conversation], profile: str, model: str, *, new: bool
) -> Conversation:
    """The conversation with `model` on `profile` in `convs`; `new` starts it afresh."""
    key = (profile, model)
    if new or key not in convs:
        convs[key] = Conversation(model)
    return convs[key]
