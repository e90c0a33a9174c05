"""The magics' argument types and shared argument groups (`magics.py` applies them).

The words of a line are split like a shell's (`split_words`); the media magics take the raw
line and fill `{name}` from the notebook themselves, except with --over (`media_words`).
"""

from __future__ import annotations

import argparse
import math
import shlex
from collections.abc import Callable, Sequence
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments

__all__ = [
    "chat_models",
    "media_arguments",
    "media_words",
    "models_given",
    "over_arguments",
    "positive_seconds",
    "split_words",
    "stacked",
    "whole_number",
]


def chat_models(value: str) -> str:
    """-m for %%yj_chat: one model or several, comma-separated, at least one named."""
    if not any(name.strip() for name in value.split(",")):
        raise argparse.ArgumentTypeError(f"no model in {value!r}: give -m NAME or -m NAME,NAME")
    return value.strip()


def models_given(value: str) -> str:
    """-m for the media magics: a model, named (several, a,b, only with --over: checked
    where the other options are known)."""
    name = value.strip()
    if not name.strip(", "):
        raise argparse.ArgumentTypeError(f"no model in {value!r}: give -m NAME")
    return name


def whole_number(value: str) -> int:
    """--repeat, --concurrency: a whole number, 1 or more."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"give a whole number, 1 or more, not {value!r}")
    return number


def positive_seconds(value: str) -> float:
    """--timeout: a number of seconds above zero (0, negative or nan would not wait at all)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"give a positive number of seconds, not {value!r}")
    return seconds


def over_arguments(template: str) -> list[Callable[[Any], Any]]:
    """The experiment options (`--over DF` and what goes with it) of %%yj_chat and the media
    magics; `template` says where the template is."""
    return [
        argument(
            "--over",
            metavar="DF",
            help=f"Run {template} as a template over every row of this DataFrame (or list): an "
            "experiment, cached and resumable.",
        ),
        argument("--name", help="With --over: the experiment's name (ledger, cache rows)."),
        argument("--repeat", type=whole_number, default=1, help="With --over: samples per cell."),
        argument(
            "--concurrency", type=whole_number, help="With --over: at most this many in flight."
        ),
        argument("--budget", type=float, help="With --over: credits the run may spend."),
        argument("--dry-run", action="store_true", help="With --over: the plan only."),
        argument("--refresh", action="store_true", help="With --over: not from the cache."),
    ]


def stacked(decorators: Sequence[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    """The decorators applied as if stacked in this order above the function."""

    def apply(func: Any) -> Any:
        for decorate in reversed(decorators):
            func = decorate(func)
        return func

    return apply


def media_arguments(kind: str) -> Callable[[Any], Any]:
    """The arguments %yj_video and %yj_image share."""
    decorators: list[Callable[[Any], Any]] = [
        magic_arguments(),
        argument(
            "-m",
            "--model",
            type=models_given,
            help=f"Model (default: YJMagics.{kind}_model); with --over, a,b for several.",
        ),
        argument("--bg", action="store_true", help="Return at once; the card keeps updating."),
        argument("--save", metavar="DIR", help="Save media here (relative to the notebook)."),
        argument(
            "--timeout",
            type=positive_seconds,
            help="Seconds to wait (default YJMagics.wait_timeout).",
        ),
        argument("-o", "--output", metavar="VAR", help="Keep the Task (--over: the run) here."),
        argument("-p", "--profile", help="Profile to use."),
        argument("--platform", help="Gateway profiles: the platform for this cell."),
        argument("--force", action="store_true", help="Run even beyond the credit budget."),
    ]
    if kind == "video":
        decorators.append(
            argument(
                "--remix",
                metavar="TASKID",
                help="Remix this finished video with the prompt (openai and gateway profiles).",
            )
        )
    decorators += over_arguments("the prompt")
    decorators.append(argument("words", nargs="*", help="name=value parameters, then the prompt."))
    return stacked(decorators)


def split_words(line: str) -> list[str]:
    """Shell-like words; an unbalanced quote is a usage error, not a traceback."""
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise UsageError(f"cannot parse the line ({exc}); check the quotes") from None


def media_words(shell: Any, line: str) -> list[str]:
    """The media magics' words. IPython fills `{name}` in a magic's line from the notebook's
    variables before the magic runs; these magics take the raw line (`no_var_expand`), so that
    with --over the braces stay the template's, and fill it themselves otherwise, as before."""
    from IPython.utils.text import DollarFormatter

    words = split_words(line)
    if any(word == "--over" or word.startswith("--over=") for word in words):
        return words
    try:
        line = DollarFormatter().vformat(line, args=[], kwargs=shell.user_ns)
    except Exception:  # as IPython does: a line it cannot fill is left as it is
        return words
    return split_words(line)
