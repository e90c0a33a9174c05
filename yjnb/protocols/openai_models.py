"""The OpenAI-compatible service's models (seed 004), as data: one `ModelSpec` per
(model, catelog). The "openai" and "gateway" protocols are checked against this catalog
(`yjnb.protocols.openai`); gateway models not listed here pass through unchecked.

Sources: seed 004 (models, vendors, the image `size` ratios, at most 7 edit images, mask, the
video `seconds`) and the wire contract of this work (response_format, n 1-4, the sora sizes).
For dall-e-2 and dall-e-3, OpenAI's own documentation: their sizes, dall-e-3's single image
and quality standard|hd, dall-e-2's single edit image; dall-e-3 has no edits.

Normalized names follow the Yuanjing catalog where the meaning is the same: `images` (edit
inputs, sent as ``image``), `first_frame` (sent as ``input_reference``), `duration` (sent as
``seconds``, a string on this wire). Chat models carry no parameters: `_chat_params` checks
those. To add a model: append a `ModelSpec` to `MODELS` and run the catalog tests.
"""

from __future__ import annotations

from .._catalog_types import ModelSpec, Param

# fmt: off
# -- parameter builders ------------------------------------------------------------------------


def size(choices: tuple[str, ...] | None = None, default: str | None = None) -> Param:
    """Without choices: an aspect ratio (16:9) or any resolution WxH (1024x1024)."""
    help = ("output size, " + "|".join(choices) if choices else
            "aspect ratio (1:1, 16:9, 9:16, 21:9...) or resolution WxH like 1024x1024")
    return Param("size", "size", "size", default=default, choices=choices, help=help)


def n(high: int) -> Param:
    # Seed 004 does not document n; the service's contract settles 1-4 (dall-e-3: only 1).
    return Param("n", "int", "n", default=1, choices=(1,) if high == 1 else None, min=1,
                 max=high, help=f"number of images, 1-{high}" if high > 1 else "number of images")


def images(max_files: int) -> Param:
    return Param("images", "files", "image", max_files=max_files,
                 help=f"images to edit (an edit request), at most {max_files}")


def seconds(choices: tuple[str, ...], default: str) -> Param:
    return Param("duration", "str", "seconds", default=default, choices=choices,
                 help="video length in seconds: " + "|".join(choices))


RESPONSE_FORMAT = Param("response_format", "str", "response_format", default="b64_json",
                        choices=("b64_json", "url"), help="b64_json (default) or url")
QUALITY = Param("quality", "str", "quality", help='output quality, e.g. "high", "4K"')
MASK = Param("mask", "file", "mask", needs="images",
             help="mask image: white areas are edited, black kept (needs images)")
FIRST_FRAME = Param("first_frame", "file", "input_reference", required=True, accepts_url=True,
                    help="reference image for the first frame (file or http(s) URL)")

# -- shared parameter sets ---------------------------------------------------------------------

NANO_BANANA = (size(), RESPONSE_FORMAT, n(4), QUALITY, images(7), MASK)
DALLE2 = (size(("256x256", "512x512", "1024x1024"), "1024x1024"), RESPONSE_FORMAT, n(4),
          images(1), MASK)
DALLE3 = (size(("1024x1024", "1792x1024", "1024x1792"), "1024x1024"), RESPONSE_FORMAT, n(1),
          Param("quality", "str", "quality", default="standard", choices=("standard", "hd"),
                help="standard or hd"),
          Param("style", "str", "style", default="vivid", choices=("vivid", "natural"),
                help="vivid or natural"))
VEO = (seconds(("8",), "8"),)
SORA_SECONDS = seconds(("4", "8", "12"), "4")
SORA2 = (SORA_SECONDS, size(("720x1280", "1280x720"), "720x1280"))
SORA2_PRO = (SORA_SECONDS,
             size(("720x1280", "1280x720", "1024x1792", "1792x1024"), "720x1280"))

CHAT = (
    ("auto", "OpenLLM", "自动选择模型"),
    ("gemini-2.5-flash", "Google", "Gemini 2.5 Flash"),
    ("gemini-3-flash-preview", "Google", "Gemini 3 Flash preview"),
    ("gemini-2.5-pro", "Google", "Gemini 2.5 Pro"),
    ("gemini-3-pro-preview", "Google", "Gemini 3 Pro preview"),
    ("claude-opus-4-5", "Anthropic", "Claude Opus 4.5"),
    ("claude-opus-4-1", "Anthropic", "Claude Opus 4.1"),
    ("claude-opus-4", "Anthropic", "Claude Opus 4"),
    ("claude-sonnet-4-5", "Anthropic", "Claude Sonnet 4.5"),
    ("claude-sonnet-4", "Anthropic", "Claude Sonnet 4"),
    ("claude-3-7-sonnet", "Anthropic", "Claude 3.7 Sonnet"),
    ("claude-haiku-4-5", "Anthropic", "Claude Haiku 4.5"),
    ("claude-3-5-haiku", "Anthropic", "Claude 3.5 Haiku"),
    ("claude-3-haiku", "Anthropic", "Claude 3 Haiku"),
    # "GPT全系列,如GPT-5.2等": a few; the Responses API (/responses) takes these only.
    ("gpt-5.2", "OpenAI", "GPT-5.2 (also on /responses)"),
    ("gpt-4o", "OpenAI", "GPT-4o (also on /responses)"),
    ("gpt-4o-mini", "OpenAI", "GPT-4o mini (also on /responses)"),
    ("gpt-4", "OpenAI", "GPT-4 (also on /responses)"),
)

# -- the models --------------------------------------------------------------------------------

MODELS: tuple[ModelSpec, ...] = (
    *(ModelSpec(mid, "t2t", vendor, desc) for mid, vendor, desc in CHAT),

    # images: generations, or edits when `images` are given
    ModelSpec("nano-banana", "t2i", "Google Vertex AI", "Nano Banana 图片生成与编辑",
              NANO_BANANA),
    ModelSpec("nano-banana-pro", "t2i", "Google Vertex AI", "Nano Banana Pro 图片生成与编辑",
              NANO_BANANA),
    ModelSpec("nano-banana-pro-2K", "t2i", "Google Vertex AI", "Nano Banana Pro, 2K 输出",
              NANO_BANANA),
    ModelSpec("nano-banana-pro-4K", "t2i", "Google Vertex AI", "Nano Banana Pro, 4K 输出",
              NANO_BANANA),
    ModelSpec("dall-e-2", "t2i", "OpenAI", "DALL·E 2 (edits: one square PNG)", DALLE2),
    ModelSpec("dall-e-3", "t2i", "OpenAI", "DALL·E 3 (generations only)", DALLE3),

    # videos: t2v, and i2v when a first frame (input_reference) is given
    ModelSpec("veo-3.1", "t2v", "Google Vertex AI", "Veo 3.1 文生视频 (veo-3.1-generate-001)",
              VEO),
    ModelSpec("sora-2", "t2v", "OpenAI", "Sora 2 文生视频", SORA2),
    ModelSpec("sora-2-pro", "t2v", "OpenAI", "Sora 2 Pro 文生视频", SORA2_PRO),
    ModelSpec("veo-3.1", "i2v", "Google Vertex AI", "Veo 3.1 图生视频 (veo-3.1-generate-001)",
              (FIRST_FRAME, *VEO)),
    ModelSpec("sora-2", "i2v", "OpenAI", "Sora 2 图生视频", (FIRST_FRAME, *SORA2)),
    ModelSpec("sora-2-pro", "i2v", "OpenAI", "Sora 2 Pro 图生视频", (FIRST_FRAME, *SORA2_PRO)),
)
# fmt: on
