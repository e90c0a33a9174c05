"""What a magic's protocol decides: the catalog, the default models, the per-cell checks.

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

from typing import Any

from IPython.core.error import UsageError

from .. import _catalog
from .._base import OPENAI_DEFAULTS
from .._config import Settings, load_settings

__all__ = [
    "PART_PROTOCOLS",
    "catalog_name",
    "check_platform_option",
    "default_model",
    "kind_catelogs",
    "profile_settings",
    "require_protocol",
]

# Protocols whose chat takes image parts, and whose videos can be remixed.
PART_PROTOCOLS: frozenset[str] = frozenset({"openai", "gateway"})
TRAITS = {"chat": "model", "image": "image_model", "video": "video_model"}
# The gateway's "openai" platform serves OpenAI's own models; the others default as above.
GATEWAY_DEFAULTS = {"openai": {"chat": "gpt-4o-mini", "image": "dall-e-3", "video": "sora-2"}}


def catalog_name(protocol: str) -> str:
    """The catalog describing a protocol's models ("yuanjing" or "openai")."""
    return _catalog.catalog_for(protocol)


def kind_catelogs(kind: str, catalog: str) -> tuple[str, ...]:
    """The catelogs of one kind ("image" or "video") in a catalog, in `CATELOGS` order."""
    found = {s.catelog for s in _catalog.specs(catalog=catalog) if s.kind == kind}
    ordered = tuple(c for c in _catalog.CATELOGS if c in found)
    return ordered or (("t2i",) if kind == "image" else _catalog.VIDEO_CATELOGS)


def profile_settings(magics: Any, profile: str | None, platform: str | None = None) -> Settings:
    """The settings of a profile without needing its key (demo mode: no emulator started)."""
    return load_settings(
        profile=profile or magics.profile or None,
        demo=True if magics.demo else None,
        platform=platform,
    )


def default_model(magics: Any, kind: str, protocol: str, platform: str | None = None) -> str:
    """The trait's value if the user changed it, else the protocol's default for `kind`."""
    trait = TRAITS[kind]
    value = str(getattr(magics, trait))
    if protocol not in PART_PROTOCOLS or value != magics.trait_defaults(trait):
        return value
    if protocol == "gateway" and platform in GATEWAY_DEFAULTS:
        return GATEWAY_DEFAULTS[platform][kind]
    return OPENAI_DEFAULTS[kind]


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


def check_platform_option(settings: Settings, platform: str | None) -> None:
    """`--platform` only means something to a gateway profile."""
    if platform is not None:
        require_protocol(settings, "--platform needs", ("gateway",))
