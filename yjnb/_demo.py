"""Demo mode: one emulator *process* per `YJ_HOME`, shared by every kernel and script using it.

The first demo call starts `python -m yjnb.emulator` detached (its own session: it outlives
the kernel that started it; its output goes to `YJ_HOME/demo-emulator.log`). The emulator
writes `YJ_HOME/demo-emulator.json` (`pid`, `port`, `url`, `api_key`, `started_at`) once its
port listens; later calls, from this process or any other, find it there. So demo tasks
survive a kernel restart (`%yj_tasks --resume`), and several kernels share one demo platform,
as they would share the real one. A file lock (`demo-emulator.lock`) keeps two kernels from
starting two emulators at once. An emulator that died or stopped answering is replaced.

It ends by itself after `IDLE_EXIT_S` (4 hours; `YJ_DEMO_IDLE_EXIT` seconds if set) without a
request; `stop_demo(home)` stops it
at once (tests; `make demo-stop`; `python -m yjnb._demo stop|start|status [HOME]`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ._errors import ConfigError

__all__ = [
    "DEMO_CHUNK_DELAY_S",
    "DEMO_SPEED",
    "LOG_FILE",
    "STATE_FILE",
    "DemoEmulator",
    "demo_emulator",
    "demo_endpoint",
    "read_state",
    "stop_demo",
]

# Fast enough that a tutorial video finishes in a few seconds, slow enough that the stream
# and the task card are visibly live.
DEMO_SPEED = 10.0
DEMO_CHUNK_DELAY_S = 0.02

STATE_FILE = "demo-emulator.json"
LOG_FILE = "demo-emulator.log"
LOCK_FILE = "demo-emulator.lock"
# Starting takes about a second; a busy machine (or a cold disk cache) may take much longer.
START_TIMEOUT_S = 60.0
CHECK_TIMEOUT_S = 3.0
# An emulator nobody has asked anything for this long ends (its state file with it): a
# throwaway YJ_HOME (a tutorial's, a test run's) leaves no process behind for good. Demo tasks
# it held are gone then; nothing was paid for them.
IDLE_EXIT_S = 4 * 3600.0

_LOOPBACK_URL = re.compile(r"http://127\.0\.0\.1:[0-9]{1,5}")
_children: list[subprocess.Popen[bytes]] = []  # kept so that a child that dies is reaped


@dataclass(frozen=True)
class DemoEmulator:
    """A running demo emulator, as its state file describes it."""

    url: str
    api_key: str
    pid: int
    state_file: Path


def demo_endpoint(home: str | os.PathLike[str] | None = None) -> tuple[str, str]:
    """(base URL, API key) of the demo emulator of `home` (default: YJ_HOME), started if needed."""
    emulator = demo_emulator(home)
    return emulator.url, emulator.api_key


def demo_emulator(home: str | os.PathLike[str] | None = None) -> DemoEmulator:
    """The demo emulator of `home`: the running one if it answers, else a new one."""
    home_path = _home(home)
    found = _answering(read_state(home_path))
    if found is not None:  # the usual case: no lock needed to use a running emulator
        return found
    home_path.mkdir(parents=True, exist_ok=True)
    with _locked(home_path / LOCK_FILE):
        found = read_state(home_path)  # another process may have started it meanwhile
        if _answering(found) is not None:
            assert found is not None
            return found
        if found is not None:
            _end(found)  # alive but not answering: hung; it must not linger
        return _start(home_path)


def read_state(home: str | os.PathLike[str]) -> DemoEmulator | None:
    """What `home`'s state file says, or None (no file, or not one the emulator wrote)."""
    path = Path(home) / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found = DemoEmulator(str(data["url"]), str(data["api_key"]), int(data["pid"]), path)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    # Only ever a loopback emulator: a file pointing elsewhere would send prompts off the machine.
    return found if _LOOPBACK_URL.fullmatch(found.url) else None


def stop_demo(home: str | os.PathLike[str] | None = None, timeout: float = 10.0) -> bool:
    """Stop `home`'s demo emulator and remove its state file. False if none was running."""
    home_path = _home(home)
    found = read_state(home_path)
    if found is None:
        return False
    stopped = _end(found, timeout=timeout)
    with contextlib.suppress(OSError):
        if read_state(home_path) == found:
            found.state_file.unlink()
    return stopped


# -- checking -----------------------------------------------------------------------------------


def _home(home: str | os.PathLike[str] | None) -> Path:
    if home is not None:
        return Path(home).expanduser()
    from ._config import load_settings

    return load_settings().home


def _answering(found: DemoEmulator | None) -> DemoEmulator | None:
    """`found` if its process runs and its admin endpoint answers, else None."""
    if found is None or not _alive(found.pid):
        return None
    import httpx

    try:
        response = httpx.get(f"{found.url}/_emulator/stats", timeout=CHECK_TIMEOUT_S)
    except httpx.HTTPError:
        return None
    return found if response.status_code == 200 else None


def _alive(pid: int) -> bool:
    for child in _children:  # our own child: reap it if it ended (a zombie still "exists")
        if child.pid == pid and child.poll() is not None:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process took the number
        return False
    except OSError:  # Windows: no signal 0; assume alive and let the HTTP check decide
        return True
    return True


def _ours(found: DemoEmulator) -> bool:
    """Whether `found.pid` is really the emulator that wrote the file (pids are reused).
    Known only where /proc shows command lines; elsewhere, assumed not."""
    try:
        cmdline = Path(f"/proc/{found.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"yjnb.emulator" in cmdline and os.fsencode(found.state_file) in cmdline


def _end(found: DemoEmulator, timeout: float = 10.0) -> bool:
    """Terminate the emulator's process (if it is ours) and wait up to `timeout` for it."""
    if not _alive(found.pid) or not _ours(found):
        return False
    with contextlib.suppress(OSError):
        os.kill(found.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(found.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if _alive(found.pid):
        with contextlib.suppress(OSError):
            os.kill(found.pid, getattr(signal, "SIGKILL", signal.SIGTERM))
    return True


# -- starting -----------------------------------------------------------------------------------


def _command(state_file: Path) -> list[str]:
    return [
        sys.executable, "-m", "yjnb.emulator", "--port", "0",
        "--speed", str(DEMO_SPEED), "--chunk-delay", str(DEMO_CHUNK_DELAY_S),
        "--state-file", str(state_file), "--idle-exit", str(_idle_exit()),
    ]  # fmt: skip


def _idle_exit() -> float:
    """`YJ_DEMO_IDLE_EXIT` (seconds; test runs set a short one), else `IDLE_EXIT_S`."""
    text = os.environ.get("YJ_DEMO_IDLE_EXIT", "").strip()
    if not text:
        return IDLE_EXIT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not (seconds > 0 and seconds != float("inf")):
        raise ConfigError(
            f"YJ_DEMO_IDLE_EXIT={text!r} is not a number of seconds: give one above 0 "
            f"(default {IDLE_EXIT_S:g})"
        )
    return seconds


def _start(home: Path) -> DemoEmulator:
    """Start a detached emulator for `home` and wait until it answers (under the lock)."""
    _check_dependencies()
    state_file = home / STATE_FILE
    command = _command(state_file)
    with contextlib.suppress(FileNotFoundError):
        state_file.unlink()
    # The key is the user's business, not the emulator's: it does not inherit it.
    env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")}
    detach: dict[str, Any] = {"start_new_session": True}  # out of the kernel's process group
    if sys.platform == "win32":
        detach = {
            "creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
        }
    with open(home / LOG_FILE, "ab") as log:
        log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting\n".encode())
        log.flush()
        child = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=home, env=env, close_fds=True, **detach,
        )  # fmt: skip
    _children.append(child)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise ConfigError(
                f"the demo emulator exited at start (code {child.returncode}): "
                f"{_log_tail(home / LOG_FILE)} (log: {home / LOG_FILE})"
            )
        found = read_state(home)
        if found is not None and found.pid == child.pid and _answering(found) is not None:
            return found
        time.sleep(0.05)
    _end(DemoEmulator("", "", child.pid, state_file))
    raise ConfigError(
        f"the demo emulator did not answer within {START_TIMEOUT_S:g} s (log: {home / LOG_FILE})"
    )


def _check_dependencies() -> None:
    import importlib.util

    for name in ("starlette", "uvicorn"):  # the `demo` extra
        if importlib.util.find_spec(name) is None:
            raise ConfigError(
                f"demo mode needs the emulator's dependencies ({name} is missing): "
                "pip install 'yjnb[demo]'"
            )


def _log_tail(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "empty log"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[IO[bytes]]:
    """An exclusive lock on `path` across processes (waits for the holder)."""
    with open(path, "a+b") as handle:
        if sys.platform == "win32":
            import msvcrt

            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:  # LK_LOCK gives up after 10 s; keep waiting
                    continue
            try:
                yield handle
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield handle
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def main(argv: list[str] | None = None) -> int:
    """`python -m yjnb._demo start|stop|status [HOME]` (the Makefile's demo targets)."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("start", "stop", "status") or len(args) > 2:
        print("usage: python -m yjnb._demo start|stop|status [YJ_HOME]", file=sys.stderr)
        return 2
    home = args[1] if len(args) == 2 else None
    if args[0] == "start":
        found = demo_emulator(home)
        print(f"yjnb demo emulator: {found.url} (pid {found.pid}, {found.state_file})")
    elif args[0] == "stop":
        print("yjnb demo emulator stopped" if stop_demo(home) else "no demo emulator running")
    else:
        answering = _answering(read_state(_home(home)))
        print(
            f"yjnb demo emulator: {answering.url} (pid {answering.pid})"
            if answering is not None
            else "no demo emulator running"
        )
        return 0 if answering is not None else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
