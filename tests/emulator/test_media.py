"""``GET /idfile``: real MP4, JPEG and PNG bytes with the right headers, no key needed."""

from __future__ import annotations

import struct
import zlib

import httpx

from yjnb.emulator import Emulator


def finished(emu: Emulator, client: httpx.Client, path: str, body: dict) -> dict:
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    emu.advance(1e6)
    return client.get("/llmage/v1/tasks", params={"taskid": r.json()["taskid"]}).json()


def image_task(emu: Emulator, client: httpx.Client, prompt: str) -> str:
    body = {"model": "wan2.2-t2i-plus", "catelogid": "t2i", "prompt": prompt}
    return finished(emu, client, "/llmage/v1/image/generations", body)["image"]


def test_video_and_cover(emu: Emulator, client: httpx.Client) -> None:
    body = {"model": "happyhorse-1.0-t2v", "catelogid": "t2v", "prompt": "南瓜", "duration": 4}
    done = finished(emu, client, "/llmage/v1/video/generations", body)
    video = httpx.get(done["video"])  # no Authorization header: media URLs are open
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert int(video.headers["content-length"]) == len(video.content) > 1000
    assert video.content[4:8] == b"ftyp"
    cover = httpx.get(done["image"])
    assert cover.headers["content-type"] == "image/jpeg"
    assert cover.content[:3] == b"\xff\xd8\xff" and cover.content[-2:] == b"\xff\xd9"


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return size[0], size[1], zlib.decompress(idat)


def test_png_images_depend_on_the_prompt(emu: Emulator, client: httpx.Client) -> None:
    a, b = httpx.get(image_task(emu, client, "一只猫")), httpx.get(image_task(emu, client, "a dog"))
    again = httpx.get(image_task(emu, client, "一只猫"))
    assert a.headers["content-type"] == "image/png"
    assert int(a.headers["content-length"]) == len(a.content)
    assert a.content != b.content and a.content == again.content
    width, height, raw = _png_pixels(a.content)
    assert (width, height) == (128, 128) and len(raw) == height * (1 + 3 * width)


def test_unknown_paths(emu: Emulator) -> None:
    for path in ("/tmp/1/2/3/4/video.mp4", "/etc/passwd", ""):
        r = httpx.get(emu.url + "/idfile", params={"path": path})
        assert r.status_code == 404 and r.json() == {"error": "File not found"}
    r = httpx.get(emu.url + "/no/such/route")
    assert r.status_code == 404 and r.json() == {"error": "Not found"}
