"""The Yuanjing catalog's `prepare`: validation, normalisation and mapping to wire names."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from yjnb._catalog_types import Prepared
from yjnb._errors import ValidationError
from yjnb.protocols import get

YJ = get("yuanjing").catalog
# Files must start like media of their field's kind (magic bytes); the rest may be anything.
JPEG = b"\xff\xd8\xff\xe0 a jpeg"
PNG = b"\x89PNG\r\n\x1a\n a png"
MP4 = b"\x00\x00\x00\x18ftypisom an mp4"
MP3 = b"ID3\x04 an mp3"


def problems(model: str, catelog: str, prompt: str = "a cat", **params: Any) -> list[str]:
    with pytest.raises(ValidationError) as info:
        YJ.prepare(model, catelog, prompt, params)
    return info.value.problems


@pytest.fixture
def img(tmp_path: Path) -> Path:
    path = tmp_path / "a.jpg"
    path.write_bytes(JPEG)
    return path


@pytest.fixture
def img2(tmp_path: Path) -> Path:
    path = tmp_path / "b.jpg"
    path.write_bytes(JPEG + b" other")
    return path


# -- plain fields ------------------------------------------------------------------------------


def test_vidu_t2v_fields_are_coerced_and_mapped() -> None:
    r = YJ.prepare(
        "viduq3-pro",
        "t2v",
        "a cat on the moon",
        {"duration": "4", "ratio": "16:9", "resolution": "540P", "off_peak": True},
    )
    assert r == Prepared(
        model="viduq3-pro",
        catelog="t2v",
        prompt="a cat on the moon",
        fields={"off_peak": "Y", "duration": 4, "ratio": "16:9", "resolution": "540p"},
        files=[],
        warnings=[],
        known=True,
    )


def test_defaults_are_not_filled_in() -> None:
    r = YJ.prepare("viduq3-pro", "t2v", "x", {})
    assert r.fields == {} and r.files == [] and r.warnings == [] and r.known


def test_enumerations_take_canonical_casing() -> None:
    r = YJ.prepare("happyhorse-1.0-t2v", "t2v", "x", {"resolution": "720p", "ratio": "ADAPTIVE"})
    assert r.fields == {"resolution": "720P", "ratio": "adaptive"}
    r = YJ.prepare("doubao-seedance-2-0-260128", "t2v", "x", {"resolution": " 1080P "})
    assert r.fields == {"resolution": "1080p"}


def test_wan_size_accepts_x_for_star() -> None:
    r = YJ.prepare("wan2.6-t2v", "t2v", "x", {"size": "1280x720", "duration": 10})
    assert r.fields == {"size": "1280*720", "duration": 10}


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (True, "Y"),
        (False, "N"),
        ("Y", "Y"),
        ("n", "N"),
        ("yes", "Y"),
        ("No", "N"),
        ("true", "Y"),
        (0, "N"),
    ],
)
def test_yn_values(given: object, sent: str) -> None:
    assert YJ.prepare("viduq3-pro", "t2v", "x", {"off_peak": given}).fields == {"off_peak": sent}


def test_yn_rejects_other_values() -> None:
    assert problems("viduq3-pro", "t2v", off_peak="maybe") == [
        "off_peak 'maybe' is not allowed for viduq3-pro (t2v); allowed: Y, N"
    ]


@pytest.mark.parametrize(("given", "sent"), [("4", 4), (" 16 ", 16), (1, 1), (5.0, 5)])
def test_int_coercion(given: object, sent: int) -> None:
    assert YJ.prepare("viduq3-pro", "t2v", "x", {"duration": given}).fields == {"duration": sent}


@pytest.mark.parametrize("given", ["abc", "4.5", 4.5, True, "", [4]])
def test_int_rejects_non_integers(given: object) -> None:
    shown = repr(given) if isinstance(given, str) else str(given)
    assert problems("viduq3-pro", "t2v", duration=given) == [
        f"duration must be an integer, got {shown}"
    ]


def test_int_range() -> None:
    assert problems("viduq3-pro", "t2v", duration=17) == [
        "duration 17 is out of range for viduq3-pro (t2v); allowed: 1-16"
    ]
    assert problems("viduq3-pro", "t2v", duration="0") == [
        "duration 0 is out of range for viduq3-pro (t2v); allowed: 1-16"
    ]


def test_undocumented_duration_range_allows_any_positive_integer() -> None:
    assert YJ.prepare("happyhorse-1.0-t2v", "t2v", "x", {"duration": 60}).fields == {"duration": 60}
    assert problems("happyhorse-1.0-t2v", "t2v", duration=0) == [
        "duration 0 is out of range for happyhorse-1.0-t2v (t2v); allowed: 1 or more"
    ]


def test_int_choices() -> None:
    assert problems("wan2.6-t2v", "t2v", duration=7) == [
        "duration 7 is not allowed for wan2.6-t2v (t2v); allowed: 5, 10, 15"
    ]


def test_string_choices_error_lists_allowed_values() -> None:
    assert problems("viduq3-pro", "t2v", resolution="4k") == [
        "resolution '4k' is not allowed for viduq3-pro (t2v); allowed: 540p, 720p, 1080p"
    ]
    assert problems("happyhorse-1.0-r2v", "ref2v", ratio="21:9", images=[JPEG]) == [
        "ratio '21:9' is not allowed for happyhorse-1.0-r2v (ref2v); "
        "allowed: 16:9, 4:3, 1:1, 3:4, 9:16"
    ]


def test_wan_t2v_size_list_is_seed_001s() -> None:
    assert problems("wan2.6-t2v", "t2v", size="1088*832") == [
        "size '1088*832' is not allowed for wan2.6-t2v (t2v); allowed: 832*480, 480*832, "
        "624*624, 1280*720, 720*1280, 960*960, 1920*1080, 1080*1920, 1440*1440"
    ]


def test_free_text_must_be_a_string() -> None:
    r = YJ.prepare("wan2.2-t2i-flash", "t2i", "x", {"negative_prompt": "模糊,低质量"})
    assert r.fields == {"negative_prompt": "模糊,低质量"}
    assert problems("wan2.2-t2i-flash", "t2i", negative_prompt=["a"]) == [
        "negative_prompt must be a string, got list"
    ]


def test_wire_names_are_accepted_too() -> None:
    r = YJ.prepare("viduq3-pro", "t2v", "x", {"off_peak": "N"})
    assert r.fields == {"off_peak": "N"}


def test_none_means_not_given() -> None:
    r = YJ.prepare("viduq3-pro", "t2v", "x", {"duration": None, "ratio": "1:1"})
    assert r.fields == {"ratio": "1:1"}


def test_catelog_key_is_ignored() -> None:
    r = YJ.prepare("viduq3-pro", "t2v", "x", {"catelog": "t2v", "duration": 2})
    assert r.fields == {"duration": 2}


# -- problems ----------------------------------------------------------------------------------


def test_unknown_parameter_lists_allowed_names() -> None:
    assert problems("viduq3-pro", "t2v", foo=1) == [
        "unknown parameter 'foo' for viduq3-pro (t2v); "
        "allowed: duration, off_peak, ratio, resolution"
    ]


def test_every_problem_is_reported_at_once() -> None:
    found = problems("viduq3-pro", "t2v", "  ", duration="abc", resolution="4k", size="1*1")
    assert found == [
        "prompt is required and cannot be empty",
        "unknown parameter 'size' for viduq3-pro (t2v); "
        "allowed: duration, off_peak, ratio, resolution",
        "duration must be an integer, got 'abc'",
        "resolution '4k' is not allowed for viduq3-pro (t2v); allowed: 540p, 720p, 1080p",
    ]
    with pytest.raises(ValidationError) as info:
        YJ.prepare("viduq3-pro", "t2v", "x", {"duration": 99, "ratio": "2:1", "off_peak": "?"})
    assert len(info.value.problems) == 3
    assert str(info.value) == "; ".join(info.value.problems)


def test_prompt_is_required() -> None:
    assert problems("wan2.2-t2i-flash", "t2i", "") == ["prompt is required and cannot be empty"]
    assert problems("wan2.2-t2i-flash", "t2i", "\n ") == ["prompt is required and cannot be empty"]
    assert problems("wan2.2-t2i-flash", "t2i", None) == ["prompt must be a string, got NoneType"]  # type: ignore[arg-type]


def test_prompt_is_kept_as_given() -> None:
    assert YJ.prepare("wan2.2-t2i-flash", "t2i", " 一只猫 ", {}).prompt == " 一只猫 "


def test_reserved_names_are_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        YJ.prepare("viduq3-pro", "t2v", "x", {"model": "x", "catelogid": "t2v"})
    assert info.value.problems == [
        "'model' is set by yjnb, not a parameter; remove it",
        "'catelogid' is set by yjnb, not a parameter; remove it",
    ]


def test_same_parameter_twice(img: Path, img2: Path) -> None:
    found = problems("viduq3-pro", "i2v", first_frame=img, image_file1=img2, last_frame=img)
    assert found == ["first_frame given twice (as first_frame and image_file1)"]


def test_known_model_in_wrong_catelog() -> None:
    assert problems("viduq3-pro", "ref2v", images=[b"x"]) == [
        "viduq3-pro has no ref2v variant in yjnb's catalog; it has t2v, i2v"
    ]


def test_unknown_catelog() -> None:
    assert problems("viduq3-pro", "x2v") == [
        "unknown catelog 'x2v'; expected one of t2t, t2i, t2v, i2v, ref2v"
    ]


# -- files -------------------------------------------------------------------------------------


def test_i2v_files_map_to_each_models_wire_names(img: Path, img2: Path) -> None:
    r = YJ.prepare("viduq3-pro", "i2v", "x", {"first_frame": str(img), "last_frame": img2})
    assert r.files == [("image_file1", str(img)), ("image_file2", img2)]
    assert r.fields == {}
    r = YJ.prepare(
        "doubao-seedance-2-0-260128", "i2v", "x", {"first_frame": img, "last_frame": img2}
    )
    assert r.files == [("image1_file", img), ("image2_file", img2)]
    r = YJ.prepare("happyhorse-1.0-i2v", "i2v", "x", {"image_file": img, "resolution": "1080p"})
    assert (r.files, r.fields) == ([("image_file", img)], {"resolution": "1080P"})


def test_bytes_and_binary_file_objects_are_accepted_as_is() -> None:
    data = PNG
    fobj = io.BytesIO(JPEG)
    r = YJ.prepare("wan2.6-r2v", "i2v", "x", {"first_frame": data, "last_frame": fobj})
    assert r.files == [("image_file1", data), ("image_file2", fobj)]
    assert r.files[1][1] is fobj


def test_text_mode_file_object_is_rejected(img: Path) -> None:
    with open(img, encoding="latin-1") as text:
        assert problems("happyhorse-1.0-i2v", "i2v", first_frame=text) == [
            "first_frame: open the file in binary mode ('rb'), not text mode"
        ]


def test_missing_required_files() -> None:
    assert problems("viduq3-pro", "i2v") == [
        "first_frame is required for viduq3-pro (i2v) (sent as image_file1)",
        "last_frame is required for viduq3-pro (i2v) (sent as image_file2)",
    ]
    assert problems("happyhorse-1.0-r2v", "ref2v", images=[]) == [
        "images is required for happyhorse-1.0-r2v (ref2v) (sent as image_files)"
    ]


def test_optional_files_may_be_left_out() -> None:
    assert YJ.prepare("doubao-seedance-1-5-pro-251215", "i2v", "x", {}).files == []


def test_missing_and_unreadable_paths(tmp_path: Path, img: Path) -> None:
    missing = str(tmp_path / "nope.jpg")
    assert problems("viduq3-pro", "i2v", first_frame=missing, last_frame=tmp_path) == [
        f"first_frame: no such file: {missing!r}",
        f"last_frame: not a readable file: {str(tmp_path)!r}",
    ]
    r = YJ.prepare(
        "viduq3-pro", "i2v", "x", {"first_frame": missing, "last_frame": img}, check_files=False
    )
    assert r.files == [("image_file1", missing), ("image_file2", img)]


def test_urls_where_accepted(img: Path) -> None:
    url = "https://example.com/a.jpg"
    r = YJ.prepare("viduq3-pro", "i2v", "x", {"first_frame": url, "last_frame": img})
    assert r.fields == {"image_file1": url}
    assert r.files == [("image_file2", img)]
    r = YJ.prepare("doubao-seedance-1-5-pro-251215", "i2v", "x", {"image_file2": "HTTP://h/b.png"})
    assert (r.fields, r.files) == ({"image_file2": "HTTP://h/b.png"}, [])


def test_urls_where_not_accepted(img: Path) -> None:
    url = "https://example.com/a.jpg"
    assert problems("happyhorse-1.0-i2v", "i2v", first_frame=url) == [
        f"first_frame: happyhorse-1.0-i2v (i2v) takes a local file here, not a URL: {url!r}"
    ]
    assert problems("happyhorse-1.0-r2v", "ref2v", images=[img, url]) == [
        f"images: happyhorse-1.0-r2v (ref2v) takes a local file here, not a URL: {url!r}"
    ]


def test_files_as_list_or_comma_separated(img: Path, img2: Path) -> None:
    r = YJ.prepare("happyhorse-1.0-r2v", "ref2v", "x", {"images": f"{img}, {img2},"})
    assert r.files == [("image_files", str(img)), ("image_files", str(img2))]
    r = YJ.prepare(
        "doubao-seedance-2-0-260128",
        "ref2v",
        "x",
        {"images": (img,), "videos": [MP4], "audio_files": MP3},
    )
    assert r.files == [("image_files", img), ("video_files", MP4), ("audio_files", MP3)]


def test_path_with_comma_is_one_file(tmp_path: Path) -> None:
    odd = tmp_path / "a,b.jpg"
    odd.write_bytes(JPEG)
    r = YJ.prepare("happyhorse-1.0-r2v", "ref2v", "x", {"images": str(odd)})
    assert r.files == [("image_files", str(odd))]


def test_file_count_limit(img: Path) -> None:
    assert problems("happyhorse-1.0-r2v", "ref2v", images=[img] * 10) == [
        "images: 10 files given; happyhorse-1.0-r2v (ref2v) takes at most 9"
    ]
    assert len(YJ.prepare("happyhorse-1.0-r2v", "ref2v", "x", {"images": [img] * 9}).files) == 9


def test_single_file_param_takes_one(img: Path, img2: Path) -> None:
    assert problems("happyhorse-1.0-i2v", "i2v", first_frame=[img, img2]) == [
        "first_frame takes one file for happyhorse-1.0-i2v (i2v), got 2"
    ]
    r = YJ.prepare("happyhorse-1.0-i2v", "i2v", "x", {"first_frame": [img]})
    assert r.files == [("image_file", img)]


def test_file_of_wrong_type() -> None:
    assert problems("happyhorse-1.0-i2v", "i2v", first_frame=42) == [
        "first_frame must be a path, bytes or a binary file object, got int"
    ]


def test_file_problems_and_field_problems_together(tmp_path: Path) -> None:
    found = problems(
        "happyhorse-1.0-r2v",
        "ref2v",
        "",
        images=[str(tmp_path / "x.png")],
        resolution="4K",
        videos=[b"x"],
    )
    assert found == [
        "prompt is required and cannot be empty",
        "unknown parameter 'videos' for happyhorse-1.0-r2v (ref2v); "
        "allowed: duration, images, ratio, resolution",
        "resolution '4K' is not allowed for happyhorse-1.0-r2v (ref2v); allowed: 720P, 1080P",
        f"images: no such file: {str(tmp_path / 'x.png')!r}",
    ]


# -- unknown models and chat -------------------------------------------------------------------


def test_unknown_model_passes_through(img: Path) -> None:
    fobj = io.BytesIO(JPEG)
    r = YJ.prepare(
        "kling-9",
        "i2v",
        "x",
        {
            "catelog": "i2v",
            "duration": "4",
            "first_frame": str(img),
            "image_file3": fobj,
            "mode": "pro",
            "refs": [PNG, MP4],
            "skip": None,
            "start_image": str(img),
        },
    )
    assert r.known is False
    assert r.warnings == ["model 'kling-9' is not in yjnb's catalog; parameters are sent unchecked"]
    assert r.fields == {"duration": "4", "mode": "pro", "start_image": str(img)}
    assert r.files == [
        ("first_frame", str(img)),
        ("image_file3", fobj),
        ("refs", PNG),
        ("refs", MP4),
    ]


def test_unknown_model_warns_about_missing_file_like_names() -> None:
    r = YJ.prepare("kling-9", "i2v", "x", {"image_file": "gone.jpg", "x_file": "https://h/a.jpg"})
    assert r.fields == {"image_file": "gone.jpg", "x_file": "https://h/a.jpg"}
    assert r.warnings[1:] == ["image_file: 'gone.jpg' is not an existing file; sent as text"]


def test_unknown_model_still_needs_a_prompt() -> None:
    assert problems("kling-9", "t2v", " ", foo=1) == ["prompt is required and cannot be empty"]


def test_chat_models_are_known_and_unchecked() -> None:
    r = YJ.prepare("qwen3-max", "t2t", "你是谁", {"temperature": 0.2})
    assert (r.known, r.fields, r.warnings) == (True, {"temperature": 0.2}, [])
