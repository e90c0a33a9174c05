"""%yj_models: the catalog and the live list in one table."""

from __future__ import annotations

from typing import Any

import pytest
from chat_helpers import run
from IPython.core.error import UsageError

from yjnb._types import ModelInfo
from yjnb.protocols import create

YJ = create("yuanjing").catalog


def test_table_of_one_catelog(shell: Any) -> None:
    shown = run(shell, "t2v", kind="yj_models")
    assert shown.error is None
    frame = shell.user_ns["_yj"]
    assert set(frame["catelog"]) == {"t2v"}
    assert list(frame["model"]) == [s.id for s in YJ.specs("t2v")]
    assert frame["catalog"].all() and frame["live"].all()
    vidu = frame.set_index("model").loc["viduq3-pro", "parameters"]
    assert "resolution: 540p|720p|1080p" in vidu and "duration: 1–16" in vidu
    assert "off_peak: Y|N" in vidu
    html = shown.outputs[-1].data["text/html"]
    assert vidu.split(";")[-1].strip() in html  # shown in full, not cut with "..."
    assert "8 models (8 on the live list)" in shown.stdout


def test_every_model_without_a_catelog(shell: Any) -> None:
    run(shell, "", kind="yj_models")
    frame = shell.user_ns["_yj"]
    assert len(frame) >= len(YJ.specs())
    chat = frame[frame["catelog"] == "t2t"]
    assert set(chat["model"]) == {"qwen3-max", "qwen-plus", "deepseek-r1"}
    assert chat["parameters"].str.contains("temperature=").all()


def test_live_only_models_are_listed(shell: Any, magics: Any, monkeypatch: Any) -> None:
    client = magics.session.client()
    extra = ModelInfo(id="brand-new-model", catelog="t2v", vendor="acme", description="<new>")
    monkeypatch.setattr(client, "models", lambda catelog=None: [extra])
    run(shell, "t2v", kind="yj_models")
    frame = shell.user_ns["_yj"].set_index("model")
    row = frame.loc["brand-new-model"]
    assert not row["catalog"] and row["live"] and "unchecked" in row["parameters"]
    assert not frame.loc["viduq3-pro", "live"]


def test_without_a_key_the_catalog_is_still_shown(shell: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("YJ_API_KEY")
    shown = run(shell, "t2i", kind="yj_models")
    assert shown.error is None
    assert "live list unavailable (ConfigError: No API key" in shown.stdout
    assert len(shell.user_ns["_yj"]) == len(YJ.specs("t2i"))


def test_demo_mode_is_said(shell: Any, magics: Any) -> None:
    shell.run_line_magic("yj_config", "--demo")
    shown = run(shell, "t2t", kind="yj_models")
    assert "demo mode" in shown.stdout


def test_unknown_catelog(shell: Any) -> None:
    with pytest.raises(UsageError, match="unknown catelog 'xyz'; known: t2t"):
        shell.run_line_magic("yj_models", "xyz")


def test_text_columns_are_left_aligned_and_escaped(
    shell: Any, magics: Any, monkeypatch: Any
) -> None:
    client = magics.session.client()
    extra = ModelInfo(id="brand-new-model", catelog="t2v", vendor="acme", description="<b>x</b>")
    monkeypatch.setattr(client, "models", lambda catelog=None: [extra])
    shown = run(shell, "t2v", kind="yj_models")
    html = shown.outputs[-1].data["text/html"]
    cells = html.count("<td ")
    assert cells == html.count("<td style='text-align:left;vertical-align:top'>") > 0
    assert html.count("<th style='text-align:left") == len(shell.user_ns["_yj"].columns)
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x" not in html
    text = shown.outputs[-1].data["text/plain"]
    assert text.splitlines()[0].startswith("model ") and "viduq3-pro" in text
