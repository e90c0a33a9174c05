"""The emulator's own model table, read from the platform seeds (not from the client's catalog).

Each media model is described per catelog by a :class:`Spec`: accepted enumerations, integer
ranges, file fields and the price family. Where the seeds disagree on an enumeration, the
emulator accepts the union (it must not reject what the real platform documents somewhere);
seed 001 is followed for the required file field names of the current API.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RATIOS_5 = ("16:9", "4:3", "1:1", "3:4", "9:16")
SEEDANCE_RATIOS = (*RATIOS_5, "adaptive", "21:9", "9:21", "keep_ratio")
WAN_SIZES = (
    "832*480", "480*832", "624*624", "1280*720", "720*1280", "960*960", "1088*832",
    "832*1088", "1920*1080", "1080*1920", "1440*1440", "1632*1248", "1248*1632",
)  # fmt: skip
UPPER_RES = ("720P", "1080P")
LOWER_RES = ("480p", "720p", "1080p")
VIDU_RES = ("540p", "720p", "1080p")

ACTION_TYPES = {
    "t2i": "text2image",
    "t2v": "text2video",
    "i2v": "image2video",
    "ref2v": "reference2video",
}


@dataclass(frozen=True)
class Spec:
    """What one model accepts in one catelog."""

    family: str
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: integer parameter -> (min, max) inclusive, or an explicit tuple of allowed values
    ints: dict[str, tuple[int, ...]] = field(default_factory=dict)
    int_choices: frozenset[str] = frozenset()
    defaults: dict[str, str | int] = field(default_factory=dict)
    required_files: tuple[str, ...] = ()
    optional_files: tuple[str, ...] = ()
    #: repeated (array) file fields and their maximum count
    array_files: dict[str, int] = field(default_factory=dict)
    required_arrays: tuple[str, ...] = ()
    #: single-file fields that also accept a URL (or base64) string, as seed 000 says
    url_ok: bool = False


def _happyhorse(catelog: str) -> Spec:
    enums: dict[str, tuple[str, ...]] = {"resolution": UPPER_RES}
    if catelog != "i2v":
        enums["ratio"] = RATIOS_5
    default_res = "1080P" if catelog == "ref2v" else "720P"
    return Spec(
        family="happyhorse",
        enums=enums,
        ints={"duration": (1, 60)},  # the seed says only "integer seconds"
        defaults={"resolution": default_res, "duration": 15 if catelog == "ref2v" else 5},
        required_files=("image_file",) if catelog == "i2v" else (),
        array_files={"image_files": 9} if catelog == "ref2v" else {},
        required_arrays=("image_files",) if catelog == "ref2v" else (),
    )


def _seedance2(catelog: str, fast: bool) -> Spec:
    return Spec(
        family="seedance2-fast" if fast else "seedance2",
        enums={"resolution": LOWER_RES, "ratio": SEEDANCE_RATIOS},
        ints={"duration": (1, 60)},
        defaults={"resolution": "1080p" if catelog == "ref2v" else "720p", "duration": 5},
        required_files=("image1_file", "image2_file") if catelog == "i2v" else (),
        array_files=(
            {"image_files": 9, "video_files": 9, "audio_files": 9} if catelog == "ref2v" else {}
        ),
        required_arrays=("image_files",) if catelog == "ref2v" else (),
    )


def _seedance15(catelog: str) -> Spec:
    return Spec(
        family="seedance15",
        enums={"resolution": LOWER_RES, "ratio": SEEDANCE_RATIOS},
        ints={"duration": (1, 60)},
        defaults={"resolution": "1080p", "duration": 12},
        optional_files=("image_file1", "image_file2") if catelog == "i2v" else (),
        url_ok=True,
    )


def _wan(catelog: str) -> Spec:
    return Spec(
        family="wan",
        enums={"size": WAN_SIZES},
        ints={"duration": (5, 10, 15)},
        int_choices=frozenset({"duration"}),
        defaults={"size": "1920*1080", "duration": 15},
        required_files=("image_file1", "image_file2") if catelog == "i2v" else (),
        url_ok=True,
    )


def _vidu(catelog: str) -> Spec:
    return Spec(
        family="vidu",
        enums={"resolution": VIDU_RES, "ratio": RATIOS_5, "off_peak": ("Y", "N")},
        ints={"duration": (1, 16)},
        defaults={"resolution": "1080p", "duration": 10, "off_peak": "N", "ratio": "16:9"},
        required_files=("image_file1", "image_file2") if catelog == "i2v" else (),
        url_ok=True,
    )


def _image(family: str) -> Spec:
    return Spec(family=family, defaults={"size": "1024*1024"})


SEEDANCE2 = (
    "doubao-seedance-2-0-260128",
    "doubao-seedance-2-0-fast-260128",
    "dreamina-seedance-2-0-260128",
    "dreamina-seedance-2-0-fast-260128",
)


def _build() -> dict[tuple[str, str], Spec]:
    table: dict[tuple[str, str], Spec] = {}
    for name in ("wan2.2-t2i-plus", "wan2.5-t2i-preview", "wan2.2-t2i-flash", "cogview-3-flash"):
        table[(name, "t2i")] = _image(name)
    for catelog in ("t2v", "i2v", "ref2v"):
        for name in SEEDANCE2:
            table[(name, catelog)] = _seedance2(catelog, "-fast-" in name)
    table[("happyhorse-1.0-t2v", "t2v")] = _happyhorse("t2v")
    table[("happyhorse-1.0-i2v", "i2v")] = _happyhorse("i2v")
    table[("happyhorse-1.0-r2v", "ref2v")] = _happyhorse("ref2v")
    for catelog in ("t2v", "i2v"):
        table[("doubao-seedance-1-5-pro-251215", catelog)] = _seedance15(catelog)
        table[("viduq3-pro", catelog)] = _vidu(catelog)
    table[("wan2.6-t2v", "t2v")] = _wan("t2v")
    table[("wan2.6-r2v", "i2v")] = _wan("i2v")
    return table


MEDIA: dict[tuple[str, str], Spec] = _build()

VENDORS = {
    "wan": "阿里百炼",
    "cogview": "智谱AI",
    "happyhorse": "阿里云",
    "doubao": "豆包",
    "dreamina": "We Token AI",
    "viduq": "vidu",
    "wan2.6": "通义万象",
    "qwen": "阿里百炼",
    "deepseek": "DeepSeek",
}


@dataclass(frozen=True)
class ChatModel:
    """A text model: its price per token and whether it streams reasoning first."""

    name: str
    description: str
    price_per_token: float
    reasoning: bool = False


CHAT: dict[str, ChatModel] = {
    m.name: m
    for m in (
        ChatModel("qwen3-max", "通义千问3 Max", 0.002),
        ChatModel("qwen-plus", "通义千问 Plus", 0.0005),
        ChatModel("deepseek-r1", "DeepSeek-R1 推理模型", 0.001, reasoning=True),
    )
}

#: credits per second of video at the base (<=540p) resolution
VIDEO_RATE = {
    "happyhorse": 8.0,
    "seedance2": 12.0,
    "seedance2-fast": 6.0,
    "seedance15": 10.0,
    "wan": 9.0,
    "vidu": 10.0,
}
RES_MULTIPLIER = {"low": 1.0, "720": 1.5, "1080": 2.5}
IMAGE_PRICE = {
    "wan2.2-t2i-plus": 4.0,
    "wan2.5-t2i-preview": 5.0,
    "wan2.2-t2i-flash": 2.0,
    "cogview-3-flash": 1.0,
}

#: older API: llmid -> (catelog, allowed model names; the first is the default)
LEGACY: dict[str, tuple[str, tuple[str, ...]]] = {
    "o5vfXYD5BURJWRTWpopE5": ("t2v", ("happyhorse-1.0-t2v",)),
    "YjjGgxO_Xma8PWsMjJvps": ("t2v", SEEDANCE2[:2]),
    "TWay-xd0p0pkEX-_Kuhto": ("t2v", SEEDANCE2[2:]),
    "CrEMkFQfRCmbmopZsCqLj": ("t2v", ("doubao-seedance-1-5-pro-251215",)),
    "u9HZyfDoqU6uKI6M1BTks": ("t2v", ("wan2.6-t2v",)),
    "r0ill7L0s6PtBS8mkmg-7": ("t2v", ("viduq3-pro",)),
    "7y7kfYM0Xasizyi37WvAZ": ("i2v", ("happyhorse-1.0-i2v",)),
    "UeYax4591ytnPcr9eumry": ("i2v", SEEDANCE2[:2]),
    "tb0VSY6WeyGbzaolU1_qE": ("i2v", SEEDANCE2[2:]),
    "7RTOJD6K8A7RXCMG4GnQ9": ("i2v", ("doubao-seedance-1-5-pro-251215",)),
    "FK_h7FLYnosv2TkMN4ATC": ("i2v", ("viduq3-pro",)),
    "x4HksKp9mXR1Yv60mw6Py": ("i2v", ("wan2.6-r2v",)),
    "6o9n_7u2K927hNlD8_72f": ("ref2v", ("happyhorse-1.0-r2v",)),
    "dmPXF65TD1riKj9KaxLmg": ("ref2v", SEEDANCE2[:2]),
    "nVbH7lEO51soqTbLGIHE_": ("ref2v", SEEDANCE2[2:]),
}

#: older API field spellings (seed 002 uses image1_file for happyhorse i2v, radio for ratio)
LEGACY_ALIASES = {"image1_file": "image_file", "radio": "ratio"}


def vendor_of(name: str) -> str:
    """The vendor shown in the models list, guessed from the name prefix."""
    best = ""
    for prefix in VENDORS:
        if name.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return VENDORS.get(best, "元境")


def models_list() -> list[dict[str, str]]:
    """Every model once per catelog, chat models first."""
    rows = [
        {
            "id": m.name,
            "object": "model",
            "catelogid": "t2t",
            "vendor": vendor_of(m.name),
            "description": m.description,
        }
        for m in CHAT.values()
    ]
    for (name, catelog), spec in MEDIA.items():
        rows.append(
            {
                "id": name,
                "object": "model",
                "catelogid": catelog,
                "vendor": vendor_of(name),
                "description": f"{spec.family} {ACTION_TYPES[catelog]}",
            }
        )
    return rows
