"""``python -m yjnb.emulator --port 8765``: the emulator in the foreground, loopback only.

``--api-key``/``--balance`` set the key it accepts and its starting credits (default: the
demo key with 1,000,000); ``--rpm``/``--tpm`` give every key a per-minute quota.

``--state-file PATH`` (what demo mode starts it with): once the port listens, write
``{"pid", "port", "url", "api_key", "started_at"}`` there as JSON (atomically), so that other
processes find it; the file is removed when this process ends normally. ``--idle-exit N``:
end after N seconds without a request (none in flight), so that an emulator nobody uses any
more does not run forever.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from .app import create_app
from .quotas import limits_from
from .server import HOST, bind, make_server
from .state import DEFAULT_CREDITS, DEMO_KEY, State, initial_keys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m yjnb.emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="loopback port (0: any free one)")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="task and quota clock multiplier (1.0: realistic)"
    )
    parser.add_argument(
        "--chunk-delay", type=float, default=0.0, help="seconds between stream chunks"
    )
    parser.add_argument(
        "--api-key", default=None, help=f"the API key it accepts (default: {DEMO_KEY})"
    )
    parser.add_argument(
        "--balance",
        type=float,
        default=None,
        help=f"the key's starting credits (default: {DEFAULT_CREDITS:,.0f})",
    )
    parser.add_argument("--rpm", type=int, default=None, help="requests per minute, per key")
    parser.add_argument("--tpm", type=int, default=None, help="chat tokens per minute, per key")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument(
        "--state-file", type=Path, default=None, help="write the port, pid and key here (JSON)"
    )
    parser.add_argument(
        "--idle-exit", type=float, default=0.0, help="end after this many idle seconds (0: never)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be positive")
    if not (math.isfinite(args.idle_exit) and args.idle_exit >= 0):
        parser.error("--idle-exit must be a number of seconds (0: never)")
    if args.balance is not None and not math.isfinite(args.balance):
        parser.error("--balance must be a number")
    try:
        keys = initial_keys(api_key=args.api_key, balance=args.balance)
        limits = limits_from({"rpm": args.rpm, "tpm": args.tpm})
    except ValueError as exc:
        parser.error(str(exc))
    sock = bind(args.port)
    port = sock.getsockname()[1]
    state = State(keys, speed=args.speed, chunk_delay=args.chunk_delay, limits=limits)
    key = args.api_key or DEMO_KEY
    print(f"yjnb emulator on http://{HOST}:{port}", flush=True)
    print(f"{'api' if args.api_key else 'demo'} key: {key}", flush=True)
    print(f"try: YJ_BASE_URL=http://{HOST}:{port} YJ_API_KEY={key}", flush=True)
    if args.balance is not None:
        print(f"balance: {keys[key]:g} credits", flush=True)
    if limits.active:
        quota = ", ".join(f"{n} {name}" for name, n in limits.describe().items() if n)
        print(f"quota per key: {quota}", flush=True)
    app: Any = create_app(state)
    if args.idle_exit > 0:
        app = _Activity(app)
    server = make_server(app, log_level=args.log_level)
    if args.idle_exit > 0:
        _exit_when_idle(server, app, args.idle_exit)
    if args.state_file is None:
        server.run(sockets=[sock])
        return 0
    sock.listen(2048)  # connections made from now on wait in the backlog until uvicorn runs
    _write_state(args.state_file, port, key)
    try:
        server.run(sockets=[sock])
    finally:
        _remove_state(args.state_file)
    return 0


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class _Activity:
    """The app, noting when it last served and how many requests are in flight."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = time.monotonic()
        self.active = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.active += 1  # one event loop: no lock needed
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1
            self.last = time.monotonic()


def _exit_when_idle(server: Any, activity: _Activity, idle: float) -> None:
    def watch() -> None:
        while not server.should_exit:
            time.sleep(min(5.0, idle / 4))
            if activity.active == 0 and time.monotonic() - activity.last > idle:
                print(f"idle for {idle:g} s: exiting", flush=True)
                server.should_exit = True

    threading.Thread(target=watch, name="yjnb-emulator-idle", daemon=True).start()


def _write_state(path: Path, port: int, key: str) -> None:
    """The state file, written whole or not at all (a reader never sees half of it)."""
    state = {
        "pid": os.getpid(),
        "port": port,
        "url": f"http://{HOST}:{port}",
        "api_key": key,
        "started_at": time.time(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(tmp, path)


def _remove_state(path: Path) -> None:
    """Remove the state file if it still names this process (a successor may own it now)."""
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
