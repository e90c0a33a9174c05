"""What depends on a profile's protocol, in one place: the catalog, the default models, which
features a protocol offers and the per-cell checks. Every other module of the notebook layer
asks a function here instead of comparing protocol names.

Protocols: `yuanjing` and `yuanjing-legacy` (the Yuanjing platform, catalog "yuanjing"),
`openai` (an OpenAI-compatible service) and `gateway` (a multi-platform gateway,
`/{platform}/v1/...`), both with the "openai" catalog. The last two take message *parts*
(images on a chat message, files on the gateway), remix finished videos and, for `openai`,
the Responses API.

Default models: `YJMagics.model`, `image_model` and `video_model` apply to every profile once
set to something other than their built-in value; left at it, an openai or gateway profile
uses the defaults below instead (a Yuanjing model would not exist there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from .. import _catalog
from .._base import OPENAI_DEFAULTS
from .._config import Settings

if TYPE_CHECKING:
    from .session import Options

__all__ = [
    "MESSAGE_PROTOCOLS",
    "PART_PROTOCOLS",
    "catalog_name",
    "check_platform_option",
    "checks_chat_params",
    "default_model",
    "has_default_base_url",
    "has_platforms",
    "kind_catelogs",
    "require_feature",
    "require_protocol",
    "takes_messages",
]

# Protocols whose chat takes image parts, and whose videos can be remixed.
PART_PROTOCOLS: frozenset[str] = frozenset({"openai", "gateway"})
# Protocols whose chat endpoint takes an OpenAI-style `messages` list.
MESSAGE_PROTOCOLS: frozenset[str] = frozenset({"openai", "gateway"})
TRAITS = {"chat": "model", "image": "image_model", "video": "video_model"}
# The gateway's "openai" platform serves OpenAI's own models; the others default as above.
GATEWAY_DEFAULTS = {"openai": {"chat": "gpt-4o-mini", "image": "dall-e-3", "video": "sora-2"}}
# What a feature needs: the start of the refusal, then the protocols that offer it.
FEATURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "images": ("images need", ("openai", "gateway")),
    "files": ("files need", ("gateway",)),
    "responses": ("--api responses needs", ("openai",)),
    "remix": ("--remix needs", ("openai", "gateway")),
    "platform": ("--platform needs", ("gateway",)),
}


def catalog_name(protocol: str) -> str:
    """The catalog describing a protocol's models ("yuanjing" or "openai")."""
    return _catalog.catalog_for(protocol)


def kind_catelogs(kind: str, catalog: str) -> tuple[str, ...]:
    """The catelogs of one kind ("image" or "video") in a catalog, in `CATELOGS` order."""
    found = {s.catelog for s in _catalog.specs(catalog=catalog) if s.kind == kind}
    ordered = tuple(c for c in _catalog.CATELOGS if c in found)
    return ordered or (("t2i",) if kind == "image" else _catalog.VIDEO_CATELOGS)


def default_model(options: Options, kind: str, protocol: str, platform: str | None = None) -> str:
    """The setting's value if the user changed it, else the protocol's default for `kind`."""
    trait = TRAITS[kind]
    value = str(getattr(options, trait))
    if protocol not in PART_PROTOCOLS or value != options.trait_defaults(trait):
        return value
    if protocol == "gateway" and platform in GATEWAY_DEFAULTS:
        return GATEWAY_DEFAULTS[platform][kind]
    return OPENAI_DEFAULTS[kind]


def has_platforms(protocol: str) -> bool:
    """Whether a profile of this protocol names a platform (`/{platform}/v1`)."""
    return protocol == "gateway"


def has_default_base_url(protocol: str) -> bool:
    """Whether a new profile of this protocol may leave out its base URL (Yuanjing's own)."""
    return protocol.startswith("yuanjing")


def takes_messages(protocol: str) -> bool:
    """Whether the chat endpoint takes the history as `messages` (else inside the prompt)."""
    return protocol in MESSAGE_PROTOCOLS


def checks_chat_params(protocol: str) -> bool:
    """Whether %%yj_chat checks the chat parameters before sending (the core's rules)."""
    return protocol in PART_PROTOCOLS


def require_protocol(settings: Settings, what: str, allowed: tuple[str, ...]) -> None:
    """A one-line UsageError, before anything is sent, when a feature needs another protocol.

    `what` reads as the start of the message: "images need", "--remix needs"."""
    if settings.protocol in allowed:
        return
    names = " or ".join(allowed)
    article = "an" if names[0] in "aeiou" else "a"
    raise UsageError(
        f"{what} {article} {names} profile; profile {settings.profile!r} uses {settings.protocol}; "
        "nothing was sent"
    )


def require_feature(settings: Settings, feature: str) -> None:
    """`require_protocol` for one of `FEATURES`: "images", "files", "responses", "remix"..."""
    what, allowed = FEATURES[feature]
    require_protocol(settings, what, allowed)


def check_platform_option(settings: Settings, platform: str | None) -> None:
    """`--platform` only means something to a gateway profile."""
    if platform is not None:
        require_feature(settings, "platform")
