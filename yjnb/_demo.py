"""Demo mode: the embedded emulator, started once per process in a background thread."""

from __future__ import annotations

import atexit
import threading
from contextlib import AbstractContextManager
from typing import Any

from ._errors import ConfigError

__all__ = ["DEMO_CHUNK_DELAY_S", "DEMO_SPEED", "demo_endpoint"]

# Fast enough that a tutorial video finishes in a few seconds, slow enough that the stream
# and the task card are visibly live.
DEMO_SPEED = 10.0
DEMO_CHUNK_DELAY_S = 0.02

_lock = threading.Lock()
_server: Any = None
_context: AbstractContextManager[Any] | None = None


def demo_endpoint() -> tuple[str, str]:
    """(base URL, API key) of the process's embedded emulator, starting it if needed."""
    global _server, _context
    with _lock:
        if _server is None:
            try:
                from .emulator import serve
            except ImportError as exc:  # starlette/uvicorn are the `demo` extra
                raise ConfigError(
                    f"demo mode needs the emulator's dependencies ({exc.name} is missing): "
                    "pip install 'yjnb[demo]'"
                ) from None
            _context = serve(speed=DEMO_SPEED, chunk_delay=DEMO_CHUNK_DELAY_S)
            _server = _context.__enter__()
            atexit.register(_stop)
        return _server.url, _server.api_key


def _stop() -> None:
    global _server, _context
    with _lock:
        if _context is not None:
            _context.__exit__(None, None, None)
        _server = _context = None
