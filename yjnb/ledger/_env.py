"""Environment reads for the sink's path, about five times cheaper than `os.environ.get`.

The sink reads six variables for every call it records (the default ledger's home and URL,
the profile, whether recording and prompts are on, the notebook), all of them on the event
loop, under a flood of calls while the writer thread wants the GIL too. `os.environ.get`
costs about 1.5 µs each on a busy machine (key encoding and decoding in Python): a third of
the sink. `os.environ` keeps its values in a dict keyed by the encoded name (`_data`, a
CPython detail since 3.2), which sees every change made through `os.environ` (and
`monkeypatch.setenv`); a key is encoded once. Elsewhere, plain `os.environ.get`.
"""

from __future__ import annotations

import os

__all__ = ["getenv"]

_keys: dict[str, object] = {}
# Decoded values by their encoded bytes (whose hash the bytes keep): the same few values are
# read again for every call. Bounded, for a process that sets variables in a loop.
_decoded: dict[object, str] = {}
_DECODED_MAX = 256


def getenv(name: str) -> str | None:
    """`os.environ.get(name)`."""
    env = os.environ
    data = getattr(env, "_data", None)
    if not isinstance(data, dict) or not hasattr(env, "encodekey"):
        return env.get(name)
    key = _keys.get(name)
    if key is None:
        key = _keys[name] = env.encodekey(name)
    value = data.get(key)
    if value is None:
        return None
    text = _decoded.get(value)
    if text is None:
        if len(_decoded) >= _DECODED_MAX:
            _decoded.clear()
        text = _decoded[value] = env.decodevalue(value)
    return text
