"""What `%load_ext yjnb` costs on top of a bare IPython shell, and what it imports.

Run: ``.venv/bin/python benchmarks/load_ext.py [--runs 5]``

Each run is a fresh interpreter (nothing cached in ``sys.modules``), timed from inside so
interpreter start-up is left out: (a) import IPython and create a bare
``InteractiveShell.instance()``; (b) the same, then ``run_line_magic("load_ext", "yjnb")``.
The two kinds alternate, so machine noise hits both alike. Figures: the median of each, the
difference (what loading the extension adds; target <= 50 ms), the ``%load_ext`` call timed
on its own in (b) (the same cost, less exposed to noise than a difference of two medians),
and whether httpx, pandas, ipywidgets and sqlite3 are in ``sys.modules`` after loading, and
if so whether the bare shell had already imported them (IPython's history uses sqlite3).

The runs use a temporary ``YJ_HOME`` and no API key, so the key hint is printed (and read
from the config and ``.env`` as in a real kernel) and nothing touches the user's files.
Bytecode is cached as for an installed package: the runs write it under a temporary
``PYTHONPYCACHEPREFIX``, after one unmeasured run of each kind (with
``PYTHONDONTWRITEBYTECODE`` set, as in some containers, every run would compile yjnb's
sources and the figure would measure the compiler).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HEAVY = ("httpx", "pandas", "ipywidgets", "sqlite3")
TARGET_MS = 50.0
ROOT = Path(__file__).resolve().parents[1]

SNIPPET = """
import json, sys, time
start = time.perf_counter()
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
bare = {{m: m in sys.modules for m in {heavy!r}}}
loading = time.perf_counter()
if {load!r}:
    shell.run_line_magic("load_ext", "yjnb")
end = time.perf_counter()
after = {{m: m in sys.modules for m in {heavy!r}}}
times = {{"ms": (end - start) * 1000, "load_ms": (end - loading) * 1000}}
print("RESULT " + json.dumps({{**times, "bare": bare, "after": after}}))
"""


def one_run(load: bool, env: dict[str, str]) -> dict[str, Any]:
    """One fresh interpreter: its time in ms, and the heavy modules before and after."""
    code = SNIPPET.format(heavy=HEAVY, load=load)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="yjnb-bench-load-") as work:
        env = {k: v for k, v in os.environ.items() if not k.startswith("YJ_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        path = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env.update(YJ_HOME=f"{work}/home", PYTHONPATH=path, PYTHONPYCACHEPREFIX=f"{work}/pyc")
        one_run(False, env)  # warm-up: bytecode written, not measured
        one_run(True, env)
        bare: list[float] = []
        loaded: list[dict[str, Any]] = []
        for _ in range(args.runs):
            bare.append(one_run(False, env)["ms"])
            loaded.append(one_run(True, env))

    bare_ms = statistics.median(bare)
    load_ms = statistics.median(r["ms"] for r in loaded)
    call_ms = statistics.median(r["load_ms"] for r in loaded)
    added = load_ms - bare_ms
    last = loaded[-1]
    print(f"%load_ext yjnb, {args.runs} fresh interpreters each, medians (Python "
          f"{sys.version.split()[0]})")  # fmt: skip
    print(f"  bare InteractiveShell.instance()        {bare_ms:7.1f} ms")
    print(f"  the same + %load_ext yjnb               {load_ms:7.1f} ms")
    print(f"  added by %load_ext yjnb                 {added:7.1f} ms   "
          f"(target <= {TARGET_MS:.0f} ms)")  # fmt: skip
    print(f"  the %load_ext yjnb call alone           {call_ms:7.1f} ms")
    print("  in sys.modules after %load_ext yjnb:")
    heavy_by_yjnb = []
    for module in HEAVY:
        after, before = last["after"][module], last["bare"][module]
        note = "no" if not after else "yes, already imported by the bare shell" if before else "YES"
        if after and not before:
            heavy_by_yjnb.append(module)
        print(f"    {module:<12} {note}")
    ok = added <= TARGET_MS and not heavy_by_yjnb
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
