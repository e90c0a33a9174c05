"""%yj_usage and the ledger switches (`%config YJMagics.ledger*`), through a real shell and the
emulator."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

if __package__:  # tests/notebook as a package or as a rootdir-inserted folder
    from ..usage_helpers import spend_video
else:
    from usage_helpers import spend_video

import yjnb
from yjnb._types import UsageRecord
from yjnb.ledger import Ledger, default_ledger

# -- the ledger switches through %config --------------------------------------------------------


def test_config_ledger_off_records_nothing(shell: Any, magics: Any) -> None:
    shell.run_line_magic("config", "YJMagics.ledger = False")
    magics.session.client().chat("hello")
    assert len(default_ledger()) == 0
    shell.run_line_magic("config", "YJMagics.ledger = True")
    magics.session.client().chat("hello")
    assert len(default_ledger()) == 1


def test_config_prompts_off(shell: Any, magics: Any) -> None:
    shell.run_line_magic("config", "YJMagics.ledger_prompts = False")
    magics.session.client().chat("my secret question", system="my secret system")
    (row,) = default_ledger().rows()
    assert row["prompt"] is None and "system" not in row["params"]
    assert row["total_tokens"] > 0
    data = b"".join(p.read_bytes() for p in default_ledger().path.parent.glob("ledger.sqlite*"))
    assert b"my secret" not in data


# -- %yj_usage --------------------------------------------------------------------------------


def text_outputs(cap: Any) -> str:
    return "\n".join(o.data.get("text/plain", "") for o in cap.outputs) + cap.stdout


def test_yj_usage_by_kind(shell: Any, magics: Any) -> None:
    client = magics.session.client()
    client.chat("hello")
    client.chat("hello again")
    spend_video(magics)
    with capture_output() as cap:
        result = shell.run_line_magic("yj_usage", "--by kind")
    assert result is None
    (shown,) = cap.outputs
    assert "text/html" in shown.data
    table = shown.data["text/plain"]
    assert "calls" in table and "credits" in table and "mean_latency_s" in table
    lines = {line.split()[0]: line.split() for line in table.splitlines()[2:]}
    assert lines["chat"][1] == "2"
    assert "not reported" in " ".join(lines["chat"])  # chat credits: never a made-up 0
    assert lines["video"][1:2] == ["1"] and "25" in lines["video"]


@pytest.mark.parametrize("by", ["model", "day", "profile"])
def test_yj_usage_groupings(shell: Any, magics: Any, by: str) -> None:
    magics.session.client().chat("hello")
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", f"--by {by}")
    text = text_outputs(cap)
    expected = {
        "model": "qwen3-max",
        "day": datetime.now(timezone.utc).date().isoformat(),
        "profile": magics.session.client().settings.profile,
    }[by]
    assert expected in text


def test_yj_usage_since(shell: Any, magics: Any) -> None:
    magics.session.client().chat("hello")
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "--since 2999-01-01")
    assert "No calls recorded since 2999-01-01" in cap.stdout and not cap.outputs
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "--since today --by kind")
    assert "chat" in text_outputs(cap)
    with pytest.raises(UsageError, match="--since 'yesterday-ish' is not a date"):
        shell.run_line_magic("yj_usage", "--since yesterday-ish")


def test_yj_usage_empty_and_off(shell: Any, magics: Any) -> None:
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "")
    assert "No calls recorded in" in cap.stdout
    magics.ledger = False
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "")
    assert "The usage ledger is off" in cap.stdout


def test_yj_usage_bad_by(shell: Any) -> None:
    with pytest.raises(UsageError):
        shell.run_line_magic("yj_usage", "--by colour")


def test_yj_usage_plot(shell: Any, magics: Any) -> None:
    pytest.importorskip("matplotlib")
    magics.session.client().chat("hello")
    spend_video(magics)
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "--plot")
    kinds = [sorted(o.data) for o in cap.outputs]
    assert len(kinds) == 2 and "text/html" in kinds[0]
    png = cap.outputs[1].data["image/png"]
    assert png  # IPython hands PNG bytes over base64-encoded or raw, depending on the version


def test_yj_usage_plot_without_matplotlib(
    shell: Any, magics: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    magics.session.client().chat("hello")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(UsageError, match="--plot needs matplotlib: pip install matplotlib"):
        shell.run_line_magic("yj_usage", "--plot")


def test_usage_reads_what_the_magics_wrote(magics: Any) -> None:
    magics.session.client().chat("hello")
    df = yjnb.usage()
    assert list(df["kind"]) == ["chat"] and df["total_tokens"].iloc[0] > 0


# -- a shared team ledger (PostgreSQL) --------------------------------------------------------


def test_yj_usage_by_user_on_a_shared_ledger(
    shell: Any, magics: Any, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shell.run_line_magic("config", f"YJMagics.ledger_url = {pg_url!r}")
    assert default_ledger().url == pg_url
    monkeypatch.setenv("YJ_USER", "ana")  # a teammate's kernel, writing to the same database
    teammate = Ledger(pg_url)
    teammate.record(UsageRecord(kind="chat", status="ok", model="qwen3-max", total_tokens=9))
    teammate.close()
    monkeypatch.setenv("YJ_USER", "bo")  # this kernel
    magics.session.client().chat("hello")
    spend_video(magics)
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "--by user")
    table = cap.outputs[0].data["text/plain"]
    lines = {line.split()[0]: line.split() for line in table.splitlines()[2:]}
    assert lines["bo"][1] == "2" and lines["ana"][1] == "1"
    assert "25" in lines["bo"] and "not reported" in " ".join(lines["ana"])
    assert list(yjnb.usage()["user"]) == ["ana", "bo", "bo"]


def test_ledger_url_must_name_postgresql(magics: Any) -> None:
    from traitlets import TraitError

    with pytest.raises(TraitError, match="must start with postgresql://"):
        magics.ledger_url = "sqlite:///x.db"
    assert not default_ledger().shared
