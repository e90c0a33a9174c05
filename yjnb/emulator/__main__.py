"""``python -m yjnb.emulator --port 8765``: the emulator in the foreground, loopback only.

``--api-key``/``--balance`` set the key it accepts and its starting credits (default: the
demo key with 1,000,000); ``--rpm``/``--tpm`` give every key a per-minute quota.
"""

from __future__ import annotations

import argparse
import math
import sys

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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be positive")
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
    make_server(create_app(state), log_level=args.log_level).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
