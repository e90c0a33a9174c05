"""The notebook layer: magics, live views and forms. The only code importing IPython/ipywidgets."""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext yjnb`: register the magics (their work is imported when they first run)."""
    from .magics import YJMagics

    magics = YJMagics(shell=ipython)
    ipython.register_magics(magics)
    from .chat import on_load

    on_load(magics)


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import YJMagics

    manager = ipython.magics_manager
    for kind in ("line", "cell"):
        for name in list(manager.magics[kind]):
            if getattr(manager.magics[kind][name], "__self__", None).__class__ is YJMagics:
                del manager.magics[kind][name]
