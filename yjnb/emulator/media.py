"""``GET /idfile?path=...``: real media bytes for task results (no auth, like the platform).

The two assets were made with ffmpeg 5 (kept tiny on purpose)::

    ffmpeg -f lavfi -i "testsrc=size=160x90:rate=10" -t 1 -c:v libx264 -preset veryslow \\
        -crf 40 -pix_fmt yuv420p -movflags +faststart -an video.mp4
    ffmpeg -f lavfi -i "testsrc=size=160x90" -frames:v 1 -q:v 8 cover.jpeg

Images (t2i results) are PNGs drawn in pure Python, their colours derived from the prompt.
"""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from .context import error_response
from .state import State

ASSETS = Path(__file__).with_name("assets")


@functools.cache
def asset(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.lru_cache(maxsize=256)
def png_for(prompt: str, width: int = 128, height: int = 128) -> bytes:
    """A vertical gradient between two prompt-derived colours with a diagonal stripe."""
    d = hashlib.sha256(prompt.encode()).digest()
    top, bottom, stripe = d[0:3], d[3:6], d[6:9]
    rows = []
    for y in range(height):
        t = y / (height - 1)
        colour = bytes(round(top[i] * (1 - t) + bottom[i] * t) for i in range(3))
        row = bytearray(colour * width)
        x = (y + d[9]) % width
        row[3 * x : 3 * x + 3] = stripe
        rows.append(b"\x00" + bytes(row))  # filter type 0 per scanline
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
        + _chunk(b"IEND", b"")
    )


def media_bytes(state: State, path: str) -> tuple[bytes, str] | None:
    entry = state.media.get(path)
    if entry is None:
        return None
    kind, prompt = entry
    if kind == "video":
        return asset("video.mp4"), "video/mp4"
    if path.endswith(".png"):
        return png_for(prompt), "image/png"
    return asset("cover.jpeg"), "image/jpeg"


async def idfile(request: Request, state: State) -> Response:
    path = request.query_params.get("path", "")
    found = media_bytes(state, path)
    if found is None:
        return error_response(404, "File not found")
    data, ctype = found
    return Response(data, media_type=ctype)  # Starlette sets Content-Length
