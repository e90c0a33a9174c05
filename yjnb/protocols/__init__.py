"""The wire protocols, and the registry: the only place a protocol's name is looked up.

| name              | class           | what it speaks                                          |
|-------------------|-----------------|---------------------------------------------------------|
| `yuanjing`        | `Yuanjing`      | the Yuanjing platform's current API (seed 001)          |
| `yuanjing-legacy` | `YuanjingLegacy`| its older video API (seeds 000, 002); alias `legacy`    |
| `openai`          | `OpenAI`        | an OpenAI-compatible service (seed 004)                 |
| `gateway`         | `Gateway`       | a multi-platform gateway, `/{platform}/v1` (seed 003)   |

Names resolve without importing the classes (settings use them at `%load_ext` time); a class
is imported the first time it is asked for. A protocol translates and performs no I/O: see
`base.Protocol`.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING

from .._errors import ValidationError

if TYPE_CHECKING:
    from .base import Protocol

__all__ = [
    "NAMES",
    "canonical",
    "capability_problem",
    "create",
    "get",
    "media_parameter_names",
    "supporting",
]

# name -> (module, class); the order is the one users see.
_CLASSES = {
    "yuanjing": ("yuanjing", "Yuanjing"),
    "yuanjing-legacy": ("yuanjing_legacy", "YuanjingLegacy"),
    "openai": ("openai", "OpenAI"),
    "gateway": ("gateway", "Gateway"),
}
_ALIASES = {"legacy": "yuanjing-legacy"}
NAMES = tuple(_CLASSES)


def canonical(name: str) -> str | None:
    """The protocol's own name for `name` (aliases and any casing), or None if unknown."""
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    return key if key in _CLASSES else None


def get(name: str) -> type[Protocol]:
    """The protocol class called `name`; `ValidationError` if there is none."""
    key = canonical(name)
    if key is None:
        raise ValidationError(f"unknown protocol {name!r}; expected one of {', '.join(NAMES)}")
    module, cls = _CLASSES[key]
    found: type[Protocol] = getattr(importlib.import_module(f".{module}", __name__), cls)
    return found


def create(name: str, base_url: str = "", platform: str | None = None) -> Protocol:
    """An instance of the protocol `name`, bound to a base URL and a default platform."""
    return get(name)(base_url, platform)


@functools.lru_cache(maxsize=1)
def media_parameter_names() -> frozenset[str]:
    """Every image or video parameter name (normalized and wire) that any model of any
    protocol's catalog takes: `size=` on a model without it is a parameter for the wrong
    model, not prompt text."""
    names: set[str] = set()
    for name in NAMES:
        catalog = create(name).catalog
        names |= catalog.known_names("image") | catalog.known_names("video")
    return frozenset(names)


def supporting(capability: str) -> list[str]:
    """The names of the protocols that have `capability`, in registry order."""
    return [name for name in NAMES if capability in get(name).capabilities]


def capability_problem(protocol: Protocol, capability: str, profile: str) -> str | None:
    """None when `protocol` has `capability`, else the one message saying which profiles do:
    "images need an openai or gateway profile; profile 'yuanjing' uses yuanjing"."""
    if protocol.supports(capability):
        return None
    from .base import CAPABILITIES

    names = " or ".join(supporting(capability))
    article = "an" if names[:1] in ("a", "e", "i", "o", "u") else "a"
    phrase = CAPABILITIES[capability]
    return f"{phrase} {article} {names} profile; profile {profile!r} uses {protocol.name}"
