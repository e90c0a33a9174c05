"""What a file is, judged by its first bytes: the allowlist of media types yjnb saves and
uploads, and a short description of anything else for error messages.

A server's Content-Type, a URL's path and a file's name are claims; the first bytes are what a
player, a browser or a shell will act on. So a downloaded file's extension comes only from
`MEDIA_TYPES` through `media_type`, and a file given for an image, video or audio field must
start like media of that kind (`upload_problem`). Nothing here reads more than `HEAD_SIZE` bytes.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any

__all__ = [
    "HEAD_SIZE",
    "KIND_NOUNS",
    "MEDIA_TYPES",
    "MediaType",
    "allowed",
    "describe",
    "field_kind",
    "fits",
    "media_type",
    "name_problem",
    "read_head",
    "upload_problem",
]

# Enough for every signature below; WebM names its DocType within the first 40 bytes or so.
HEAD_SIZE = 64


@dataclass(frozen=True)
class MediaType:
    kind: str  # "image", "video" or "audio"
    ext: str  # the extension yjnb gives a saved file: ".mp4"
    mime: str
    label: str  # how messages name it: "an MP4 video"


JPEG = MediaType("image", ".jpg", "image/jpeg", "a JPEG image")
PNG = MediaType("image", ".png", "image/png", "a PNG image")
WEBP = MediaType("image", ".webp", "image/webp", "a WebP image")
GIF = MediaType("image", ".gif", "image/gif", "a GIF image")
MP4 = MediaType("video", ".mp4", "video/mp4", "an MP4 video")
WEBM = MediaType("video", ".webm", "video/webm", "a WebM video")
MOV = MediaType("video", ".mov", "video/quicktime", "a QuickTime (MOV) video")
MP3 = MediaType("audio", ".mp3", "audio/mpeg", "an MP3 file")
AAC = MediaType("audio", ".aac", "audio/aac", "an AAC file")
WAV = MediaType("audio", ".wav", "audio/wav", "a WAV file")
OGG = MediaType("audio", ".ogg", "audio/ogg", "an Ogg file")
FLAC = MediaType("audio", ".flac", "audio/flac", "a FLAC file")
M4A = MediaType("audio", ".m4a", "audio/mp4", "an M4A file")
MEDIA_TYPES = (JPEG, PNG, WEBP, GIF, MP4, WEBM, MOV, MP3, AAC, WAV, OGG, FLAC, M4A)
KIND_NOUNS = {"image": "an image", "video": "a video", "audio": "audio"}

# ISO base media files ("ftyp" at offset 4) are MP4 video unless their brand says otherwise.
_HEIF_BRANDS = frozenset({b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"})
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P "})
_EBML = b"\x1a\x45\xdf\xa3"

# Normalized file parameters (and chat's images) -> the kind their files must be.
_FIELD_KINDS = {
    "first_frame": "image",
    "last_frame": "image",
    "images": "image",
    "image": "image",
    "mask": "image",
    "videos": "video",
    "audios": "audio",
}


def media_type(head: bytes) -> MediaType | None:
    """The allowlisted media type these first bytes start, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF":
        return {b"WEBP": WEBP, b"WAVE": WAV}.get(head[8:12])
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return None  # HEIF/AVIF stills: not on the list
        return MOV if brand == b"qt  " else M4A if brand in _AUDIO_BRANDS else MP4
    if head.startswith(_EBML):
        return WEBM if b"webm" in head[:HEAD_SIZE] else None  # other Matroska: not on the list
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"ID3"):
        return MP3
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # An MPEG audio frame: layer bits 00 mean AAC in an ADTS stream, else MP3.
        return AAC if head[1] & 0x06 == 0 else MP3
    return None


def fits(kind: str | None, found: MediaType | None) -> bool:
    """Whether `found` is media of `kind` (None: of any kind)."""
    if found is None:
        return False
    if kind is None or found.kind == kind:
        return True
    # An .m4a file often carries a plain MP4 brand (mp42, isom): its container is the same.
    return kind == "audio" and found is MP4


def allowed(kind: str | None) -> str:
    """The allowlist of a kind, for messages: "JPEG, PNG, WebP or GIF"."""
    names = [t.ext.lstrip(".").upper() for t in MEDIA_TYPES if kind in (None, t.kind)]
    return ", ".join(names[:-1]) + f" or {names[-1]}"


def describe(head: bytes) -> str:
    """What these first bytes look like, in a few words: "HTML", "a script", "text"."""
    found = media_type(head)
    if found is not None:
        return found.label
    if not head:
        return "an empty file"
    start = head.lstrip()[:16].lower()
    signatures = (
        (head.startswith(b"#!"), "a script"),
        (start.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")), "HTML"),
        (start.startswith((b"<?xml", b"<svg")), "XML or SVG"),
        (start[:1] in (b"{", b"["), "JSON"),
        (head.startswith(b"%PDF"), "a PDF document"),
        (head.startswith(b"PK\x03\x04"), "a ZIP archive"),
        (head.startswith(b"\x7fELF"), "a program"),
        (head.startswith(_EBML), "a Matroska file"),
        (head[4:8] == b"ftyp", "a HEIF or AVIF image"),
    )
    for matched, words in signatures:
        if matched:
            return words
    try:
        head[: HEAD_SIZE - 3].decode("utf-8")  # the cut may split one multibyte character
    except UnicodeDecodeError:
        return f"unknown bytes ({head[:8].hex(' ')})"
    return "text"


def field_kind(name: str) -> str | None:
    """The kind of media a file parameter takes, by its normalized or wire name (None: any)."""
    if name in _FIELD_KINDS:
        return _FIELD_KINDS[name]
    lowered = name.lower()
    for word, kind in (("audio", "audio"), ("video", "video"), ("image", "image")):
        if word in lowered:
            return kind
    return "image" if "frame" in lowered or "mask" in lowered else None


def read_head(item: Any) -> bytes:
    """The first `HEAD_SIZE` bytes of bytes, a binary file object (left where it was) or a
    path. Raises OSError, or ValueError for a file object that cannot go back."""
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item[:HEAD_SIZE])
    if hasattr(item, "read"):
        if not (hasattr(item, "seekable") and item.seekable()):
            if isinstance(item, io.BufferedReader):  # a pipe: look without consuming
                return item.peek(HEAD_SIZE)[:HEAD_SIZE]
            raise ValueError("the file object cannot seek; give a path or the bytes")
        where = item.tell()
        try:
            return bytes(item.read(HEAD_SIZE))
        finally:
            item.seek(where)
    with open(os.fspath(item), "rb") as handle:
        return handle.read(HEAD_SIZE)


def upload_problem(field: str, kind: str | None, item: Any, shown: str) -> str | None:
    """Why `item` (given for `field`, named `shown` in messages) may not be uploaded as media
    of `kind` (None: any media), or None when its first bytes say it is."""
    try:
        head = read_head(item)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return f"{field}: cannot read {shown}: {reason}"
    if fits(kind, media_type(head)):
        return None
    noun = KIND_NOUNS.get(kind or "", "media")
    return f"{field}: {shown} is not {noun} ({allowed(kind)}): it starts like {describe(head)}"


def name_problem(field: str, name: Any) -> str | None:
    """Why a file name cannot travel in a multipart upload (or a ledger row): it must be valid
    UTF-8, and a name read from disk may not be (``os.listdir`` escapes such bytes)."""
    text = os.fsdecode(name) if isinstance(name, (str, bytes, os.PathLike)) else None
    if text is None:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"{field}: the file name is not valid UTF-8: {text!r}; rename the file"
    return None
