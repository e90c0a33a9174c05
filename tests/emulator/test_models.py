"""``GET /llmage/v1/models``: every seed 001 model once per catelog, two response shapes."""

from __future__ import annotations

import httpx

SEED_001 = {
    "t2i": {"wan2.2-t2i-plus", "wan2.5-t2i-preview", "wan2.2-t2i-flash", "cogview-3-flash"},
    "t2v": {"happyhorse-1.0-t2v", "doubao-seedance-2-0-260128", "doubao-seedance-2-0-fast-260128",
            "dreamina-seedance-2-0-260128", "doubao-seedance-1-5-pro-251215", "wan2.6-t2v",
            "viduq3-pro"},
    "i2v": {"happyhorse-1.0-i2v", "doubao-seedance-2-0-260128", "dreamina-seedance-2-0-260128",
            "doubao-seedance-1-5-pro-251215", "viduq3-pro", "wan2.6-r2v"},
    "ref2v": {"happyhorse-1.0-r2v", "doubao-seedance-2-0-260128", "dreamina-seedance-2-0-260128"},
    "t2t": {"qwen3-max", "qwen-plus", "deepseek-r1"},
}  # fmt: skip


def test_openai_list_shape(client: httpx.Client) -> None:
    body = client.get("/llmage/v1/models").json()
    assert body["object"] == "list"
    for row in body["data"]:
        assert set(row) == {"id", "object", "catelogid", "vendor", "description"}
        assert row["object"] == "model"
    by_catelog: dict[str, set[str]] = {}
    for row in body["data"]:
        by_catelog.setdefault(row["catelogid"], set()).add(row["id"])
    for catelog, names in SEED_001.items():
        assert names <= by_catelog[catelog], catelog
    pairs = [(r["id"], r["catelogid"]) for r in body["data"]]
    assert len(pairs) == len(set(pairs))  # once per catelog
    seedance = [r for r in body["data"] if r["id"] == "doubao-seedance-2-0-260128"]
    assert sorted(r["catelogid"] for r in seedance) == ["i2v", "ref2v", "t2v"]


def test_filter_and_bare_shape(client: httpx.Client) -> None:
    t2v = client.get("/llmage/v1/models", params={"catelogid": "t2v"}).json()["data"]
    assert {r["catelogid"] for r in t2v} == {"t2v"}
    assert SEED_001["t2v"] <= {r["id"] for r in t2v}
    bare = client.get("/llmage/v1/models", params={"catelogid": "t2t", "format": "bare"}).json()
    assert isinstance(bare, list)
    assert {r["id"] for r in bare} == SEED_001["t2t"]
    assert client.get("/llmage/v1/models", params={"catelogid": "zzz"}).json()["data"] == []


def test_models_need_a_key(client: httpx.Client) -> None:
    r = client.get("/llmage/v1/models", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json() == {"error": "Invalid API Key"}
