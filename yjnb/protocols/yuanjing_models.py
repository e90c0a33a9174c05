"""Every model yjnb knows, as data: one `ModelSpec` per (model, catelog).

Sources: the current API document (seed 001, authoritative: models, vendors, fields,
enumerations, defaults) and the older API documents (seeds 000 and 002: the `llmid` per
catelog, the fast seedance variants, the URL-or-file image fields, the wan2.6-r2v sizes).

Choices are written in the platform's canonical casing; `prepare` matches them
case-insensitively and sends this casing. Where seed 001 documents a duration without a
range, any integer >= 1 is accepted (`min=1`, no `max`): yjnb does not invent limits.
Where seed 001 gives "adaptive" as a ratio's default, "adaptive" is an allowed value.

To add a model: append a `ModelSpec` to `MODELS` (reuse the parameter builders below for
the usual fields), then run the catalog tests, which check every entry for consistency.
"""

from __future__ import annotations

from .._catalog_types import ModelSpec, Param

# fmt: off
# -- enumerations (canonical casing) -----------------------------------------------------------

RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16")
RATIOS_ADAPTIVE = (*RATIOS, "adaptive")
VIDU_RATIOS = ("16:9", "9:16", "4:3", "3:4", "1:1")
RES_HAPPYHORSE = ("720P", "1080P")
RES_SEEDANCE = ("480p", "720p", "1080p")
RES_VIDU = ("540p", "720p", "1080p")
# wan2.6-t2v: seed 001's list. wan2.6-r2v: seed 001 gives no list, seed 000's longer one applies.
WAN_T2V_SIZES = ("832*480", "480*832", "624*624", "1280*720", "720*1280", "960*960",
                 "1920*1080", "1080*1920", "1440*1440")
WAN_R2V_SIZES = ("832*480", "480*832", "624*624", "1280*720", "720*1280", "960*960",
                 "1088*832", "832*1088", "1920*1080", "1080*1920", "1440*1440",
                 "1632*1248", "1248*1632")
WAN_DURATIONS = (5, 10, 15)

# -- parameter builders (they only fill in names and help texts) -------------------------------


def resolution(choices: tuple[str, ...], default: str | None = None) -> Param:
    return Param("resolution", "str", "resolution", default=default, choices=choices,
                 help="output resolution")


def ratio(choices: tuple[str, ...], default: str | None = None) -> Param:
    return Param("ratio", "str", "ratio", default=default, choices=choices,
                 help="aspect ratio, width:height")


def duration(default: int, *, choices: tuple[int, ...] | None = None,
             max: int | None = None) -> Param:
    """Seconds. Without documented choices or maximum: any integer >= 1."""
    help = "video length in seconds"
    if choices is None and max is None:
        help += " (no documented maximum)"
    return Param("duration", "int", "duration", default=default, choices=choices,
                 min=None if choices else 1, max=max, help=help)


def size(choices: tuple[str, ...], default: str = "1920*1080") -> Param:
    return Param("size", "str", "size", default=default, choices=choices,
                 help="video size, width*height")


def first_frame(wire: str, *, required: bool, accepts_url: bool = False) -> Param:
    return Param("first_frame", "file", wire, required=required, accepts_url=accepts_url,
                 help="first frame image" + (" (file or http(s) URL)" if accepts_url else ""))


def last_frame(wire: str, *, required: bool, accepts_url: bool = False) -> Param:
    return Param("last_frame", "file", wire, required=required, accepts_url=accepts_url,
                 help="last frame image" + (" (file or http(s) URL)" if accepts_url else ""))


def images(*, required: bool, max_files: int | None = None) -> Param:
    return Param("images", "files", "image_files", required=required, max_files=max_files,
                 help="reference images" + (f", at most {max_files}" if max_files else ""))


NEGATIVE_PROMPT = Param("negative_prompt", "str", "negative_prompt", default="",
                        help="what the result should avoid")
OFF_PEAK = Param("off_peak", "yn", "off_peak", default="N", choices=("Y", "N"),
                 help="generate in off-peak hours: Y or N")
VIDEOS = Param("videos", "files", "video_files", help="reference videos")
AUDIOS = Param("audios", "files", "audio_files", help="reference audio")

# -- shared parameter sets ---------------------------------------------------------------------

T2I = (NEGATIVE_PROMPT,)
SEEDANCE2_T2V = (resolution(RES_SEEDANCE, "720p"), ratio(RATIOS_ADAPTIVE, "adaptive"),
                 duration(5))
SEEDANCE2_I2V = (first_frame("image1_file", required=True),
                 last_frame("image2_file", required=True), *SEEDANCE2_T2V)
SEEDANCE2_REF2V = (ratio(RATIOS), resolution(RES_SEEDANCE, "1080p"), duration(12),
                   images(required=True), VIDEOS, AUDIOS)
SEEDANCE15_T2V = (ratio(RATIOS_ADAPTIVE), resolution(RES_SEEDANCE, "1080p"), duration(12))
VIDU_T2V = (OFF_PEAK, duration(10, max=16), ratio(VIDU_RATIOS, "16:9"),
            resolution(RES_VIDU, "1080p"))

# The seedance 2.0 variants: (model id, vendor, description, llmid for t2v, i2v, ref2v). The fast
# ones share their family's llmid (seeds 000/002: "doubao-seedance-2-0-260128 或 ...-fast").
SEEDANCE2 = (
    ("doubao-seedance-2-0-260128", "豆包", "seedance 2.0",
     "YjjGgxO_Xma8PWsMjJvps", "UeYax4591ytnPcr9eumry", "dmPXF65TD1riKj9KaxLmg"),
    ("doubao-seedance-2-0-fast-260128", "豆包", "seedance 2.0 fast",
     "YjjGgxO_Xma8PWsMjJvps", "UeYax4591ytnPcr9eumry", "dmPXF65TD1riKj9KaxLmg"),
    ("dreamina-seedance-2-0-260128", "We Token AI", "豆包海外版 seedance 2.0",
     "TWay-xd0p0pkEX-_Kuhto", "tb0VSY6WeyGbzaolU1_qE", "nVbH7lEO51soqTbLGIHE_"),
    ("dreamina-seedance-2-0-fast-260128", "We Token AI", "豆包海外版 seedance 2.0 fast",
     "TWay-xd0p0pkEX-_Kuhto", "tb0VSY6WeyGbzaolU1_qE", "nVbH7lEO51soqTbLGIHE_"),
)

# -- the models --------------------------------------------------------------------------------

MODELS: tuple[ModelSpec, ...] = (
    # chat: parameters are the chat client's business, not validated here
    ModelSpec("qwen3-max", "t2t", "阿里百炼", "通义千问 Qwen3-Max"),
    ModelSpec("qwen-plus", "t2t", "阿里百炼", "通义千问 Qwen-Plus"),
    ModelSpec("deepseek-r1", "t2t", "DeepSeek", "DeepSeek-R1 推理模型"),

    # text to image
    ModelSpec("wan2.2-t2i-plus", "t2i", "阿里百炼",
              "万相2.2专业版,创意性、稳定性、写实质感全面升级", T2I),
    ModelSpec("wan2.5-t2i-preview", "t2i", "阿里百炼", "万相2.5 preview版", T2I),
    ModelSpec("wan2.2-t2i-flash", "t2i", "阿里百炼", "万相2.2极速版,速度快,性价比高", T2I),
    ModelSpec("cogview-3-flash", "t2i", "智谱AI", "CogView-3-Flash 免费图像生成", T2I),

    # text to video
    ModelSpec("happyhorse-1.0-t2v", "t2v", "阿里云", "快乐马文生视频",
              (resolution(RES_HAPPYHORSE, "720P"), ratio(RATIOS_ADAPTIVE, "adaptive"),
               duration(5)),
              llmid="o5vfXYD5BURJWRTWpopE5"),
    *(ModelSpec(mid, "t2v", vendor, desc, SEEDANCE2_T2V, llmid=t2v)
      for mid, vendor, desc, t2v, _, _ in SEEDANCE2),
    ModelSpec("doubao-seedance-1-5-pro-251215", "t2v", "豆包", "seedance 1.5", SEEDANCE15_T2V,
              llmid="CrEMkFQfRCmbmopZsCqLj"),
    ModelSpec("wan2.6-t2v", "t2v", "通义万象", "万象2.6文生视频",
              (NEGATIVE_PROMPT, size(WAN_T2V_SIZES), duration(15, choices=WAN_DURATIONS)),
              llmid="u9HZyfDoqU6uKI6M1BTks"),
    ModelSpec("viduq3-pro", "t2v", "vidu", "vidu文生视频", VIDU_T2V,
              llmid="r0ill7L0s6PtBS8mkmg-7"),

    # image to video
    ModelSpec("happyhorse-1.0-i2v", "i2v", "阿里云", "快乐马图生视频(首帧)",
              (first_frame("image_file", required=True), resolution(RES_HAPPYHORSE, "720P"),
               duration(5)),
              llmid="7y7kfYM0Xasizyi37WvAZ"),
    *(ModelSpec(mid, "i2v", vendor, f"{desc} 图生视频", SEEDANCE2_I2V, llmid=i2v)
      for mid, vendor, desc, _, i2v, _ in SEEDANCE2),
    ModelSpec("doubao-seedance-1-5-pro-251215", "i2v", "豆包", "seedance 1.5 图生视频",
              (*SEEDANCE15_T2V,
               first_frame("image_file1", required=False, accepts_url=True),
               last_frame("image_file2", required=False, accepts_url=True)),
              llmid="7RTOJD6K8A7RXCMG4GnQ9"),
    ModelSpec("viduq3-pro", "i2v", "vidu", "vidu首尾帧图生视频",
              (OFF_PEAK,
               first_frame("image_file1", required=True, accepts_url=True),
               last_frame("image_file2", required=True, accepts_url=True),
               *VIDU_T2V[1:]),
              llmid="FK_h7FLYnosv2TkMN4ATC"),
    ModelSpec("wan2.6-r2v", "i2v", "通义万象", "万象2.6预置角色生视频",
              (NEGATIVE_PROMPT, size(WAN_R2V_SIZES), duration(15, choices=WAN_DURATIONS),
               first_frame("image_file1", required=True, accepts_url=True),
               last_frame("image_file2", required=True, accepts_url=True)),
              llmid="x4HksKp9mXR1Yv60mw6Py"),

    # reference to video
    ModelSpec("happyhorse-1.0-r2v", "ref2v", "阿里云", "快乐马参考生视频",
              (ratio(RATIOS), resolution(RES_HAPPYHORSE, "1080P"), duration(15),
               images(required=True, max_files=9)),
              llmid="6o9n_7u2K927hNlD8_72f"),
    *(ModelSpec(mid, "ref2v", vendor, f"{desc} 参考生视频", SEEDANCE2_REF2V, llmid=ref2v)
      for mid, vendor, desc, _, _, ref2v in SEEDANCE2),
)
# fmt: on
