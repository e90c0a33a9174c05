"""yjnb: a Jupyter-first toolkit for the Yuanjing (元境) AI platform.

`import yjnb` is cheap: httpx, IPython, ipywidgets and pandas are imported when first needed,
so every public name below is resolved lazily (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "APIConnectionError",
    "APIError",
    "AsyncChatStream",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "ChatChunk",
    "ChatResult",
    "ChatStream",
    "Client",
    "ConfigError",
    "Experiment",
    "InsufficientBalanceError",
    "Ledger",
    "Limits",
    "MalformedResponse",
    "ModelInfo",
    "RateLimitError",
    "ServerError",
    "StreamInterrupted",
    "Task",
    "TaskFailed",
    "TaskLost",
    "TaskTimeout",
    "Usage",
    "UsageRecord",
    "ValidationError",
    "YJError",
    "YJWarning",
    "__version__",
    "add_usage_sink",
    "experiment",
    "form",
    "remove_usage_sink",
    "scorers",
    "usage",
]

_LAZY = {
    "AsyncChatStream": "._chat",
    "AsyncClient": "._client",
    "YJWarning": "._client",
    "ChatStream": "._sync",
    "Experiment": "._experiment",
    "experiment": "._experiment_api",
    "Client": "._sync",
    "ChatChunk": "._types",
    "ChatResult": "._types",
    "ModelInfo": "._types",
    "Limits": "._limits",
    "Task": "._types",
    "Usage": "._types",
    "UsageRecord": "._types",
    "add_usage_sink": "._hooks",
    "remove_usage_sink": "._hooks",
    "Ledger": ".ledger",
    "usage": ".ledger",
    "form": ".notebook",
}
_ERROR_ENDINGS = ("Error", "Interrupted", "Failed", "Lost", "Timeout", "Response")
_ERRORS = {name for name in __all__ if name.endswith(_ERROR_ENDINGS)}

if TYPE_CHECKING:
    from . import scorers
    from ._chat import AsyncChatStream
    from ._client import AsyncClient, YJWarning
    from ._errors import (
        APIConnectionError,
        APIError,
        AuthenticationError,
        BadRequestError,
        ConfigError,
        InsufficientBalanceError,
        MalformedResponse,
        RateLimitError,
        ServerError,
        StreamInterrupted,
        TaskFailed,
        TaskLost,
        TaskTimeout,
        ValidationError,
        YJError,
    )
    from ._experiment import Experiment
    from ._experiment_api import experiment
    from ._hooks import add_usage_sink, remove_usage_sink
    from ._limits import Limits
    from ._sync import ChatStream, Client
    from ._types import ChatChunk, ChatResult, ModelInfo, Task, Usage, UsageRecord


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext yjnb`."""
    from .notebook import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .notebook import unload_ipython_extension as unload

    unload(ipython)


def __getattr__(name: str) -> Any:
    if name == "scorers":  # a module: `yjnb.scorers.contains(...)`
        value = importlib.import_module(".scorers", __name__)
        globals()[name] = value
        return value
    module = "._errors" if name in _ERRORS else _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'yjnb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
