"""Where the key goes: only to the exact origin (scheme, host, port) of the base URL, also
across redirects; and what a redirect may not do (be saved as media, loop, be followed for an
API call)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import yjnb
from yjnb._types import Task

from .conftest import KEY
from .samples import MP4
from .server import HostileMediaServer

BEARER = f"Bearer {KEY}"


def test_media_on_the_http_twin_of_an_https_base_gets_no_key(
    hostile: HostileMediaServer, tmp_path: Path
) -> None:
    # Same host and port, other scheme: the plain-text twin must not see the key.
    twin = f"https://127.0.0.1:{hostile.port}"
    task = Task(taskid="t1", status="SUCCEEDED", video_url=f"{hostile.url}/media/mp4")
    with yjnb.Client(api_key=KEY, base_url=twin, max_retries=0) as client:
        saved = client.download(task, tmp_path)
    assert saved["video"].read_bytes() == MP4
    assert hostile.keys_seen("/media") == [None]


def test_media_on_the_base_origin_gets_the_key(
    client: Any, hostile: HostileMediaServer, tmp_path: Path
) -> None:
    task = client.task("media:/media/mp4")
    client.download(task, tmp_path)
    assert hostile.keys_seen("/media") == [BEARER]


def test_media_on_another_port_gets_no_key(
    client: Any, elsewhere: HostileMediaServer, tmp_path: Path
) -> None:
    task = client.task(f"media:{elsewhere.url}/media/mp4")
    client.download(task, tmp_path)
    assert elsewhere.keys_seen() == [None]


def test_a_redirect_within_the_origin_is_followed_with_the_key(
    client: Any, hostile: HostileMediaServer, tmp_path: Path
) -> None:
    task = client.task("media:/redirect?to=/media/mp4")
    saved = client.download(task, tmp_path)
    assert saved["video"].read_bytes() == MP4 and saved["video"].suffix == ".mp4"
    assert hostile.keys_seen("/redirect") == hostile.keys_seen("/media") == [BEARER]


def test_a_redirect_to_another_origin_is_followed_without_the_key(
    client: Any, hostile: HostileMediaServer, elsewhere: HostileMediaServer, tmp_path: Path
) -> None:
    task = client.task(f"media:/redirect?to={elsewhere.url}/media/mp4")
    saved = client.download(task, tmp_path)
    assert saved["video"].read_bytes() == MP4
    assert hostile.keys_seen("/redirect") == [BEARER]
    assert elsewhere.keys_seen() == [None]


def test_a_redirect_back_from_another_origin_does_not_bring_the_key_back(
    client: Any, hostile: HostileMediaServer, elsewhere: HostileMediaServer, tmp_path: Path
) -> None:
    # Another origin chose this URL on ours: the key rides only on chains that never left.
    back = quote(f"{hostile.url}/media/mp4", safe="")
    task = client.task(f"media:{elsewhere.url}/redirect?to={back}")
    client.download(task, tmp_path)
    assert elsewhere.keys_seen() == [None]
    assert hostile.keys_seen("/media") == [None]


def test_a_redirect_body_is_never_saved_as_media(
    client: Any, hostile: HostileMediaServer, tmp_path: Path
) -> None:
    task = client.task("media:/redirect?html=1")  # a 302 with an HTML body and no Location
    with pytest.raises(yjnb.APIError, match="redirected without saying where to") as info:
        client.download(task, tmp_path)
    assert info.value.status_code == 302 and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []
    assert "video" not in task.local_paths


def test_a_redirect_to_an_html_page_is_not_a_video(
    client: Any, hostile: HostileMediaServer, tmp_path: Path
) -> None:
    page = quote("/media/html?type=video/mp4", safe="")
    task = client.task(f"media:/redirect?to={page}&html=1")
    with pytest.raises(yjnb.YJError, match="not a video"):
        client.download(task, tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert "video" not in task.local_paths


def test_redirects_are_bounded(client: Any, hostile: HostileMediaServer, tmp_path: Path) -> None:
    task = client.task("media:/loop")
    with pytest.raises(yjnb.APIError, match="redirected more than 5 times"):
        client.download(task, tmp_path)
    assert 1 < len(hostile.keys_seen("/loop")) <= 11
    assert list(tmp_path.iterdir()) == []


def test_an_api_answer_that_redirects_is_an_error_and_is_not_followed(
    client: Any, hostile: HostileMediaServer
) -> None:
    with pytest.raises(
        yjnb.APIError, match="302 the platform redirected this call to '/elsewhere'"
    ):
        client.task("redirect")
    assert hostile.keys_seen("/elsewhere") == []
