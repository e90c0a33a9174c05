"""``python -m yjnb.emulator --port 8765``: the emulator in the foreground, loopback only."""

from __future__ import annotations

import argparse
import sys

from .app import create_app
from .server import HOST, bind, make_server
from .state import DEMO_KEY, State


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yjnb.emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="loopback port (0: any free one)")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="task clock multiplier (1.0: realistic)"
    )
    parser.add_argument(
        "--chunk-delay", type=float, default=0.0, help="seconds between stream chunks"
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be positive")
    sock = bind(args.port)
    port = sock.getsockname()[1]
    state = State(speed=args.speed, chunk_delay=args.chunk_delay)
    print(f"yjnb emulator on http://{HOST}:{port}", flush=True)
    print(f"demo key: {DEMO_KEY}", flush=True)
    print(f"try: YJ_BASE_URL=http://{HOST}:{port} YJ_API_KEY={DEMO_KEY}", flush=True)
    make_server(create_app(state), log_level=args.log_level).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
