"""runtime/trace_input.py: a trace stores the raw request, and reading it gives back
exactly the value the handler saw."""

from __future__ import annotations

import asyncio
import json
from unittest import mock

from aiohttp import StreamReader
from aiohttp.test_utils import make_mocked_request
from hypothesis import given
from hypothesis import strategies as st

from runtime.traffic.server import EDITOR_HEADER, read_request
from runtime.traffic.trace_input import RawRequest, input_wire, trace_bindings
from shared_ast import wire
from shared_ast.values import FrozenDict

texts = st.text(max_size=20)
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=10)
json_docs = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def raw_requests(draw: st.DrawFn) -> RawRequest:
    is_json = draw(st.booleans())
    body = draw(st.none() | (json_docs.map(json.dumps) if is_json else texts))
    return RawRequest(
        draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"])),
        "/" + draw(st.text(alphabet="abc/:-_", max_size=15)),
        draw(st.dictionaries(names, texts, max_size=3)),
        draw(st.dictionaries(names, texts, max_size=4)),
        body,
        is_json,
    )


@given(raw_requests())
def test_a_stored_request_reads_back_as_the_value_the_handler_saw(raw: RawRequest) -> None:
    stored = raw.to_json()
    seen = raw.value()
    assert trace_bindings(stored) == {"request": seen}
    assert wire.decode_value(input_wire(stored)) == seen
    assert isinstance(seen, FrozenDict) and seen["method"] == raw.method


def test_http_traces_written_before_raw_requests_read_as_before() -> None:
    request = FrozenDict(method="GET", path="/x", body=None, query=FrozenDict(),
                         headers=FrozenDict())
    stored = json.dumps(wire.encode_value(request))
    assert trace_bindings(stored) == {"request": request}
    assert input_wire(stored) == json.loads(stored)


def test_worker_and_cron_traces_bind_their_inputs_by_name() -> None:
    # Exactly as runtime.background.run_traced stores them.
    event = FrozenDict(n=3, tags=("a", "b"))
    stored = json.dumps({k: wire.encode_value(v) for k, v in {"event": event}.items()})
    assert trace_bindings(stored) == {"event": event}
    assert input_wire(stored) == json.loads(stored)
    assert trace_bindings(json.dumps({})) == {}  # a cron's run has no inputs


def read(headers: dict[str, str], body: bytes, max_body: int = 1000) -> tuple:
    async def go() -> tuple:
        payload = StreamReader(mock.Mock(_reading_paused=False), 2**16,
                               loop=asyncio.get_running_loop())
        payload.feed_data(body)
        payload.feed_eof()
        request = make_mocked_request("POST", "/c/demo/things?x=1", headers=headers,
                                      payload=payload)
        return await read_request(request, max_body)
    return asyncio.run(go())


def test_read_request_keeps_the_editor_token_out_of_the_value_and_the_trace() -> None:
    raw, value, problem = read({EDITOR_HEADER: "secret-token", "Content-Type": "application/json",
                                "X-Other": "kept"}, b'{"a": 1}')
    assert problem is None and raw is not None
    assert "secret-token" not in raw.to_json()
    assert EDITOR_HEADER.lower() not in value["headers"]
    assert value["headers"]["x-other"] == "kept"
    assert value["body"] == FrozenDict(a=1) and value["query"] == FrozenDict(x="1")
    assert trace_bindings(raw.to_json()) == {"request": value}


def test_read_request_refuses_bad_json_and_big_bodies_with_a_reason() -> None:
    raw, _, problem = read({"Content-Type": "application/json"}, b"{nope")
    assert raw is None and problem is not None
    assert problem[0] == 400 and "not valid JSON" in problem[1]
    raw, _, problem = read({}, b"x" * 50, max_body=10)
    assert raw is None and problem is not None
    assert problem[0] == 413 and "larger than 10 bytes" in problem[1]


def test_trace_ids_are_unique_32_hex_digits() -> None:
    from runtime.services import new_trace_id

    ids = [new_trace_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
