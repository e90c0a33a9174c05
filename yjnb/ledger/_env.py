"""Environment reads for the sink's path, about five times cheaper than `os.environ.get`.

The sink reads six variables for every call it records (the default ledger's home and URL,
the profile, whether recording and prompts are on, the notebook), all of them on the event
loop, under a flood of calls while the writer thread wants the GIL too. `os.environ.get`
costs about 1.5 µs each on a busy machine (key encoding and decoding in Python): a third of
the sink. `os.environ` keeps its values in a dict keyed by the encoded name (`_data`, a
CPython detail since 3.2), which sees every change made through `os.environ` (and
`monkeypatch.setenv`); a key is encoded once. Elsewhere, plain `os.environ.get`.

`Watch(names).values()` is cheaper still, for the sink's question "did any of these change
since?": the stored values as they are, not decoded, one dict lookup each.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["Watch", "getenv"]

_keys: dict[str, bytes] = {}
# Decoded values by their encoded bytes (whose hash the bytes keep): the same few values are
# read again for every call. Bounded, for a process that sets variables in a loop.
_decoded: dict[bytes, str] = {}
_DECODED_MAX = 256


def _data() -> dict[bytes, bytes] | None:
    """`os.environ`'s own dict, where this Python has one."""
    data = getattr(os.environ, "_data", None)
    if not isinstance(data, dict) or not hasattr(os.environ, "encodekey"):
        return None
    return data


def _key(name: str) -> bytes:
    key = _keys.get(name)
    if key is None:
        environ: Any = os.environ  # its `encodekey` gives bytes on POSIX, whatever typeshed says
        key = _keys[name] = environ.encodekey(name)
    return key


def getenv(name: str) -> str | None:
    """`os.environ.get(name)`."""
    env: Any = os.environ
    data = _data()
    if data is None:
        return env.get(name)
    value = data.get(_key(name))
    if value is None:
        return None
    text = _decoded.get(value)
    if text is None:
        if len(_decoded) >= _DECODED_MAX:
            _decoded.clear()
        text = _decoded[value] = env.decodevalue(value)
    return text


class Watch:
    """Some variables, whose values are compared with those of an earlier look."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self._keys: tuple[bytes, ...] | None = None  # encoded on the first look

    def values(self) -> tuple[object, ...]:
        """The stored values (None where unset): equal to an earlier call's unless one of
        the variables changed since. Not decoded."""
        data = _data()
        if data is None:
            return tuple(map(os.environ.get, self.names))
        if self._keys is None:
            self._keys = tuple(map(_key, self.names))
        return tuple(map(data.get, self._keys))
