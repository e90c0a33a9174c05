"""What neutralising a long answer costs, against rendering it with markdown-it.

Run: ``.venv/bin/python benchmarks/markdown.py [--kb 100] [--rounds 15]``

The live chat view neutralises the whole answer at each refresh (about 10 a second), so the
cost must stay near one parse. Two answers of ``--kb`` KB, built from sections a model writes
(headings, paragraphs with inline code and http links, lists, a table, a fenced code block):

* ``plain``: nothing to change (one parse, the answer returned as it is);
* ``with <``: the same with `a < b` in the text and a `<br>` in each table (every `<` outside
  code becomes `&lt;`: a pass that edits, then one that checks).

Reported: the median time of `neutralise_markdown(text)` and its ratio to the median time of
``MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)`` [target <= 2].
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from markdown_it import MarkdownIt

from yjnb.notebook.views.markdown import neutralise_markdown

TARGET = 2.0

SECTION = """\
## Step {n}: loading the data

Read the file with `pandas.read_csv(path, sep=";")` and check `df.shape` first; the
[pandas docs](https://pandas.pydata.org/docs/) explain every option. Keep **only** the
columns you need, and *never* edit the raw file: see <https://example.com/guide/{n}>.

1. Install the packages: `pip install pandas pyarrow`.
2. Load the data:
   - parse the dates with `parse_dates=["day"]`;
   - set the index with `df.set_index("day")`.
3. Plot it with `df.plot()`.

| column | type | note |
|--------|------|------|
| day | date | the index{br} |
| value | float | may be `NaN` |

```python
import pandas as pd

df = pd.read_csv("data.csv", sep=";", parse_dates=["day"])
print(df[df.value < 10].head())  # `<` inside code stays as it is
```

> Tip: `df.describe()` summarises every numeric column{lt}.

"""


def answer(kb: int, *, with_lt: bool) -> str:
    parts, n = [], 0
    extra = {"br": "<br>more" if with_lt else "", "lt": " (when a < b)" if with_lt else ""}
    while sum(map(len, parts)) < kb * 1024:
        n += 1
        parts.append(SECTION.format(n=n, **extra))
    return "".join(parts)


def medians(functions: list[Callable[[str], object]], text: str, rounds: int) -> list[float]:
    """Median seconds of each function on `text`, the functions taking turns in each round."""
    times: list[list[float]] = [[] for _ in functions]
    for _ in range(rounds):
        for function, spent in zip(functions, times, strict=True):
            started = time.perf_counter()
            function(text)
            spent.append(time.perf_counter() - started)
    return [statistics.median(spent) for spent in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    worst = 0.0
    for label, with_lt in (("plain", False), ("with <", True)):
        text = answer(args.kb, with_lt=with_lt)
        neutralise_markdown(text)  # warm: the parser is built once
        ours, render = medians([neutralise_markdown, md.render], text, args.rounds)
        worst = max(worst, ours / render)
        print(
            f"{label:7} {len(text) / 1024:.0f} KB: neutralise {ours * 1000:.1f} ms, "
            f"markdown-it render {render * 1000:.1f} ms, ratio {ours / render:.2f}"
        )
    verdict = "ok" if worst <= TARGET else "over"
    print(f"worst ratio {worst:.2f} (target <= {TARGET}): {verdict}")


if __name__ == "__main__":
    main()
