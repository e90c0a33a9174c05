"""`make demo` with the virtualenv anywhere (issue 14: `VENV=/abs/path` ran `..//abs/path`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("venv", ["absolute", ".venv-relative"])
def test_make_demo_runs_jupyter_from_the_venv_wherever_it_is(tmp_path: Path, venv: str) -> None:
    make = shutil.which("make")
    assert make is not None, "make is needed to check the Makefile"
    given = str(tmp_path / "venv") if venv == "absolute" else venv
    expected = Path(given) if venv == "absolute" else ROOT / given
    dry = subprocess.run(
        [make, "-n", "-C", str(ROOT), "demo", f"VENV={given}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines = dry.stdout.splitlines()
    lab = next(line for line in lines if "jupyter lab" in line)
    assert f"YJ_DEMO=1 {expected}/bin/jupyter lab" in lab and "..//" not in dry.stdout
    start = next(line for line in lines if "yjnb._demo start" in line)
    assert start.startswith(f"YJ_DEMO=1 {expected}/bin/python -m yjnb._demo start")


def test_binder_start_starts_the_one_demo_emulator_kernels_share(isolated_env: Path) -> None:
    import os
    import sys

    from yjnb._demo import read_state

    env = {k: v for k, v in os.environ.items() if k != "YJ_API_KEY"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    shown = subprocess.run(
        [str(ROOT / "binder" / "start"), sys.executable, "-m", "yjnb._demo", "status"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    found = read_state(isolated_env)
    assert shown.returncode == 0 and found is not None, shown.stderr
    assert shown.stdout.count(found.url) == 2  # started by binder/start, then found running
