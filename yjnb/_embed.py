"""What a finished task puts into the notebook file itself: image data and a video's poster
(and an experiment's grid: small thumbnails, `thumbnail_data_url`).

A saved notebook is read by viewers that never see the `media/` folder (GitHub, nbviewer,
VS Code, a copy sent by mail). So an image is also emitted as an ordinary `image/png` or
`image/jpeg` output, and a video's card carries its cover as a small `data:` poster:

* An image of at most `EMBED_IMAGE_MAX_BYTES` (PNG or JPEG, by its first bytes) is embedded as
  it is. A larger one, or a WebP/GIF, is embedded as a JPEG preview at most
  `PREVIEW_MAX_SIDE` pixels wide and high when Pillow is installed (it comes with matplotlib);
  without Pillow it is not embedded and the card shows the file beside the notebook.
* A cover of at most `POSTER_MAX_BYTES` (JPEG or PNG) becomes the poster as it is; a larger
  one is shrunk with Pillow to `POSTER_MAX_SIDE` pixels; without Pillow the card points at the
  cover file instead. No cover (the OpenAI-style video APIs give none) means no poster: a frame
  would need a video decoder (ffmpeg), which yjnb does not require.

The type comes from the bytes (`yjnb._magic.media_type`), never from a name or a server.
Video bytes are never embedded.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

from ._magic import JPEG, PNG, media_type

__all__ = [
    "EMBED_IMAGE_MAX_BYTES",
    "POSTER_MAX_BYTES",
    "Embed",
    "image_embed",
    "poster_data_url",
    "thumbnail_data_url",
]

EMBED_IMAGE_MAX_BYTES = 300 * 1024
PREVIEW_MAX_SIDE = 1024
POSTER_MAX_BYTES = 48 * 1024
POSTER_MAX_SIDE = 480
# A file larger than this is not even opened for a preview (a decompression bomb, a mistake).
READ_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Embed:
    """Image bytes to put into the notebook: `mime` is image/png or image/jpeg."""

    mime: str
    data: bytes
    preview: bool  # True: a smaller JPEG made from the file, not the file itself

    def b64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{self.b64()}"


def _read(path: str | Path) -> bytes | None:
    try:
        p = Path(path)
        if p.stat().st_size > READ_MAX_BYTES:
            return None
        return p.read_bytes()
    except OSError:
        return None


def _as_is(data: bytes, limit: int) -> Embed | None:
    found = media_type(data[:64])
    if found in (PNG, JPEG) and len(data) <= limit:
        assert found is not None
        return Embed(found.mime, data, preview=False)
    return None


def _shrunk(data: bytes, side: int, limit: int) -> Embed | None:
    """A JPEG at most `side` pixels wide and high and `limit` bytes; None without Pillow."""
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (side, side))  # JPEG: decode at a reduced scale, cheaply
            frame = img.convert("RGB")
    except Exception:  # Pillow raises many kinds for bytes it cannot read
        return None
    while side >= 64:
        frame.thumbnail((side, side))
        out = io.BytesIO()
        frame.save(out, "JPEG", quality=75, optimize=True)
        if out.tell() <= limit:
            return Embed("image/jpeg", out.getvalue(), preview=True)
        side //= 2
    return None


def _image_bytes(path: str | Path | None) -> bytes | None:
    """A saved file's bytes when they are an image (by its first bytes), else None."""
    data = _read(path) if path else None
    return data if data is not None and media_type(data[:64]) is not None else None


def image_embed(path: str | Path | None) -> Embed | None:
    """The image to put into the output for a saved image file, or None."""
    data = _image_bytes(path)
    if data is None:
        return None
    return _as_is(data, EMBED_IMAGE_MAX_BYTES) or _shrunk(
        data, PREVIEW_MAX_SIDE, EMBED_IMAGE_MAX_BYTES
    )


def poster_data_url(path: str | Path | None) -> str | None:
    """A small `data:` URL of a video's saved cover, or None."""
    data = _image_bytes(path)
    if data is None:
        return None
    found = _as_is(data, POSTER_MAX_BYTES) or _shrunk(data, POSTER_MAX_SIDE, POSTER_MAX_BYTES)
    return found.data_url() if found is not None else None


def thumbnail_data_url(
    path: str | Path | None, side: int = 256, limit: int = 48 * 1024
) -> str | None:
    """A small `data:` URL of a saved image (a grid cell), or None when it cannot be made."""
    data = _image_bytes(path)
    if data is None:
        return None
    found = _shrunk(data, side, limit) or _as_is(data, limit)
    return found.data_url() if found is not None else None
