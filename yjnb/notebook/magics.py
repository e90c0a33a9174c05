"""`YJMagics`: every yjnb magic, its arguments and its settings (`%config YJMagics.*`).

The methods here only parse arguments and route: each calls one command module,
`commands/chat.py` (%%yj_chat), `experiment.py` (%%yj_chat --over DF), `config.py`
(%yj_config), `models.py` (%yj_models), `media.py` (%yj_video, %yj_image, with `--remix`;
`--over DF`: `experiment.py`), `tasks.py` (%yj_tasks) and `usage.py` (%yj_usage), imported
when the magic first runs (the argument types and groups are `arguments.py`'s);
`user_errors` turns expected errors into one-line `UsageError`s. The commands get the
magics' `Session` (`session.py`), which reads these traitlets live. Nothing imports this
module but the extension loader (`__init__.py`).

Every magic takes `-p PROFILE`; the magics that call a gateway take `--platform P` to use
another of its platforms for one cell. `protocols.py` holds what depends on the protocol.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import Bool, Dict, Enum, Float, Integer, TraitError, Unicode, observe, validate
from traitlets.config.configurable import Configurable

from .._errors import YJError
from .arguments import (
    chat_models,
    media_arguments,
    media_words,
    over_arguments,
    split_words,
    stacked,
)
from .session import Session

__all__ = ["YJMagics"]

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(method: F) -> F:
    """Expected errors become one-line `UsageError`s: no traceback for a typo or a 401."""

    @functools.wraps(method)
    def wrapper(self: YJMagics, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except UsageError:
            raise
        except YJError as exc:
            raise UsageError(f"{type(exc).__name__}: {exc}") from None

    return wrapper  # type: ignore[return-value]


def answers_help(method: F) -> F:
    """`--help`, `-h` or `?` anywhere on the line prints the magic's help instead of running it
    (IPython's magic parsers have no help option: `%yj_tasks --help` was an unknown argument)."""

    @functools.wraps(method)
    def wrapper(self: YJMagics, line: str, *args: Any, **kwargs: Any) -> Any:
        words = line.split()
        if words == ["?"] or "--help" in words or "-h" in words:
            print(getattr(self, method.__name__).parser.format_help())
            return None
        return method(self, line, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


@magics_class
class YJMagics(Magics, Configurable):
    """Magics for the Yuanjing platform. Settings: `%config YJMagics`."""

    # Empty: the profile's protocol picks (one table per protocol, `yjnb.protocols`).
    model = Unicode(
        "",
        help="Default chat model for %%yj_chat; empty means the profile's protocol's default "
        "(qwen3-max on Yuanjing, gemini-2.5-flash on openai and gateway profiles, gpt-4o-mini "
        "on the gateway's openai platform).",
    ).tag(config=True)
    image_model = Unicode(
        "",
        help="Default model for %yj_image; empty means the profile's protocol's default "
        "(wan2.2-t2i-flash on Yuanjing, nano-banana-pro or dall-e-3 elsewhere).",
    ).tag(config=True)
    video_model = Unicode(
        "",
        help="Default model for %yj_video; empty means the profile's protocol's default "
        "(viduq3-pro on Yuanjing, veo-3.1 or sora-2 elsewhere).",
    ).tag(config=True)
    profile = Unicode(
        "", help="Profile to use (see ~/.yjnb/config.toml); empty means the settings' default."
    ).tag(config=True)
    max_history = Integer(
        10, help="Exchanges of one conversation sent along with a %%yj_chat prompt."
    ).tag(config=True)
    refresh_interval = Float(
        0.1, help="Seconds between live display updates (streams and task cards)."
    ).tag(config=True)
    stream_output = Enum(
        ["auto", "display", "stdout"],
        "auto",
        help="Where %%yj_chat streams: one live display (Jupyter), stdout (terminal IPython), "
        "or auto: display in a Jupyter kernel, stdout elsewhere.",
    ).tag(config=True)
    wait_timeout = Float(600.0, help="Seconds a media magic waits for its task.").tag(config=True)
    media_dir = Unicode(
        "media",
        help="Folder for the media the magics and forms make, relative to the notebook (the "
        "kernel's working directory), so a saved notebook finds them again; --save overrides "
        "it; empty means YJ_HOME/media (not reachable from the notebook: images are embedded).",
    ).tag(config=True)
    budget_credits = Float(
        0.0, help="Daily credit budget: warn at 80%, refuse paid calls beyond it. 0 = none."
    ).tag(config=True)
    session_budget_credits = Float(
        0.0, help="Credit budget for this kernel session. 0 = none."
    ).tag(config=True)
    team_budget_credits = Float(
        0.0,
        help="Daily credit budget of the whole team on a shared ledger (every user's calls): "
        "checked and reserved atomically, warn at 80%, refuse beyond it naming who spent what "
        "(--force runs anyway). 0 = none.",
    ).tag(config=True)
    ledger = Bool(True, help="Record every call and task in the usage ledger.").tag(config=True)
    ledger_prompts = Bool(True, help="Store prompts in the usage ledger.").tag(config=True)
    ledger_url = Unicode(
        "",
        help="A shared team ledger on PostgreSQL (postgresql://...), for every call of this "
        "kernel. Empty: YJ_LEDGER_URL, else the profile's ledger_url, else YJ_HOME's file.",
    ).tag(config=True)
    prices = Dict(
        help="Credits per 1,000 tokens by model, for estimates where the platform reports no "
        'credits: {"qwen3-max": {"input": 0.0024, "output": 0.0096}}. Empty: '
        "YJ_HOME/prices.toml if there is one. Estimates are always marked (≈, est.).",
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, config=getattr(shell, "config", None), **kwargs)
        self.session = Session(self, shell)  # reads the traitlets above, live

    @validate("prices")
    def _check_prices(self, proposal: Any) -> Any:
        from .._estimates import parse_prices

        try:
            parse_prices(proposal["value"])
        except YJError as exc:
            raise TraitError(str(exc)) from None
        return proposal["value"]

    @observe("prices")
    def _prices_set(self, change: Any) -> None:
        """The process's price table (the core's estimates read it): this, else the file."""
        from .._prices import configure

        configure(change["new"])

    @validate("ledger_url")
    def _check_ledger_url(self, proposal: Any) -> Any:
        value = str(proposal["value"]).strip()
        if value and not value.lower().startswith(("postgresql://", "postgres://")):
            raise TraitError("ledger_url must start with postgresql:// (or be empty: local)")
        return value

    @observe("ledger", "ledger_prompts", "ledger_url")
    def _ledger_switched(self, change: Any) -> None:
        """`%config YJMagics.ledger = False` / `ledger_prompts = False` / `ledger_url = ...`
        switch the process's ledger (it records calls made outside the magics too, so the
        switch is process-wide)."""
        from ..ledger import configure

        if change["name"] == "ledger":
            configure(enabled=bool(change["new"]))
        elif change["name"] == "ledger_url":
            configure(url=str(change["new"]))
        else:
            configure(prompts=bool(change["new"]))

    # -- chat, config, models ----------------------------------------------------------------

    @magic_arguments()
    @argument(
        "-m", "--model", type=chat_models,
        help="Model, or several comma-separated to compare side by side.",
    )  # fmt: skip
    @argument("-s", "--system", help="System prompt.")
    @argument("--no-stream", action="store_true", help="Wait for the whole answer.")
    @argument("-o", "--output", metavar="VAR", help="Also store the result in this variable.")
    @argument("--new", action="store_true", help="Start a new conversation.")
    @argument("-p", "--profile", help="Profile to use for this cell.")
    @argument("--platform", help="Gateway profiles: the platform for this cell.")
    @argument(
        "--api", choices=["chat", "responses"], default="chat",
        help="openai profiles: 'responses' uses /v1/responses instead of chat completions.",
    )  # fmt: skip
    @argument("--responses", dest="api", action="store_const", const="responses",
              help="Same as --api responses.")  # fmt: skip
    @argument(
        "-f", "--format", choices=["markdown", "text", "code", "json"], default="markdown",
        help="How to show the answer.",
    )  # fmt: skip
    @argument("--raw", action="store_true", help="Do not fill {name} from the namespace.")
    @argument("--force", action="store_true", help="Run even beyond the credit budget.")
    @stacked(over_arguments("the cell"))
    @argument(
        "params", nargs="*",
        help="Model parameters as name=value; images=a.jpg,b.png (openai, gateway) and "
        "files=doc.pdf (gateway) attach local files or URLs to the message.",
    )  # fmt: skip
    @line_cell_magic  # the line form only answers `%yj_chat --help` (IPython refuses an
    @answers_help  # empty cell before the magic runs, and points to the line form)
    @user_errors
    def yj_chat(self, line: str, cell: str | None = None) -> None:
        """Send the cell to a chat model and stream the answer."""
        from .commands.chat import run_chat

        if cell is None:
            raise UsageError("%%yj_chat takes the prompt in the cell, under %%yj_chat [options]")
        args = self.yj_chat.parser.parse_args(split_words(line))  # quotes removed
        if (
            args.over is not None
            or args.name
            or args.repeat != 1
            or args.concurrency
            or args.budget
        ):
            from .commands.experiment import run_experiment_cell

            run_experiment_cell(self.session, args, cell)  # refuses them without --over
        elif args.dry_run or args.refresh:
            raise UsageError("--dry-run, --refresh: only with --over DF (an experiment)")
        else:
            run_chat(self.session, args, cell)

    @magic_arguments()
    @argument("--key", action="store_true", help="Enter the API key (hidden, not stored).")
    @argument(
        "--demo", action="store_true",
        help="Use the demo emulator (started if needed); with --add-profile: the new profile "
        "uses the emulator.",
    )  # fmt: skip
    @argument("-p", "--profile", help="Switch to this profile.")
    @argument("--add-profile", metavar="NAME", help="Write a profile to the config file.")
    @argument("--protocol", help="With --add-profile: yuanjing, yuanjing-legacy, openai, gateway.")
    @argument("--base-url", metavar="URL", help="With --add-profile: the service's base URL.")
    @argument("--key-env", metavar="VAR", help="With --add-profile: the variable with the key.")
    @argument("--platform", help="With --add-profile: the gateway's platform (google, ...).")
    @argument("--default", action="store_true", help="With --add-profile: make it the default.")
    @line_magic
    @answers_help
    @user_errors
    def yj_config(self, line: str) -> Any:
        """Show or change yjnb's settings (the key is always masked); add profiles."""
        from .commands.config import run_config

        return run_config(self.session, self.yj_config.parser.parse_args(split_words(line)))

    @magic_arguments()
    @argument("catelog", nargs="?", help="t2t, t2i, t2v, i2v or ref2v.")
    @argument("-p", "--profile", help="Profile to use (its protocol picks the catalog).")
    @argument("--platform", help="Gateway profiles: list this platform's models.")
    @line_magic
    @answers_help
    @user_errors
    def yj_models(self, line: str) -> Any:
        """A table of models with their parameters and allowed values."""
        from .commands.models import run_models

        return run_models(self.session, self.yj_models.parser.parse_args(split_words(line)))

    # -- media tasks ---------------------------------------------------------------------------

    @media_arguments("video")
    @line_cell_magic
    @no_var_expand  # the line may hold an experiment's template (`media_words`)
    @answers_help
    @user_errors
    def yj_video(self, line: str, cell: str | None = None) -> Any:
        """Generate a video; with no prompt, show a form."""
        from .commands.media import run_media

        # Intermixed: prompt words may follow options (`-o t a cat on the moon`).
        args = self.yj_video.parser.parse_intermixed_args(media_words(self.shell, line))
        return run_media(self.session, "video", args, cell)

    @media_arguments("image")
    @line_cell_magic
    @no_var_expand  # the line may hold an experiment's template (`media_words`)
    @answers_help
    @user_errors
    def yj_image(self, line: str, cell: str | None = None) -> Any:
        """Generate an image; with no prompt, show a form."""
        from .commands.media import run_media

        args = self.yj_image.parser.parse_intermixed_args(media_words(self.shell, line))
        return run_media(self.session, "image", args, cell)

    @magic_arguments()
    @argument("--resume", action="store_true", help="Re-attach live cards to unfinished tasks.")
    @argument("--all", action="store_true", help="List every task, not only recent ones.")
    @argument("-p", "--profile", help="Only the tasks of this profile.")
    @argument(
        "--forget", metavar="TASKID",
        help="Hide this task from the list and --resume (its ledger row stays).",
    )  # fmt: skip
    @argument("--forget-lost", action="store_true", help="Forget every task marked lost.")
    @argument("taskid", nargs="?", help="One task to show.")
    @line_magic
    @answers_help
    @user_errors
    def yj_tasks(self, line: str) -> Any:
        """List tasks and their status; --resume picks unfinished ones up again."""
        from .commands.tasks import run_tasks

        return run_tasks(self.session, parse_argstring(self.yj_tasks, line))

    # -- the ledger ----------------------------------------------------------------------------

    @magic_arguments()
    @argument(
        "--by", choices=["model", "kind", "day", "profile", "user", "host"], default="model",
        help="Group by this (user, host: who and where, on a shared team ledger).",
    )  # fmt: skip
    @argument("--since", metavar="DATE", help="Only calls since this date (YYYY-MM-DD).")
    @argument("--plot", action="store_true", help="Chart credits and tokens over time.")
    @argument("-p", "--profile", help="Only the calls made with this profile.")
    @argument(
        "--demo", action="store_true",
        help="The calls made in demo mode (the emulator) instead of the real ones.",
    )  # fmt: skip
    @line_magic
    @answers_help
    @user_errors
    def yj_usage(self, line: str) -> Any:
        """What was spent, on what: a summary of the usage ledger."""
        from .commands.usage import run_usage

        return run_usage(self.session, parse_argstring(self.yj_usage, line))
