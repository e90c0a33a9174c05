"""Every fault, per request (header) and server-wide (``set_faults`` / admin endpoint).

Delays are proven with client timeouts that must fire, never with timing assertions.
"""

from __future__ import annotations

import json

import httpx
import pytest

from yjnb.emulator import Emulator

from .helpers import CHAT, sse_lines

BODY = {"model": "qwen3-max", "prompt": "Tell me a story", "stream": True}
HEADER = "X-Emulator-Fault"


def events_until_error(
    client: httpx.Client, fault: str, timeout: float = 10.0
) -> tuple[list[str], Exception | None]:
    """The data payloads received before the stream ended or failed, and the failure."""
    got: list[str] = []
    try:
        with client.stream("POST", CHAT, json=BODY, headers={HEADER: fault}, timeout=timeout) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith("data: "):
                    got.append(line[6:])
    except (httpx.RemoteProtocolError, httpx.ReadTimeout) as exc:
        return got, exc
    return got, None


def test_status_fault_counts_the_request_first(emu: Emulator, client: httpx.Client) -> None:
    emu.set_faults(status=503, times=2)
    codes = [client.post(CHAT, json={**BODY, "stream": False}).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert emu.count("POST /llmage/v1/chat/completions") == 3


def test_status_header_comes_before_auth(emu: Emulator) -> None:
    r = httpx.get(emu.url + "/llmage/v1/models", headers={HEADER: "status=502"})
    assert r.status_code == 502
    assert r.json()["error"].startswith("Bad gateway")
    assert emu.count("GET /llmage/v1/models") == 1


def test_rate_limit_with_retry_after(client: httpx.Client) -> None:
    r = client.get("/llmage/v1/models", headers={HEADER: "rate_limit=1; retry_after=7"})
    assert r.status_code == 429
    assert r.json() == {"error": "Too many requests"}
    assert r.headers["Retry-After"] == "7"
    r = client.get("/llmage/v1/models", headers={HEADER: "rate_limit=1"})
    assert r.headers["Retry-After"] == "1"


def test_latency_delays_the_answer(client: httpx.Client) -> None:
    with pytest.raises(httpx.ReadTimeout):
        client.get("/llmage/v1/models", headers={HEADER: "latency=3"}, timeout=0.3)


def test_first_byte_delays_the_first_chunk(client: httpx.Client) -> None:
    got, exc = events_until_error(client, "first_byte=3", timeout=0.3)
    assert got == [] and isinstance(exc, httpx.ReadTimeout)


def test_chunk_delay_spaces_the_chunks(client: httpx.Client) -> None:
    got, exc = events_until_error(client, "chunk_delay=3", timeout=0.3)
    assert len(got) == 1 and isinstance(exc, httpx.ReadTimeout)


def test_server_wide_chunk_delay(emu: Emulator, client: httpx.Client) -> None:
    emu.set_chunk_delay(3.0)
    got, exc = events_until_error(client, "", timeout=0.3)
    assert len(got) == 1 and isinstance(exc, httpx.ReadTimeout)


def test_drop_after_aborts_the_connection(client: httpx.Client) -> None:
    got, exc = events_until_error(client, "drop_after=3")
    assert isinstance(exc, httpx.RemoteProtocolError)
    assert len(got) == 3
    assert all(json.loads(x)["finish"] == "0" for x in got)


def test_stall_after_goes_silent(client: httpx.Client) -> None:
    got, exc = events_until_error(client, "stall_after=4", timeout=0.5)
    assert len(got) == 4 and isinstance(exc, httpx.ReadTimeout)


def test_no_finish_ends_cleanly_without_finish(client: httpx.Client) -> None:
    got, exc = events_until_error(client, "no_finish=1")
    assert exc is None
    chunks = [json.loads(x) for x in got]
    assert "[DONE]" not in got
    assert all(c["finish"] == "0" and "finish_reason" not in c["choices"][0] for c in chunks)
    full = client.post(CHAT, json=BODY)
    complete = [json.loads(x) for x in sse_lines(full.text)[:-1]]
    assert [c["content"] for c in chunks] == [c["content"] for c in complete[:-2]]


def test_bad_chunk_after(client: httpx.Client) -> None:
    got, exc = events_until_error(client, "bad_chunk_after=2")
    assert exc is None
    with pytest.raises(json.JSONDecodeError):
        json.loads(got[2])
    for i, payload in enumerate(got[:-1]):
        if i != 2:
            json.loads(payload)
    assert got[-1] == "[DONE]"


def test_task_fail_and_stuck(emu: Emulator, client: httpx.Client) -> None:
    emu.set_speed(1e-6)
    body = {"model": "viduq3-pro", "catelogid": "t2v", "prompt": "cat", "duration": 1}
    fail = client.post("/llmage/v1/video/generations", json=body, headers={HEADER: "task=fail"})
    stuck = client.post("/llmage/v1/video/generations", json=body, headers={HEADER: "task=stuck"})
    emu.advance(2.0)
    states = [
        client.get("/llmage/v1/tasks", params={"taskid": r.json()["taskid"]}).json()
        for r in (fail, stuck)
    ]
    assert [s["status"] for s in states] == ["PENDING", "PENDING"]
    emu.advance(1e6)
    failed, running = (
        client.get("/llmage/v1/tasks", params={"taskid": r.json()["taskid"]}).json()
        for r in (fail, stuck)
    )
    assert list(failed) == ["status", "taskid", "error"]
    assert failed["status"] == "FAILED" and failed["taskid"] == fail.json()["taskid"]
    assert "emulated fault" in failed["error"]
    assert running == {"taskid": stuck.json()["taskid"], "status": "RUNNING"}


def test_server_wide_rule_restricted_by_path(emu: Emulator, client: httpx.Client) -> None:
    emu.set_faults(task="fail", path="/llmage/v1/video")
    emu.set_speed(1e6)
    body = {"model": "viduq3-pro", "catelogid": "t2v", "prompt": "cat", "duration": 1}
    taskid = client.post("/llmage/v1/video/generations", json=body).json()["taskid"]
    image = client.post(
        "/llmage/v1/image/generations",
        json={"model": "cogview-3-flash", "catelogid": "t2i", "prompt": "cat"},
    ).json()["taskid"]
    assert client.get("/llmage/v1/tasks", params={"taskid": taskid}).json()["status"] == "FAILED"
    assert client.get("/llmage/v1/tasks", params={"taskid": image}).json()["status"] == "SUCCEEDED"
    emu.set_faults(status=500, path="/llmage/v1/tasks")
    assert client.get("/llmage/v1/tasks", params={"taskid": image}).status_code == 500
    assert client.get("/llmage/v1/models").status_code == 200
    emu.set_faults()
    assert client.get("/llmage/v1/tasks", params={"taskid": image}).status_code == 200


def test_admin_faults_endpoint(emu: Emulator, client: httpx.Client) -> None:
    r = httpx.post(emu.url + "/_emulator/faults", json={"rate_limit": 1, "times": 1})
    assert r.status_code == 200
    assert httpx.get(emu.url + "/_emulator/stats").json()["faults"] == {
        "rate_limit": True,
        "times": 1,
    }
    assert client.get("/llmage/v1/models").status_code == 429
    assert client.get("/llmage/v1/models").status_code == 200
    r = httpx.post(emu.url + "/_emulator/faults", json={"bogus": 1})
    assert r.status_code == 400 and "bogus" in r.json()["error"]


@pytest.mark.parametrize(
    "header", ["bogus=1", "status=200", "latency=-1", "task=maybe", "drop", "status=503;times=2"]
)
def test_bad_fault_headers_are_rejected(client: httpx.Client, header: str) -> None:
    r = client.get("/llmage/v1/models", headers={HEADER: header})
    assert r.status_code == 400 and "error" in r.json()
