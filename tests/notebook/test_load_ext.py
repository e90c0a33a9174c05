"""`%load_ext yjnb` in a fresh interpreter: it imports nothing heavy, and the magics then work.

A subprocess, because this test process has long imported httpx, pandas and the rest. The
shell's history is off: IPython's history database is the one thing in a bare shell that
imports sqlite3, and yjnb must not be the one that does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yjnb

HEAVY = ("httpx", "pandas", "ipywidgets", "sqlite3")

SCRIPT = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

heavy = {heavy!r}
config = Config()
config.HistoryManager.enabled = False
shell = InteractiveShell.instance(config=config)
already = [m for m in heavy if m in sys.modules]
shell.run_line_magic("load_ext", "yjnb")
loaded = [m for m in heavy if m in sys.modules and m not in already]
shell.run_line_magic("yj_config", "")
shell.run_line_magic("yj_models", "t2i")
print("RESULT " + json.dumps({{"already": already, "loaded": loaded,
                              "table": type(shell.user_ns.get("_yj")).__name__}}))
"""


def run_fresh(env: dict[str, str]) -> tuple[dict[str, Any], str]:
    root = Path(yjnb.__file__).resolve().parents[1]  # this checkout, not an installed copy
    env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(heavy=HEAVY)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT ")), done.stdout


def test_load_ext_imports_nothing_heavy_and_the_magics_work(emulator: Any) -> None:
    env = {**os.environ, "YJ_API_KEY": emulator.api_key, "YJ_BASE_URL": emulator.url}
    result, out = run_fresh(env)
    assert result["already"] == []  # a bare shell has none of them: the check means something
    assert result["loaded"] == [], f"%load_ext yjnb imported {result['loaded']}"
    assert "base URL" in out and emulator.url in out  # %yj_config showed the settings
    assert "wan2.2-t2i-flash" in out and result["table"] == "DataFrame"  # %yj_models ran
    assert "no API key" not in out  # the key hint only speaks when there is no key


def test_load_ext_says_how_to_give_a_key_when_there_is_none(emulator: Any) -> None:
    env = {k: v for k, v in os.environ.items() if k != "YJ_API_KEY"}
    env["YJ_BASE_URL"] = emulator.url
    done = subprocess.run(
        [sys.executable, "-c", "from IPython.core.interactiveshell import InteractiveShell as S; "
         "S.instance().run_line_magic('load_ext', 'yjnb')"],
        env={**env, "PYTHONPATH": str(Path(yjnb.__file__).resolve().parents[1])},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "yjnb: no API key for profile 'yuanjing'" in done.stdout
    assert "%yj_config --key" in done.stdout
