"""A key the server echoes back never reaches an exception, a task, a usage record or a log,
and an exception never chains the raw request (which holds the Authorization header)."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import pytest

import yjnb

from .conftest import KEY
from .helpers import assert_chain_clean, assert_no_key

HOWS = ["raw", "quoted", "split", "truncated"]


@pytest.mark.parametrize("how", HOWS)
def test_a_failure_reason_that_echoes_the_key_is_redacted(
    client: Any, records: list[Any], how: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(yjnb.TaskFailed) as info:
        client.video(f"fail-echo:{how}", model="viduq3-pro", duration=1)
    assert "is not allowed for this model" in str(info.value)
    assert records and records[-1].status == "failed"
    assert_no_key(str(info.value), info.value.task.error, repr(info.value.task), caplog.text)
    assert_no_key(*(record.error for record in records))
    assert_chain_clean(info.value)


@pytest.mark.parametrize("how", HOWS)
def test_a_submit_answer_without_a_task_id_that_echoes_the_key_is_redacted(
    client: Any, how: str
) -> None:
    with pytest.raises(yjnb.YJError, match="taskid") as info:
        client.video(f"no-taskid:{how}", model="viduq3-pro", duration=1)
    assert_no_key(str(info.value), *info.value.args)
    assert_chain_clean(info.value)


@pytest.mark.parametrize("how", HOWS)
def test_a_download_error_that_echoes_the_key_is_redacted(
    client: Any, tmp_path: Path, how: str
) -> None:
    task = client.task(f"media:/echo/404?how={how}")
    with pytest.raises(yjnb.APIError) as info:
        client.download(task, tmp_path)
    error = info.value
    assert error.status_code == 404 and "no media here" in str(error)
    assert_no_key(str(error), error.message, error.body, error.url)
    assert_chain_clean(error)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_connection_error_does_not_chain_the_request() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    client = yjnb.Client(api_key=KEY, base_url=url, max_retries=0)
    with client, pytest.raises(yjnb.APIConnectionError) as info:
        client.task("t1")
    assert_chain_clean(info.value)


def test_a_dropped_download_is_a_connection_error_that_keeps_nothing(
    client: Any, tmp_path: Path
) -> None:
    task = client.task("media:/drop")
    with pytest.raises(yjnb.APIConnectionError) as info:
        client.download(task, tmp_path)
    assert_chain_clean(info.value)
    assert list(tmp_path.iterdir()) == []
    assert "video" not in task.local_paths
