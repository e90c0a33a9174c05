"""Model tables of the OpenAI-compatible service (seed 004) and the gateway (seed 003).

Seed 004 names its chat, image and video models; "GPT全系列" is read as "any ``gpt-*``
name", so chat and ``/v1/responses`` accept every ``gpt-`` model, listed or not. The
gateway seed names no platforms, so the emulator picks four (see ``PLATFORMS``); a gateway
model is only usable on its own platform.

Video status spellings vary by model, as seed 004's table allows (success / failure):

=====================  =============  ==========
sora-2, veo-3.1        ``completed``  ``failed``
sora-2-pro             ``succeeded``  ``FAILURE``
seedance-1.0-pro       ``succeeded``  ``failed``
wan2.5-t2v             ``completed``  ``FAILURE``
=====================  =============  ==========
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .context import ApiError

CREATED = 1640995200  # the seed's "created" for every model
OWNER = "openllms"

GEMINI = ("gemini-2.5-flash", "gemini-3-flash-preview", "gemini-2.5-pro", "gemini-3-pro-preview")
CLAUDE = (
    "claude-opus-4-5", "claude-opus-4-1", "claude-opus-4", "claude-sonnet-4-5", "claude-sonnet-4",
    "claude-3-7-sonnet", "claude-haiku-4-5", "claude-3-5-haiku", "claude-3-haiku",
)  # fmt: skip
GPT = ("gpt-4o", "gpt-4o-mini", "gpt-4", "gpt-4.1", "gpt-5", "gpt-5-mini", "gpt-5.2")
IMAGE_MODELS = (
    "nano-banana", "nano-banana-pro", "nano-banana-pro-2K", "nano-banana-pro-4K",
    "dall-e-2", "dall-e-3",
)  # fmt: skip
VIDEO_MODELS = ("veo-3.1", "veo-3.1-generate-001", "sora-2", "sora-2-pro")

#: /v1 model -> kind ("chat", "image", "video"); "auto" is the seed's chat alias
OPENAI: dict[str, str] = {
    **dict.fromkeys(("auto", *GEMINI, *CLAUDE, *GPT), "chat"),
    **dict.fromkeys(IMAGE_MODELS, "image"),
    **dict.fromkeys(VIDEO_MODELS, "video"),
}

#: gateway platform -> {model: kind}
PLATFORMS: dict[str, dict[str, str]] = {
    "openai": {"gpt-4o": "chat", "gpt-4o-mini": "chat", "dall-e-3": "image", "sora-2": "video"},
    "google": {
        "gemini-2.5-pro": "chat",
        "gemini-2.5-flash": "chat",
        "nano-banana": "image",
        "nano-banana-pro": "image",
        "veo-3.1": "video",
    },
    "doubao": {"doubao-seed-1.6": "chat", "seedream-4.0": "image", "seedance-1.0-pro": "video"},
    "qwen": {
        "qwen3-max": "chat",
        "qwen-vl-max": "chat",
        "wan2.5-t2i": "image",
        "wan2.5-t2v": "video",
    },
}

KIND_NAMES = {"chat": "a chat", "image": "an image", "video": "a video"}

SORA_SIZES = ("720x1280", "1280x720")
PRO_SIZES = (*SORA_SIZES, "1024x1792", "1792x1024")
VEO_SIZES = ("1280x720", "720x1280", "1920x1080", "1080x1920")


@dataclass(frozen=True)
class VideoRule:
    """What one video model accepts and how it spells its final states."""

    seconds: tuple[str, ...] | None  # None: any whole number of seconds 1-12
    default_seconds: str
    sizes: tuple[str, ...] | None  # None: any WxH
    default_size: str
    success: str = "completed"
    failure: str = "failed"


VIDEO_RULES = {
    "veo-3.1": VideoRule(("8",), "8", VEO_SIZES, "1280x720"),
    "sora-2": VideoRule(("4", "8", "12"), "4", SORA_SIZES, "720x1280"),
    "sora-2-pro": VideoRule(("4", "8", "12"), "4", PRO_SIZES, "720x1280", "succeeded", "FAILURE"),
    "seedance-1.0-pro": VideoRule(None, "5", None, "1280x720", "succeeded", "failed"),
    "wan2.5-t2v": VideoRule(None, "5", None, "1280x720", "completed", "FAILURE"),
}
VIDEO_ALIASES = {"veo-3.1-generate-001": "veo-3.1"}


def video_rule(model: str) -> VideoRule:
    return VIDEO_RULES[VIDEO_ALIASES.get(model, model)]


def check_platform(platform: str | None) -> None:
    if platform is not None and platform not in PLATFORMS:
        known = ", ".join(PLATFORMS)
        raise ApiError(
            404, f"Unknown platform `{platform}` (known: {known})", code="platform_not_found"
        )


def kind_of(model: str, platform: str | None) -> str | None:
    """The model's kind where it is asked for, or None when it does not exist there."""
    if platform is not None:
        return PLATFORMS[platform].get(model)
    if model in OPENAI:
        return OPENAI[model]
    return "chat" if model.startswith("gpt-") else None


def resolve(raw: Any, platform: str | None, want: str) -> str:
    """The model name from a request, checked to exist and to be of kind ``want``."""
    if raw is None or raw == "":
        raise ApiError(400, "Missing required parameter: model", code="missing_required_parameter")
    if not isinstance(raw, str):
        raise ApiError(400, "Invalid parameter: model must be a string")
    kind = kind_of(raw, platform)
    if kind is None:
        if platform is not None:
            message = f"model {raw} is not available on platform {platform}"
        else:
            message = f"The model `{raw}` does not exist"
        raise ApiError(404, message, code="model_not_found")
    if kind != want:
        message = f"Invalid parameter: model `{raw}` is not {KIND_NAMES[want]} model"
        raise ApiError(400, message, code="invalid_model")
    return raw


def models_for(platform: str | None) -> list[dict[str, Any]]:
    names = list(PLATFORMS[platform]) if platform is not None else list(OPENAI)
    owner = platform or OWNER
    return [{"id": n, "object": "model", "created": CREATED, "owned_by": owner} for n in names]
