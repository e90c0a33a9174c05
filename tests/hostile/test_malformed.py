"""Malformed answers and unsendable input end in one-line `YJError`s, never in a traceback of
`TypeError`, `AttributeError`, `JSONDecodeError` or `UnicodeEncodeError` (issue 13)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest

import yjnb

from .conftest import KEY
from .server import HostileServer

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
pytestmark = pytest.mark.timeout(30)


def client_for(hostile: HostileServer, scenario: str, **kw: Any) -> yjnb.Client:
    return yjnb.Client(api_key=KEY, base_url=hostile.base(scenario), **kw)


def assert_one_clean_line(error: BaseException, *, from_the_server: bool = True) -> None:
    text = str(error)
    assert "\n" not in text and KEY not in text
    # Nothing chained: no second traceback behind the one line, and for what the server
    # sent, no raw request or body kept in the chain either.
    assert error.__cause__ is None
    assert error.__context__ is None if from_the_server else error.__suppress_context__


# -- 200 answers that are not JSON ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda c: c.models(), "model list"),
        (lambda c: c.task("t-1"), "task status"),
        (lambda c: c.video("a cat", model="viduq3-pro", wait=False), "submission"),
        (lambda c: c.chat("hello"), "chat answer"),
    ],
    ids=["models", "task-status", "submit", "chat"],
)
def test_a_200_that_is_not_json_is_a_malformed_response(
    hostile: HostileServer, call: Any, what: str
) -> None:
    with pytest.raises(yjnb.MalformedResponse, match=f"{what} is not JSON") as info:
        call(client_for(hostile, "not_json"))
    error = info.value
    assert isinstance(error, yjnb.APIError) and error.status_code == 200
    assert "<html><body>Welcome!" in error.excerpt
    # The page echoed the Authorization header: the excerpt keeps its shape, not the key.
    assert "Bearer ***" in error.excerpt and KEY not in error.excerpt
    assert_one_clean_line(error)


# -- JSON of the wrong shape ---------------------------------------------------------------------


def test_models_whose_data_is_a_number(hostile: HostileServer) -> None:
    with pytest.raises(yjnb.MalformedResponse, match="model list") as info:
        client_for(hostile, "wrong_types").models()
    assert '{"data": 5}' in info.value.excerpt or '{"data":5}' in info.value.excerpt
    assert_one_clean_line(info.value)


def test_chat_whose_content_is_a_number(hostile: HostileServer, records: list[Any]) -> None:
    with pytest.raises(yjnb.MalformedResponse, match="content") as info:
        client_for(hostile, "wrong_types").chat("hello")
    assert_one_clean_line(info.value)
    assert [(r.kind, r.status) for r in records] == [("chat", "failed")]


@pytest.mark.parametrize("scenario", ["wrong_types", "stream_content_number"])
def test_a_stream_event_of_the_wrong_shape_interrupts_the_stream(
    hostile: HostileServer, records: list[Any], scenario: str
) -> None:
    stream = client_for(hostile, scenario).chat("hello", stream=True)
    with pytest.raises(yjnb.StreamInterrupted, match="unexpected shape") as info:
        list(stream)
    assert_one_clean_line(info.value)
    assert stream.result is not None and stream.result.interrupted
    # Started again once (a malformed chunk may be a glitch), malformed again: two attempts,
    # both recorded as interrupted, and then the error.
    assert [(r.kind, r.status) for r in records] == [("chat", "interrupted")] * 2
    assert "started again 1 time(s)" in str(info.value)


@pytest.mark.parametrize(
    ("scenario", "why"),
    [("not_json", "a chunk is not JSON"), ("stream_error_echo", "error mid-stream")],
)
def test_what_a_broken_stream_echoes_is_redacted(
    hostile: HostileServer, records: list[Any], scenario: str, why: str
) -> None:
    stream = client_for(hostile, scenario).chat("hello", stream=True)
    with pytest.raises(yjnb.StreamInterrupted, match=why) as info:
        list(stream)
    assert_one_clean_line(info.value)
    assert KEY[:12] not in str(info.value) and KEY[-12:] not in str(info.value)
    assert records[-1].error and KEY[:12] not in records[-1].error


def test_task_status_that_is_a_list(hostile: HostileServer) -> None:
    with pytest.raises(yjnb.MalformedResponse, match="task status") as info:
        client_for(hostile, "wrong_types").task("t-1")
    assert_one_clean_line(info.value)


def test_submission_whose_task_id_is_an_object(hostile: HostileServer) -> None:
    with pytest.raises(yjnb.MalformedResponse, match="task id"):
        client_for(hostile, "wrong_types").video("a cat", model="viduq3-pro", wait=False)


# -- a task is never left pending by an error ----------------------------------------------------


def test_a_task_whose_status_turns_malformed_gets_a_final_record(
    hostile: HostileServer, records: list[Any]
) -> None:
    client = client_for(hostile, "task_fails_later")
    with pytest.raises(yjnb.MalformedResponse, match="task status is not JSON"):
        client.video("a cat", model="viduq3-pro", timeout=30)
    assert [(r.taskid, r.status) for r in records] == [
        ("t-hostile-1", "pending"),
        ("t-hostile-1", "interrupted"),
    ]
    assert records[-1].error and "not JSON" in records[-1].error


def test_polling_once_records_the_error_too(hostile: HostileServer, records: list[Any]) -> None:
    client = client_for(hostile, "task_fails_later")
    task = client.video("a cat", model="viduq3-pro", wait=False)
    with pytest.raises(yjnb.MalformedResponse):
        client.task(task)
    assert [r.status for r in records] == ["pending", "interrupted"]


# -- local input that cannot be sent: ValidationError before sending ----------------------------


def test_a_temperature_that_is_not_a_number(hostile: HostileServer) -> None:
    # The not_json scenario would answer with a MalformedResponse: nothing may be sent.
    with pytest.raises(yjnb.ValidationError, match="temperature is not a number"):
        client_for(hostile, "not_json").chat("hello", temperature=math.nan)
    with pytest.raises(yjnb.ValidationError, match="temperature -inf is out of range"):
        client_for(hostile, "not_json").chat("hello", temperature=-math.inf)


def test_nan_in_a_parameter_yjnb_does_not_check(hostile: HostileServer) -> None:
    with pytest.raises(yjnb.ValidationError, match="not a number") as info:
        client_for(hostile, "not_json").chat("hello", top_k=math.nan)
    assert_one_clean_line(info.value)


def test_a_prompt_with_a_lone_surrogate(hostile: HostileServer) -> None:
    with pytest.raises(yjnb.ValidationError, match="not valid UTF-8"):
        client_for(hostile, "not_json").chat("bad \udcff text")


@pytest.mark.parametrize("model", ["viduq3-pro", "some-new-model"])
def test_a_file_name_with_invalid_utf8(hostile: HostileServer, tmp_path: Path, model: str) -> None:
    raw = os.path.join(os.fsencode(tmp_path), b"frame-\xff.jpg")
    with open(raw, "wb") as out:
        out.write(JPEG)
    name = os.fsdecode(raw)  # how a shell or a magic hands the name over: with a surrogate
    client = client_for(hostile, "not_json")
    with pytest.raises(yjnb.ValidationError, match="not valid UTF-8") as info:
        client.video("a cat", model=model, first_frame=name, wait=False)
    assert_one_clean_line(info.value, from_the_server=False)


def test_a_base_url_that_httpx_cannot_parse() -> None:
    client = yjnb.Client(api_key=KEY, base_url="http://[::1")
    with pytest.raises(yjnb.ConfigError, match="not a valid URL"):
        client.models()
