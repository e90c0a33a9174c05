"""Who makes a call, and where: the `user` and `host` of every ledger row."""

from __future__ import annotations

import getpass
import os
import socket

from ._env import getenv

__all__ = ["who"]


def who() -> tuple[str, str]:
    """(user, host) for a row: `YJ_USER`, else `JUPYTERHUB_USER` (JupyterHub sets it for each
    user's server, whose login is often the same `jovyan` for all), else the login name; the
    machine's name."""
    return getenv("YJ_USER") or getenv("JUPYTERHUB_USER") or _login(), _host()


_identity: dict[str, str] = {}


def _login() -> str:
    if "login" not in _identity:
        try:
            _identity["login"] = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (some containers)
            _identity["login"] = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return _identity["login"]


def _host() -> str:
    if "host" not in _identity:
        _identity["host"] = socket.gethostname()
    return _identity["host"]
