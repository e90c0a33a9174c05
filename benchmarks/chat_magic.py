"""What %%yj_chat's live view costs, in a real Jupyter kernel, against the bare client.

Run: ``.venv/bin/python benchmarks/chat_magic.py [--rounds 9] [--tokens 20000]``

The emulator (``python -m yjnb.emulator``) runs in its own process on a free loopback port
and serves a 20,000-chunk stream as fast as it can (``max_tokens=20000``). A notebook is
executed with ``nbclient`` in a real ipykernel: rounds of two cells, in alternating order,

* the bare client: ``for chunk in client.chat(PROMPT, stream=True, max_tokens=N)``, keeping
  the text (the floor: the same stream consumed with no display at all);
* the magic: ``%%yj_chat --new max_tokens=N`` with its live display (one display, updated at
  most every ``YJMagics.refresh_interval`` = 0.1 s, through the kernel's iopub channel).

Each cell's wall time is taken inside the kernel by ``pre_run_cell``/``post_run_cell`` hooks.
Reported, as ratios (targets in brackets):

1. the magic's median wall time / the bare client's median wall time [<= 1.2];
2. the magic cell's saved output (bytes nbformat writes for its outputs, after nbclient
   applied every display update) / the final text's UTF-8 size [<= 2].
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

import nbformat
from _emulator_proc import emulator_process
from nbclient import NotebookClient

from yjnb.emulator import DEMO_KEY

MODEL = "qwen3-max"
PROMPT = "Tell me a long story about the platform."
TIME_TARGET = 1.2
SIZE_TARGET = 2.0

SETUP = """\
import json, time
import yjnb
%load_ext yjnb
client = yjnb.Client()
_times, _sizes, _t0 = [], [], [0.0]
def _pre(info):
    _t0[0] = time.perf_counter()
def _post(result):
    cell = result.info.raw_cell
    kind = "magic" if cell.startswith("%%yj_chat") else "bare" if cell.startswith("#bare") else None
    if kind:
        _times.append((kind, time.perf_counter() - _t0[0]))
    if kind == "magic":
        _sizes.append(len(_yj.text.encode()))
get_ipython().events.register("pre_run_cell", _pre)
get_ipython().events.register("post_run_cell", _post)
"""

BARE = """\
#bare
_parts = [chunk.text for chunk in client.chat({prompt!r}, model={model!r}, stream=True,
                                              max_tokens={tokens})]
_bare_text = "".join(_parts)
"""

MAGIC = """\
%%yj_chat --new -m {model} max_tokens={tokens}
{prompt}
"""

REPORT = "print(json.dumps({'times': _times, 'sizes': _sizes}))"


def build(rounds: int, tokens: int) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_code_cell(SETUP)]
    fill = {"prompt": PROMPT, "model": MODEL, "tokens": tokens}
    # A warm-up pair (imports, connections) that is not counted, then alternating rounds.
    pairs = [(BARE, MAGIC)] + [
        (BARE, MAGIC) if r % 2 == 0 else (MAGIC, BARE) for r in range(rounds)
    ]
    for first, second in pairs:
        cells += [nbformat.v4.new_code_cell(first.format(**fill))]
        cells += [nbformat.v4.new_code_cell(second.format(**fill))]
    cells.append(nbformat.v4.new_code_cell(REPORT))
    return nbformat.v4.new_notebook(cells=cells)


def outputs_size(cell: nbformat.NotebookNode) -> int:
    """Bytes that `cell`'s outputs add to the saved notebook file."""
    with_outputs = nbformat.v4.new_notebook(cells=[cell])
    bare = nbformat.from_dict({**cell, "outputs": []})
    without = nbformat.v4.new_notebook(cells=[bare])
    return len(nbformat.writes(with_outputs).encode()) - len(nbformat.writes(without).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--tokens", type=int, default=20_000)
    opts = parser.parse_args()

    with emulator_process() as url, tempfile.TemporaryDirectory() as home:
        os.environ.update(YJ_API_KEY=DEMO_KEY, YJ_BASE_URL=url, YJ_HOME=home)
        os.environ.pop("YJ_DEMO", None)
        nb = build(opts.rounds, opts.tokens)
        NotebookClient(nb, timeout=600, kernel_name="python3").execute()

    report = json.loads(nb.cells[-1].outputs[0]["text"])
    times = report["times"][2:]  # drop the warm-up pair
    bare = statistics.median(t for kind, t in times if kind == "bare")
    magic = statistics.median(t for kind, t in times if kind == "magic")
    magic_cells = [c for c in nb.cells if c.source.startswith("%%yj_chat")][1:]
    saved = statistics.median(outputs_size(c) for c in magic_cells)
    text = statistics.median(report["sizes"][1:])
    kinds = sorted({o.get("output_type") for c in magic_cells for o in c.outputs})

    print(f"{opts.tokens:,}-chunk stream from {MODEL}, {opts.rounds} rounds, medians")
    print(f"  bare client consumption   {bare:8.3f} s")
    print(f"  %%yj_chat (live display)  {magic:8.3f} s   ratio {magic / bare:.2f}x "
          f"(target <= {TIME_TARGET}x)")  # fmt: skip
    print(f"  final text                {text:8.0f} bytes")
    print(f"  saved cell output         {saved:8.0f} bytes ratio {saved / text:.2f}x "
          f"(target <= {SIZE_TARGET}x; outputs: {', '.join(kinds)})")  # fmt: skip
    ok = magic / bare <= TIME_TARGET and saved / text <= SIZE_TARGET
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
