"""Conversations of %%yj_chat: one per (profile, model), kept in `Session.conversations`.

Consecutive cells that use the same model continue its conversation, up to
`YJMagics.max_history` exchanges (the oldest are dropped first); `--new` starts afresh. Only
complete answers join the history: an interrupted or failed call leaves it as it was. A
conversation remembers its system prompt: a later cell without `-s` keeps it, a cell with
`-s` replaces it.

The Yuanjing protocol takes one `prompt` and one `sys_prompt`, so the history travels inside
the prompt, as a transcript before the new message:

    <history>
    <user>
    first question
    </user>
    <assistant>
    first answer
    </assistant>
    </history>

    the new message

The openai and gateway protocols (`protocols.takes_messages`) take `messages`: they get the
history as OpenAI-style messages (system, then user/assistant pairs, then the new prompt), and
the plain prompt; the core puts attached images and files on the last user message. Only the
text of a prompt joins the history, never its attachments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..protocols import takes_messages

__all__ = ["Conversation", "Request", "conversation"]


@dataclass
class Request:
    """What one model is sent for one cell."""

    model: str
    prompt: str  # the user's prompt, interpolated
    system: str | None
    wire_prompt: str  # what goes in `prompt`: the transcript, then the prompt
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Conversation:
    """The exchanges so far with one model on one profile."""

    model: str
    system: str | None = None
    turns: list[tuple[str, str]] = field(default_factory=list)  # (prompt, answer)

    def request(
        self, prompt: str, *, system: str | None, max_history: int, protocol: str
    ) -> Request:
        """The request for a new prompt, carrying the last `max_history` exchanges."""
        if system is not None:
            self.system = system or None
        turns = self.turns[-max_history:] if max_history > 0 else []
        params: dict[str, Any] = {}
        wire = prompt
        if turns and takes_messages(protocol):
            messages: list[dict[str, str]] = []
            if self.system:
                messages.append({"role": "system", "content": self.system})
            for asked, answered in turns:
                messages += [
                    {"role": "user", "content": asked},
                    {"role": "assistant", "content": answered},
                ]
            messages.append({"role": "user", "content": prompt})
            params["messages"] = messages
        elif turns:
            wire = transcript(turns) + "\n\n" + prompt
        return Request(self.model, prompt, self.system, wire, params)

    def add(self, prompt: str, answer: str, max_history: int) -> None:
        self.turns.append((prompt, answer))
        del self.turns[: max(0, len(self.turns) - max(max_history, 0))]


def transcript(turns: list[tuple[str, str]]) -> str:
    parts = ["<history>"]
    for asked, answered in turns:
        parts += ["<user>", asked.strip(), "</user>", "<assistant>", answered.strip()]
        parts.append("</assistant>")
    parts.append("</history>")
    return "\n".join(parts)


def conversation(
    convs: dict[tuple[str, str], Conversation], profile: str, model: str, *, new: bool
) -> Conversation:
    """The conversation with `model` on `profile` in `convs`; `new` starts it afresh."""
    key = (profile, model)
    if new or key not in convs:
        convs[key] = Conversation(model)
    return convs[key]
