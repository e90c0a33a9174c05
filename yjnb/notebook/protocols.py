"""The profile's protocol as the notebook layer needs it: the protocol object, the default
models, and capability checks worded as one-line `UsageError`s.

Every decision that depends on the protocol is asked of the protocol (`yjnb.protocols`): its
catalog, its default models, what it can do. Nothing here compares protocol names.

Default models: `YJMagics.model`, `image_model` and `video_model` win once set; left empty
(their default), the profile's protocol decides (`Protocol.default_model`: qwen3-max on
Yuanjing, gemini-2.5-flash on an OpenAI-style service, gpt-4o-mini on a gateway's openai
platform...), exactly as `yjnb.Client` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from .. import protocols
from .._errors import ValidationError

if TYPE_CHECKING:
    from .._config import Settings
    from ..protocols.base import Protocol
    from .session import Options

__all__ = ["check_platform_option", "default_model", "protocol_of", "require", "usage_error"]

TRAITS = {"chat": "model", "image": "image_model", "video": "video_model"}


def protocol_of(settings: Settings) -> Protocol:
    """The protocol object of a profile's settings (no key needed, nothing sent)."""
    return protocols.create(settings.protocol, settings.base_url, settings.platform)


def default_model(options: Options, kind: str, settings: Settings) -> str:
    """The `YJMagics` setting for `kind` if set, else the profile's protocol's default."""
    chosen = str(getattr(options, TRAITS[kind]) or "").strip()
    return chosen or protocol_of(settings).default_model(kind)


def require(settings: Settings, capability: str) -> None:
    """A one-line UsageError, before anything is sent, when the profile's protocol lacks a
    capability ("remix", "platform", ...; see `yjnb.protocols.base.CAPABILITIES`)."""
    problem = protocols.capability_problem(protocol_of(settings), capability, settings.profile)
    if problem is not None:
        raise UsageError(f"{problem}; nothing was sent")


def check_platform_option(settings: Settings, platform: str | None) -> None:
    """`--platform` only means something to a protocol with platforms (the gateway)."""
    if platform is not None:
        require(settings, "platform")


def usage_error(exc: ValidationError, what: str = "") -> UsageError:
    """The core's `ValidationError` reworded for a magic: every problem, on one line."""
    count = len(exc.problems)
    plural = "problem" if count == 1 else "problems"
    where = f" with {what}" if what else ""
    return UsageError(f"nothing was sent; {count} {plural}{where}: " + "; ".join(exc.problems))
