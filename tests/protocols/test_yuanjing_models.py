"""The Yuanjing catalog's data (`yjnb/protocols/yuanjing_models.py`) against the seed tables
(001 current API; 000/002 for llmids), and the `Catalog` lookups over it: spec, specs,
catelogs_of, llmid_for, infer_catelog. Also the consistency of every protocol's catalog."""

from __future__ import annotations

from typing import Any

import pytest

from yjnb import protocols
from yjnb._catalog_coerce import size_key
from yjnb._catalog_types import CATELOGS, FILE_NAMES, PARAM_TYPES, RESERVED, ModelSpec, Param
from yjnb._errors import ValidationError

YJ = protocols.get("yuanjing").catalog
# Every protocol's catalog, by its name ("yuanjing", "openai"): several protocols share one.
CATALOGS = {protocols.get(n).catalog.name: protocols.get(n).catalog for n in protocols.NAMES}

RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16")
SEEDANCE2 = (
    "doubao-seedance-2-0-260128",
    "doubao-seedance-2-0-fast-260128",
    "dreamina-seedance-2-0-260128",
    "dreamina-seedance-2-0-fast-260128",
)


def get(model: str, catelog: str) -> ModelSpec:
    s = YJ.spec(model, catelog)
    assert s is not None, f"{model} ({catelog}) missing"
    return s


def p(model: str, catelog: str, name: str) -> Param:
    param = get(model, catelog).param(name)
    assert param is not None, f"{model} ({catelog}) has no {name}"
    return param


def test_catelog_constants() -> None:
    assert CATELOGS == ("t2t", "t2i", "t2v", "i2v", "ref2v")
    assert FILE_NAMES == ("first_frame", "last_frame", "images", "videos", "audios")


def test_models_per_catelog() -> None:
    ids = {c: [s.id for s in YJ.specs(c)] for c in CATELOGS}
    assert ids["t2t"] == ["qwen3-max", "qwen-plus", "deepseek-r1"]
    assert ids["t2i"] == [
        "wan2.2-t2i-plus",
        "wan2.5-t2i-preview",
        "wan2.2-t2i-flash",
        "cogview-3-flash",
    ]
    assert ids["t2v"] == [
        "happyhorse-1.0-t2v",
        *SEEDANCE2,
        "doubao-seedance-1-5-pro-251215",
        "wan2.6-t2v",
        "viduq3-pro",
    ]
    assert ids["i2v"] == [
        "happyhorse-1.0-i2v",
        *SEEDANCE2,
        "doubao-seedance-1-5-pro-251215",
        "viduq3-pro",
        "wan2.6-r2v",
    ]
    assert ids["ref2v"] == ["happyhorse-1.0-r2v", *SEEDANCE2]
    assert len(YJ.specs()) == 28


# Per catalog: the normalized names of single-file and multi-file parameters, and the catelogs
# that may take files (openai: an image edit is t2i with `images`).
FILE_RULES = {
    "yuanjing": (("first_frame", "last_frame"), ("images", "videos", "audios"), ("i2v", "ref2v")),
    "openai": (("first_frame", "mask"), ("images",), ("t2i", "i2v")),
}


@pytest.mark.parametrize("name", sorted(CATALOGS))
def test_every_spec_is_consistent(name: str) -> None:
    singles, multis, file_catelogs = FILE_RULES[name]
    catalog = CATALOGS[name]
    seen: set[tuple[str, str]] = set()
    assert catalog.specs()
    for s in catalog.specs():
        assert (s.id, s.catelog) not in seen
        seen.add((s.id, s.catelog))
        assert catalog.spec(s.id, s.catelog) is s
        assert s.catelog in CATELOGS and s.vendor and s.description
        assert s.kind == {"t2t": "chat", "t2i": "image"}.get(s.catelog, "video")
        if s.catelog == "t2t":
            assert s.params == ()
        names = [p.name for p in s.params]
        wires = [p.wire for p in s.params]
        assert len(set(names)) == len(names) and len(set(wires)) == len(wires), s.id
        for p in s.params:
            where = f"{s.id} ({s.catelog}) {p.name}"
            assert p.type in PARAM_TYPES, where
            assert p.name not in RESERVED and p.wire not in RESERVED, where
            assert p.help, where
            assert s.param(p.name) is p and s.param(p.wire) is p, where
            if p.name in singles:
                assert p.type == "file", where
            elif p.name in multis:
                assert p.type == "files", where
            else:
                assert p.type not in ("file", "files"), where
            if p.type in ("file", "files"):
                assert p.default is None and p.choices is None, where
                assert s.catelog in file_catelogs, where
            if p.accepts_url:
                assert p.type == "file", where
            if p.max_files is not None:
                assert p.type == "files" and p.max_files >= 1, where
            if p.needs is not None:
                assert p.needs in names and p.needs != p.name and not p.required, where
            if p.type == "yn":
                assert p.choices == ("Y", "N"), where
            if p.type == "size" and p.choices is not None:
                assert all(size_key(c) == c and "x" in c for c in p.choices), where
            if p.type == "int":
                assert p.choices is not None or p.min == 1, where  # never below 1 second
                if p.choices is not None:
                    assert all(isinstance(c, int) for c in p.choices), where
            if p.choices is not None and p.default is not None:
                assert p.default in p.choices, where
            if p.type == "int" and p.default is not None and p.choices is None:
                assert isinstance(p.default, int)
                assert p.min is None or p.default >= p.min, where
                assert p.max is None or p.default <= p.max, where
            if p.required:
                assert p.default is None, where


def test_text_to_image_models() -> None:
    for model in ("wan2.2-t2i-plus", "wan2.5-t2i-preview", "wan2.2-t2i-flash", "cogview-3-flash"):
        s = get(model, "t2i")
        assert s.params == (
            Param("negative_prompt", "str", "negative_prompt", default="", help=s.params[0].help),
        )
    assert get("cogview-3-flash", "t2i").vendor == "智谱AI"
    assert get("wan2.2-t2i-flash", "t2i").vendor == "阿里百炼"


def test_happyhorse() -> None:
    t2v = get("happyhorse-1.0-t2v", "t2v")
    assert [p.name for p in t2v.params] == ["resolution", "ratio", "duration"]
    assert p("happyhorse-1.0-t2v", "t2v", "resolution").choices == ("720P", "1080P")
    assert p("happyhorse-1.0-t2v", "t2v", "resolution").default == "720P"
    assert p("happyhorse-1.0-t2v", "t2v", "ratio").choices == (*RATIOS, "adaptive")
    dur = p("happyhorse-1.0-t2v", "t2v", "duration")
    assert (dur.default, dur.min, dur.max, dur.choices) == (5, 1, None, None)
    assert t2v.vendor == "阿里云"

    ff = p("happyhorse-1.0-i2v", "i2v", "first_frame")
    assert (ff.wire, ff.type, ff.required, ff.accepts_url) == ("image_file", "file", True, False)
    assert [p.name for p in get("happyhorse-1.0-i2v", "i2v").params] == [
        "first_frame",
        "resolution",
        "duration",
    ]

    imgs = p("happyhorse-1.0-r2v", "ref2v", "images")
    assert (imgs.wire, imgs.type, imgs.required, imgs.max_files) == (
        "image_files",
        "files",
        True,
        9,
    )
    assert p("happyhorse-1.0-r2v", "ref2v", "resolution").default == "1080P"
    assert p("happyhorse-1.0-r2v", "ref2v", "duration").default == 15
    assert p("happyhorse-1.0-r2v", "ref2v", "ratio").choices == RATIOS
    assert get("happyhorse-1.0-r2v", "ref2v").param("videos") is None


@pytest.mark.parametrize("model", SEEDANCE2)
def test_seedance2(model: str) -> None:
    t2v = get(model, "t2v")
    assert [p.name for p in t2v.params] == ["resolution", "ratio", "duration"]
    assert p(model, "t2v", "resolution").choices == ("480p", "720p", "1080p")
    assert p(model, "t2v", "resolution").default == "720p"
    assert p(model, "t2v", "duration").default == 5
    i2v = get(model, "i2v")
    wires = [(p.name, p.wire, p.required) for p in i2v.params if p.type == "file"]
    assert wires == [("first_frame", "image1_file", True), ("last_frame", "image2_file", True)]
    ref = get(model, "ref2v")
    files = [(p.name, p.wire, p.required, p.max_files) for p in ref.params if p.type == "files"]
    assert files == [
        ("images", "image_files", True, None),
        ("videos", "video_files", False, None),
        ("audios", "audio_files", False, None),
    ]
    assert p(model, "ref2v", "duration").default == 12
    assert p(model, "ref2v", "resolution").default == "1080p"
    assert t2v.vendor == ("We Token AI" if model.startswith("dreamina") else "豆包")


def test_seedance15() -> None:
    for catelog in ("t2v", "i2v"):
        ratio = p("doubao-seedance-1-5-pro-251215", catelog, "ratio")
        assert (ratio.wire, ratio.default) == ("ratio", None)
        assert ratio.choices == (*RATIOS, "adaptive")
        assert p("doubao-seedance-1-5-pro-251215", catelog, "duration").default == 12
    for name, wire in (("first_frame", "image_file1"), ("last_frame", "image_file2")):
        f = p("doubao-seedance-1-5-pro-251215", "i2v", name)
        assert (f.wire, f.required, f.accepts_url) == (wire, False, True)


def test_wan26() -> None:
    size = p("wan2.6-t2v", "t2v", "size")
    assert size.choices == (
        "832*480",
        "480*832",
        "624*624",
        "1280*720",
        "720*1280",
        "960*960",
        "1920*1080",
        "1080*1920",
        "1440*1440",
    )
    assert size.default == "1920*1080"
    dur = p("wan2.6-t2v", "t2v", "duration")
    assert (dur.choices, dur.default) == ((5, 10, 15), 15)
    assert p("wan2.6-t2v", "t2v", "negative_prompt").type == "str"
    r2v_size = p("wan2.6-r2v", "i2v", "size")
    assert r2v_size.choices is not None and len(r2v_size.choices) == 13
    assert "1632*1248" in r2v_size.choices
    for name, wire in (("first_frame", "image_file1"), ("last_frame", "image_file2")):
        f = p("wan2.6-r2v", "i2v", name)
        assert (f.wire, f.required, f.accepts_url) == (wire, True, True)
    assert YJ.catelogs_of("wan2.6-r2v") == ["i2v"]


def test_vidu() -> None:
    for catelog in ("t2v", "i2v"):
        off = p("viduq3-pro", catelog, "off_peak")
        assert (off.type, off.default, off.choices) == ("yn", "N", ("Y", "N"))
        dur = p("viduq3-pro", catelog, "duration")
        assert (dur.min, dur.max, dur.default) == (1, 16, 10)
        res = p("viduq3-pro", catelog, "resolution")
        assert (res.choices, res.default) == (("540p", "720p", "1080p"), "1080p")
        ratio = p("viduq3-pro", catelog, "ratio")
        assert (ratio.choices, ratio.default) == (("16:9", "9:16", "4:3", "3:4", "1:1"), "16:9")
    assert [p.name for p in get("viduq3-pro", "t2v").params] == [
        "off_peak",
        "duration",
        "ratio",
        "resolution",
    ]
    ff = p("viduq3-pro", "i2v", "image_file1")
    assert (ff.name, ff.required, ff.accepts_url) == ("first_frame", True, True)
    assert YJ.catelogs_of("viduq3-pro") == ["t2v", "i2v"]


def test_chat_models() -> None:
    for model in ("qwen3-max", "qwen-plus", "deepseek-r1"):
        assert get(model, "t2t").kind == "chat"
        assert YJ.catelogs_of(model) == ["t2t"]


@pytest.mark.parametrize(
    ("model", "catelog", "llmid"),
    [
        ("happyhorse-1.0-t2v", "t2v", "o5vfXYD5BURJWRTWpopE5"),
        ("doubao-seedance-2-0-260128", "t2v", "YjjGgxO_Xma8PWsMjJvps"),
        ("doubao-seedance-2-0-fast-260128", "t2v", "YjjGgxO_Xma8PWsMjJvps"),
        ("dreamina-seedance-2-0-260128", "t2v", "TWay-xd0p0pkEX-_Kuhto"),
        ("dreamina-seedance-2-0-fast-260128", "t2v", "TWay-xd0p0pkEX-_Kuhto"),
        ("doubao-seedance-1-5-pro-251215", "t2v", "CrEMkFQfRCmbmopZsCqLj"),
        ("wan2.6-t2v", "t2v", "u9HZyfDoqU6uKI6M1BTks"),
        ("viduq3-pro", "t2v", "r0ill7L0s6PtBS8mkmg-7"),
        ("happyhorse-1.0-i2v", "i2v", "7y7kfYM0Xasizyi37WvAZ"),
        ("doubao-seedance-2-0-260128", "i2v", "UeYax4591ytnPcr9eumry"),
        ("dreamina-seedance-2-0-fast-260128", "i2v", "tb0VSY6WeyGbzaolU1_qE"),
        ("doubao-seedance-1-5-pro-251215", "i2v", "7RTOJD6K8A7RXCMG4GnQ9"),
        ("viduq3-pro", "i2v", "FK_h7FLYnosv2TkMN4ATC"),
        ("wan2.6-r2v", "i2v", "x4HksKp9mXR1Yv60mw6Py"),
        ("happyhorse-1.0-r2v", "ref2v", "6o9n_7u2K927hNlD8_72f"),
        ("doubao-seedance-2-0-fast-260128", "ref2v", "dmPXF65TD1riKj9KaxLmg"),
        ("dreamina-seedance-2-0-260128", "ref2v", "nVbH7lEO51soqTbLGIHE_"),
    ],
)
def test_llmid_for(model: str, catelog: str, llmid: str) -> None:
    assert YJ.llmid_for(model, catelog) == llmid


def test_llmid_absent() -> None:
    assert YJ.llmid_for("wan2.2-t2i-flash", "t2i") is None
    assert YJ.llmid_for("qwen3-max", "t2t") is None
    assert YJ.llmid_for("viduq3-pro", "ref2v") is None
    assert YJ.llmid_for("no-such-model", "t2v") is None
    assert all(s.llmid for s in YJ.specs() if s.kind == "video")


def test_lookups() -> None:
    assert YJ.spec("viduq3-pro", "ref2v") is None
    assert YJ.spec("nope", "t2v") is None
    assert YJ.catelogs_of("nope") == []
    assert YJ.catelogs_of("doubao-seedance-2-0-260128") == ["t2v", "i2v", "ref2v"]
    assert get("viduq3-pro", "t2v").param("image_file1") is None
    assert get("viduq3-pro", "i2v").param("nope") is None


# -- infer_catelog -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "model", "params", "expected"),
    [
        ("image", "wan2.2-t2i-flash", {}, "t2i"),
        ("image", "whatever", {"images": "a.jpg"}, "t2i"),
        ("chat", "qwen3-max", {}, "t2t"),
        ("video", "viduq3-pro", {}, "t2v"),
        ("video", "viduq3-pro", {"first_frame": "a.jpg"}, "i2v"),
        ("video", "viduq3-pro", {"image_file2": "a.jpg"}, "i2v"),
        ("video", "viduq3-pro", {"first_frame": None}, "t2v"),
        ("video", "viduq3-pro", {"catelog": "i2v"}, "i2v"),
        ("video", "doubao-seedance-2-0-260128", {"images": ["a"]}, "ref2v"),
        ("video", "doubao-seedance-2-0-260128", {"audio_files": ["a"]}, "ref2v"),
        ("video", "doubao-seedance-2-0-260128", {"image1_file": "a"}, "i2v"),
        ("video", "doubao-seedance-2-0-260128", {"first_frame": "a", "videos": "v"}, "ref2v"),
        ("video", "doubao-seedance-2-0-260128", {"catelog": "t2v", "images": "a"}, "t2v"),
        ("video", "happyhorse-1.0-i2v", {}, "i2v"),
        ("video", "happyhorse-1.0-r2v", {"duration": 5}, "ref2v"),
        ("video", "wan2.6-r2v", {}, "i2v"),
        ("video", "happyhorse-1.0-t2v", {"first_frame": "a"}, "t2v"),
        ("video", "new-model", {"image_files": "a"}, "ref2v"),
        ("video", "new-model", {"image_file": "a"}, "i2v"),
        ("video", "new-model", {"duration": 4}, "t2v"),
    ],
)
def test_infer_catelog(kind: str, model: str, params: dict[str, Any], expected: str) -> None:
    assert YJ.infer_catelog(kind, model, params) == expected


def test_infer_catelog_rejects_unknown_kind() -> None:
    with pytest.raises(ValidationError, match="unknown kind 'audio'"):
        YJ.infer_catelog("audio", "x", {})
