"""A local Yuanjing platform: the platform's HTTP API over real loopback sockets.

It serves the Yuanjing API (``/llmage``, seeds 000-002), the OpenAI-compatible service
(``/v1``, seed 004) and the multi-platform gateway (``/{platform}/v1``, seed 003).

It powers demo mode, the tutorials, the tests and the benchmarks. It is written from the
platform seeds independently of the client (it imports nothing from ``yjnb`` outside this
package), so a misreading of the docs on one side is caught by the other.

    from yjnb.emulator import serve, DEMO_KEY
    with serve(speed=50.0) as emu:
        emu.url, emu.api_key, emu.count("POST /llmage/v1/chat/completions")

Options: ``api_key=``/``balance=`` (the accepted key and its credits), ``rpm=``/``tpm=``
(per-key quotas per minute of platform time, changed later with ``emu.set_limits``); the
same as ``python -m yjnb.emulator --api-key K --balance N --rpm N --tpm N``.
"""

from __future__ import annotations

from .app import create_app
from .server import Emulator, serve
from .state import DEMO_KEY, State

__all__ = ["DEMO_KEY", "Emulator", "State", "create_app", "serve"]
