"""The openai catalog (seed 004: the OpenAI-compatible service; also used for the gateway):
its data (`yjnb/protocols/openai_models.py`), which protocol owns which catalog (the registry),
the "size" type, and the openai catalog's `prepare`/`infer_catelog`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from yjnb import _catalog, protocols
from yjnb._catalog_types import ModelSpec, Param, Prepared
from yjnb._errors import ValidationError
from yjnb.protocols import openai, yuanjing

OAI = protocols.get("openai").catalog
YJ = protocols.get("yuanjing").catalog
NANO = ("nano-banana", "nano-banana-pro", "nano-banana-pro-2K", "nano-banana-pro-4K")
CLAUDE = (
    "claude-opus-4-5",
    "claude-opus-4-1",
    "claude-opus-4",
    "claude-sonnet-4-5",
    "claude-sonnet-4",
    "claude-3-7-sonnet",
    "claude-haiku-4-5",
    "claude-3-5-haiku",
    "claude-3-haiku",
)
RATIOS = "1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9"


def get(model: str, catelog: str) -> ModelSpec:
    s = OAI.spec(model, catelog)
    assert s is not None, f"{model} ({catelog}) missing"
    return s


def p(model: str, catelog: str, name: str) -> Param:
    param = get(model, catelog).param(name)
    assert param is not None, f"{model} ({catelog}) has no {name}"
    return param


def problems(model: str, catelog: str, prompt: str = "a cat", **params: Any) -> list[str]:
    with pytest.raises(ValidationError) as info:
        OAI.prepare(model, catelog, prompt, params)
    return info.value.problems


def ok(model: str, catelog: str, **params: Any) -> Prepared:
    return OAI.prepare(model, catelog, "a cat", params)


@pytest.fixture
def img(tmp_path: Path) -> Path:
    path = tmp_path / "a.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n a png")
    return path


# -- each protocol's catalog, through the registry --------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "catalog"),
    [
        ("yuanjing", "yuanjing"),
        ("yuanjing-legacy", "yuanjing"),
        ("legacy", "yuanjing"),
        ("openai", "openai"),
        ("gateway", "openai"),
        (" Gateway ", "openai"),
    ],
)
def test_each_protocols_catalog(protocol: str, catalog: str) -> None:
    assert protocols.get(protocol).catalog is {"yuanjing": YJ, "openai": OAI}[catalog]
    assert protocols.get(protocol).catalog.name == catalog


def test_protocols_share_catalogs() -> None:
    assert protocols.get("openai").catalog is protocols.get("gateway").catalog
    assert protocols.get("legacy").catalog is protocols.get("yuanjing").catalog
    assert protocols.get("yuanjing-legacy").catalog is yuanjing.CATALOG
    assert OAI is openai.CATALOG and YJ is yuanjing.CATALOG
    assert (YJ.title, OAI.title) == ("yjnb's catalog", "yjnb's openai catalog")


def test_unknown_protocol() -> None:
    with pytest.raises(ValidationError) as info:
        protocols.get("grpc")
    assert info.value.problems == [
        "unknown protocol 'grpc'; expected one of yuanjing, yuanjing-legacy, openai, gateway"
    ]


def test_catalogs_are_named_not_looked_up_by_name() -> None:
    # "gateway" is a protocol, not a catalog: it uses the openai catalog; "sora" is neither.
    assert protocols.get("gateway").catalog.name == "openai"
    with pytest.raises(ValidationError):
        protocols.get("sora")


def test_public_names() -> None:
    assert {protocols.get(n).catalog.name for n in protocols.NAMES} == {"yuanjing", "openai"}
    assert _catalog.__all__ == ["Catalog"]
    for name in ("CATALOGS", "catalog_for", "check_chat_params", "coerce_chat_params"):
        assert not hasattr(_catalog, name)


def test_catalogs_are_separate() -> None:
    assert YJ.spec("sora-2", "t2v") is None
    assert OAI.spec("viduq3-pro", "t2v") is None
    assert YJ.catelogs_of("sora-2") == []
    assert OAI.catelogs_of("qwen3-max") == []
    # no catalog named: the default (first) protocol's, Yuanjing's
    assert protocols.get(protocols.NAMES[0]).catalog.specs() == YJ.specs()
    assert OAI.llmid_for("sora-2", "t2v") is None


# -- the data ----------------------------------------------------------------------------------


def test_models_per_catelog() -> None:
    ids = {c: [s.id for s in OAI.specs(c)] for c in ("t2t", "t2i", "t2v", "i2v")}
    assert ids["t2t"] == [
        "auto",
        "gemini-2.5-flash",
        "gemini-3-flash-preview",
        "gemini-2.5-pro",
        "gemini-3-pro-preview",
        *CLAUDE,
        "gpt-5.2",
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4",
    ]
    assert ids["t2i"] == [*NANO, "dall-e-2", "dall-e-3"]
    assert ids["t2v"] == ids["i2v"] == ["veo-3.1", "sora-2", "sora-2-pro"]
    assert OAI.specs("ref2v") == []
    assert len(OAI.specs()) == 18 + 6 + 6


def test_vendors() -> None:
    assert get("gemini-3-pro-preview", "t2t").vendor == "Google"
    assert all(get(m, "t2t").vendor == "Anthropic" for m in CLAUDE)
    assert get("gpt-5.2", "t2t").vendor == "OpenAI"
    assert get("nano-banana-pro-4K", "t2i").vendor == "Google Vertex AI"
    assert get("dall-e-3", "t2i").vendor == "OpenAI"
    assert get("veo-3.1", "i2v").vendor == "Google Vertex AI"
    assert get("sora-2-pro", "t2v").vendor == "OpenAI"
    assert "veo-3.1-generate-001" in get("veo-3.1", "t2v").description


@pytest.mark.parametrize("model", NANO)
def test_nano_banana(model: str) -> None:
    s = get(model, "t2i")
    assert [(q.name, q.type, q.wire) for q in s.params] == [
        ("size", "size", "size"),
        ("response_format", "str", "response_format"),
        ("n", "int", "n"),
        ("quality", "str", "quality"),
        ("images", "files", "image"),
        ("mask", "file", "mask"),
    ]
    assert p(model, "t2i", "size").choices is None
    rf = p(model, "t2i", "response_format")
    assert (rf.choices, rf.default) == (("b64_json", "url"), "b64_json")
    n = p(model, "t2i", "n")
    assert (n.min, n.max, n.choices) == (1, 4, None)
    assert p(model, "t2i", "images").max_files == 7
    mask = p(model, "t2i", "mask")
    assert (mask.needs, mask.accepts_url, mask.required) == ("images", False, False)


def test_dalle() -> None:
    assert p("dall-e-2", "t2i", "size").choices == ("256x256", "512x512", "1024x1024")
    assert p("dall-e-2", "t2i", "images").max_files == 1
    assert get("dall-e-2", "t2i").param("quality") is None
    assert p("dall-e-3", "t2i", "size").choices == ("1024x1024", "1792x1024", "1024x1792")
    assert p("dall-e-3", "t2i", "n").choices == (1,)
    assert p("dall-e-3", "t2i", "quality").choices == ("standard", "hd")
    assert get("dall-e-3", "t2i").param("images") is None
    assert get("dall-e-3", "t2i").param("mask") is None


def test_videos() -> None:
    for catelog in ("t2v", "i2v"):
        veo = p("veo-3.1", catelog, "duration")
        assert (veo.type, veo.wire, veo.choices) == ("str", "seconds", ("8",))
        assert get("veo-3.1", catelog).param("size") is None
        for model in ("sora-2", "sora-2-pro"):
            assert p(model, catelog, "seconds").choices == ("4", "8", "12")
        assert p("sora-2", catelog, "size").choices == ("720x1280", "1280x720")
        assert p("sora-2-pro", catelog, "size").choices == (
            "720x1280",
            "1280x720",
            "1024x1792",
            "1792x1024",
        )
    for model in ("veo-3.1", "sora-2", "sora-2-pro"):
        ff = p(model, "i2v", "first_frame")
        assert (ff.type, ff.wire, ff.required, ff.accepts_url) == (
            "file",
            "input_reference",
            True,
            True,
        )
        assert get(model, "t2v").param("first_frame") is None
        assert OAI.catelogs_of(model) == ["t2v", "i2v"]


# -- the "size" type ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("16:9", "16:9"),
        (" 21:9 ", "21:9"),
        ("9 : 16", "9:16"),
        ("1024x1024", "1024x1024"),
        ("1024*1024", "1024x1024"),
        ("1024×1024", "1024x1024"),
        ("1536 X 640", "1536x640"),
    ],
)
def test_size_ratio_or_resolution(given: str, sent: str) -> None:
    assert ok("nano-banana-pro", "t2i", size=given).fields == {"size": sent}


@pytest.mark.parametrize("given", ["2:1", "16/9", "1024", "0x1024", "big", "1024x", ""])
def test_size_rejects_other_values(given: str) -> None:
    assert problems("nano-banana", "t2i", size=given) == [
        f"size {given!r} is not allowed for nano-banana (t2i); allowed: an aspect ratio "
        f"({RATIOS}) or a resolution WxH like 1024x1024"
    ]


def test_size_must_be_a_string() -> None:
    assert problems("nano-banana", "t2i", size=1024) == [
        "size must be a string like 16:9 or 1024x1024, got int"
    ]


def test_size_with_choices() -> None:
    assert ok("sora-2-pro", "t2v", size="1792*1024").fields == {"size": "1792x1024"}
    assert ok("dall-e-2", "t2i", size="512×512").fields == {"size": "512x512"}
    assert problems("sora-2", "t2v", size="1792x1024") == [
        "size '1792x1024' is not allowed for sora-2 (t2v); allowed: 720x1280, 1280x720"
    ]
    assert problems("dall-e-3", "t2i", size="16:9") == [
        "size '16:9' is not allowed for dall-e-3 (t2i); allowed: 1024x1024, 1792x1024, 1024x1792"
    ]


# -- prepare: images ---------------------------------------------------------------------------


def test_generation_fields() -> None:
    r = ok("nano-banana-pro", "t2i", size="16:9", n="2", response_format="URL", quality="4K")
    assert r == Prepared(
        model="nano-banana-pro",
        catelog="t2i",
        prompt="a cat",
        fields={"size": "16:9", "response_format": "url", "n": 2, "quality": "4K"},
        files=[],
        warnings=[],
        known=True,
    )


def test_image_field_problems() -> None:
    assert problems("nano-banana", "t2i", n=5, response_format="png") == [
        "response_format 'png' is not allowed for nano-banana (t2i); allowed: b64_json, url",
        "n 5 is out of range for nano-banana (t2i); allowed: 1-4",
    ]
    assert problems("dall-e-3", "t2i", n=2, quality="high") == [
        "n 2 is not allowed for dall-e-3 (t2i); allowed: 1",
        "quality 'high' is not allowed for dall-e-3 (t2i); allowed: standard, hd",
    ]


def test_edit_images_and_mask(img: Path) -> None:
    mask, png = io.BytesIO(img.read_bytes()), img.read_bytes()
    r = ok("nano-banana-pro", "t2i", images=[img, png], mask=mask, size="1:1")
    assert r.fields == {"size": "1:1"}
    assert r.files == [("image", img), ("image", png), ("mask", mask)]


def test_edit_takes_at_most_seven_images(img: Path) -> None:
    assert len(ok("nano-banana", "t2i", images=[img] * 7).files) == 7
    assert problems("nano-banana", "t2i", images=[img] * 8) == [
        "images: 8 files given; nano-banana (t2i) takes at most 7"
    ]
    assert problems("dall-e-2", "t2i", images=[img, img]) == [
        "images: 2 files given; dall-e-2 (t2i) takes at most 1"
    ]


def test_mask_needs_images(img: Path) -> None:
    assert problems("nano-banana", "t2i", mask=img) == [
        "mask is only used together with images for nano-banana (t2i)"
    ]


def test_edit_images_are_local_files(img: Path) -> None:
    url = "https://example.com/a.png"
    assert problems("nano-banana", "t2i", images=[url]) == [
        f"images: nano-banana (t2i) takes a local file here, not a URL: {url!r}"
    ]


def test_dalle3_has_no_edits(img: Path) -> None:
    assert problems("dall-e-3", "t2i", images=[img]) == [
        "unknown parameter 'images' for dall-e-3 (t2i); "
        "allowed: n, quality, response_format, size, style"
    ]


# -- prepare: videos ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [("duration", 8), ("seconds", 8), ("seconds", "8")])
def test_veo_seconds_is_sent_as_a_string(name: str, value: object) -> None:
    assert ok("veo-3.1", "t2v", **{name: value}).fields == {"seconds": "8"}


def test_veo_takes_only_eight_seconds() -> None:
    assert problems("veo-3.1", "t2v", duration=4, size="1280x720") == [
        "unknown parameter 'size' for veo-3.1 (t2v); allowed: duration",
        "duration '4' is not allowed for veo-3.1 (t2v); allowed: 8",
    ]


def test_sora_fields() -> None:
    r = ok("sora-2", "t2v", seconds=12, size="1280X720")
    assert r.fields == {"seconds": "12", "size": "1280x720"}
    assert problems("sora-2-pro", "t2v", duration="10") == [
        "duration '10' is not allowed for sora-2-pro (t2v); allowed: 4, 8, 12"
    ]


def test_i2v_first_frame(img: Path) -> None:
    r = ok("sora-2", "i2v", first_frame=img, seconds="4")
    assert (r.fields, r.files) == ({"seconds": "4"}, [("input_reference", img)])
    url = "https://example.com/a.png"
    r = ok("veo-3.1", "i2v", input_reference=url)
    assert (r.fields, r.files) == ({"input_reference": url}, [])
    assert problems("veo-3.1", "i2v") == [
        "first_frame is required for veo-3.1 (i2v) (sent as input_reference)"
    ]


def test_wrong_catelog_names_the_openai_catalog() -> None:
    assert problems("nano-banana", "t2v") == [
        "nano-banana has no t2v variant in yjnb's openai catalog; it has t2i"
    ]


# -- unknown models and chat -------------------------------------------------------------------


def test_unknown_model_passes_through_with_file_names_of_this_catalog(img: Path) -> None:
    r = OAI.prepare("seedance-1.0-pro", "i2v", "x", {"input_reference": str(img), "seconds": "5"})
    assert r.known is False
    assert r.warnings == [
        "model 'seedance-1.0-pro' is not in yjnb's openai catalog; parameters are sent unchecked"
    ]
    assert (r.fields, r.files) == ({"seconds": "5"}, [("input_reference", str(img))])
    # the yuanjing catalog has no input_reference: the same call sends it as text
    r = YJ.prepare("seedance-1.0-pro", "i2v", "x", {"input_reference": str(img)})
    assert (r.fields, r.files) == ({"input_reference": str(img)}, [])


def test_chat_models_pass_through() -> None:
    r = OAI.prepare("gemini-2.5-pro", "t2t", "hi", {"temperature": "0.7"})
    assert (r.known, r.fields, r.warnings) == (True, {"temperature": "0.7"}, [])


# -- infer_catelog -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "model", "params", "expected"),
    [
        ("image", "nano-banana", {"images": "a.png"}, "t2i"),
        ("chat", "gpt-4o", {}, "t2t"),
        ("video", "veo-3.1", {}, "t2v"),
        ("video", "veo-3.1", {"seconds": "8"}, "t2v"),
        ("video", "veo-3.1", {"first_frame": "a.png"}, "i2v"),
        ("video", "sora-2", {"input_reference": "a.png"}, "i2v"),
        ("video", "sora-2-pro", {"input_reference": None}, "t2v"),
        ("video", "sora-2", {"images": ["a.png"]}, "i2v"),
        ("video", "sora-2", {"catelog": "t2v", "first_frame": "a"}, "t2v"),
        ("video", "wan2.5-t2v", {"input_reference": "a.png"}, "i2v"),
        ("video", "wan2.5-t2v", {}, "t2v"),
    ],
)
def test_infer_catelog(kind: str, model: str, params: dict[str, Any], expected: str) -> None:
    assert OAI.infer_catelog(kind, model, params) == expected


def test_infer_catelog_yuanjing_is_unchanged() -> None:
    assert YJ.infer_catelog("video", "new-model", {"images": "a"}) == "ref2v"
    assert YJ.infer_catelog("video", "new-model", {"input_reference": "a"}) == "t2v"
    legacy = protocols.get("yuanjing-legacy").catalog
    assert legacy.infer_catelog("video", "new-model", {"images": "a"}) == "ref2v"
