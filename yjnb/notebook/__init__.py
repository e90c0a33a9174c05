"""The notebook layer: magics, live views and forms. The only code importing IPython/ipywidgets.

This module is the extension loader, the one place that imports the magics class:
`%load_ext yjnb` registers `YJMagics` and imports nothing heavy (no httpx, pandas, ipywidgets
or sqlite3); each magic imports its command module when it first runs. `form()` (`yjnb.form`)
finds the session of the loaded extension.

    magics.py      arguments and settings only; routes each magic to commands/<command>.py
    session.py     what commands, services and forms share (settings, clients, kernel state)
    commands/      one module per magic
    services/      the task service, streams, budgets, conversations, request checks
    views/         stream view, task card, tables, HTML helpers
    widgets/       the forms
    protocols.py   every decision that depends on a profile's protocol
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import Session
    from .widgets.forms import TaskForm

__all__ = ["current_session", "form", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext yjnb`: register the magics (their work is imported when they first run)."""
    from .hint import print_key_hint
    from .magics import YJMagics

    magics = YJMagics(shell=ipython)
    ipython.register_magics(magics)
    print_key_hint(magics.session)


def unload_ipython_extension(ipython: Any) -> None:
    from .._prices import configure
    from .magics import YJMagics

    configure(None)  # `%config YJMagics.prices` goes with the magics
    manager = ipython.magics_manager
    for kind in ("line", "cell"):
        for name in list(manager.magics[kind]):
            if getattr(manager.magics[kind][name], "__self__", None).__class__ is YJMagics:
                del manager.magics[kind][name]


def current_session() -> Session:
    """The session of the extension loaded in the running IPython, else a stand-alone one
    (the settings at their defaults and the shell's `c.YJMagics` config, its own clients)."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency
        shell = None
    if shell is not None:
        # Looked up by name: the registry holds the loaded instance, whichever module made it.
        found = shell.magics_manager.registry.get("YJMagics")
        if found is not None:
            return found.session
    from .magics import YJMagics

    return YJMagics(shell=shell).session


def form(
    kind: str = "video",
    *,
    session: Session | None = None,
    model: str | None = None,
    values: dict[str, Any] | None = None,
    profile: str | None = None,
    platform: str | None = None,
) -> TaskForm:
    """`yjnb.form("video")`: the form for `kind` ("video" or "image"), optionally starting from
    a model and values; `profile` (and a gateway's `platform`) picks the endpoint and so the
    catalog. It uses the session of `%load_ext yjnb` (its settings, clients and tasks)."""
    from .widgets.forms import TaskForm

    return TaskForm(
        kind,
        session if session is not None else current_session(),
        model=model,
        values=values,
        profile=profile,
        platform=platform,
    )
