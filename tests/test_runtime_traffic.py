"""User traffic against a real runtime: routing, canvases, answers for every kind of result."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from runtime_harness import (
    EditorSession,
    RuntimeProcess,
    create_toplevels,
    http_request,
    run,
    running,
)

from shared_ast import build as b
from shared_ast.ids import new_id
from shared_ast.nodes import UserFnRef
from shared_ast.type_ast import UNKNOWN


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> RuntimeProcess:
    with running(tmp_path_factory.mktemp("traffic") / "data") as proc:
        spin_id = new_id()
        # A function that calls itself forever: the budget must stop it.
        spin = b.function("spin", [], UNKNOWN, b.user_call(UserFnRef(spin_id, 0)), fn_id=spin_id)
        handlers = [
            spin,
            b.http("GET", "/incomplete", b.infix("+", 1, b.hole())),
            b.http("GET", "/fails", b.call("Int::divide_v0", 1, 0)),
            b.http("GET", "/rail/:key", b.call("Dict::get_v2", b.call("Dict::empty_v0"),
                                               b.var("key"), rail=True)),
            b.http("GET", "/rail-error",
                   b.call("Result::andThen_v1", b.err("bad input"),
                          b.lam(["x"], b.ok(b.var("x"))), rail=True)),
            b.http("POST", "/echo", b.record(got=b.field(b.var("request"), "body"))),
            b.http("GET", "/users/:id", b.record(id=b.var("id"))),
            b.http("GET", "/users/me", "it's me"),
            b.http("GET", "/query", b.field(b.field(b.var("request"), "query"), "q")),
            b.http("GET", "/loop", b.user_call(spin)),
            b.http("GET", "/teapot", b.call("Http::response_v0", "short and stout", 418)),
        ]

        create_toplevels(proc, handlers)
        yield proc


def test_the_demo_answers_by_host_name_and_by_path_prefix(rt: RuntimeProcess) -> None:
    by_path = http_request("GET", f"{rt.http}/c/demo/hello")
    by_host = http_request("GET", f"{rt.http}/hello", headers={"Host": "demo.localhost"})
    assert by_path == by_host == (200, "Hello from Gloam!\n")


def test_the_demo_sum_handler(rt: RuntimeProcess) -> None:
    assert rt.get("/sum/3/4") == (200, 7)
    # The client sent something that is not a number: a 4xx naming what went wrong.
    status, body = rt.get("/sum/3/four")
    assert status == 404 and "Error" in body["error"] and "four" in body["error"]


def test_a_missing_route_is_a_clear_404(rt: RuntimeProcess) -> None:
    status, body = rt.get("/nowhere")
    assert status == 404
    assert "No handler for GET /nowhere" in body["error"] and "404s" in body["hint"]


def test_an_unknown_canvas_is_named(rt: RuntimeProcess) -> None:
    status, body = rt.get("/hello", canvas="nope")
    # Named, but the canvases that do exist are not listed to a stranger (issue 11).
    assert status == 404 and "nope" in body["error"] and "demo" not in body["hint"]
    status, body = http_request("GET", f"{rt.http}/hello")
    assert status == 404 and "names no canvas" in body["error"]


def test_incomplete_code_is_a_500_naming_the_handler(rt: RuntimeProcess) -> None:
    status, body = rt.get("/incomplete")
    assert status == 500 and "GET /incomplete is incomplete" in body["error"]


def test_an_error_is_a_500_naming_the_error(rt: RuntimeProcess) -> None:
    status, body = rt.get("/fails")
    assert status == 500 and "zero" in body["error"].lower()


def test_the_error_rail_is_a_404_and_a_crash_a_500(rt: RuntimeProcess) -> None:
    # The README's rule: what the client asked for is missing or unusable → 404 (the
    # error rail, Nothing or Error, as Dark answered); the code went wrong → 500.
    status, body = rt.get("/rail/x")
    assert status == 404 and "returned Nothing" in body["error"]
    status, body = rt.get("/rail-error")
    assert status == 404 and "bad input" in body["error"]
    assert rt.get("/fails")[0] == 500 and rt.get("/incomplete")[0] == 500


def test_request_body_query_and_params_reach_the_handler(rt: RuntimeProcess) -> None:
    assert rt.request("POST", "/echo", body={"a": [1, 2]}) == (200, {"got": {"a": [1, 2]}})
    assert rt.get("/users/42") == (200, {"id": "42"})
    assert rt.get("/users/me") == (200, "it's me")
    assert rt.get("/query?q=hi") == (200, "hi")


def test_invalid_json_body_is_a_400(rt: RuntimeProcess) -> None:
    status, body = rt.request("POST", "/echo", body=b"{broken",
                              headers={"Content-Type": "application/json"})
    assert status == 400 and "not valid JSON" in body["error"]


def test_a_response_with_a_status(rt: RuntimeProcess) -> None:
    assert rt.get("/teapot") == (418, "short and stout")


def test_runaway_code_answers_and_the_server_lives_on(rt: RuntimeProcess) -> None:
    status, body = rt.get("/loop")
    assert status == 500
    assert rt.get("/hello") == (200, "Hello from Gloam!\n")
    del body


def test_every_request_to_a_canvas_is_traced_and_404s_are_listed(rt: RuntimeProcess) -> None:
    # Answered by the handler, unmatched, and refused before the handler ran (a body
    # that is not JSON, one too large): each is a trace. (A request for a canvas that
    # does not exist has no canvas to keep it: see test_an_unknown_canvas_is_named.)
    rt.get("/users/7")
    rt.get("/not-here-either")
    assert rt.request("POST", "/echo", body=b"{broken",
                      headers={"Content-Type": "application/json"})[0] == 400
    assert http_request("POST", f"{rt.http}/c/demo/echo",
                        body=b"x" * (8 * 1024 * 1024 + 10))[0] == 413

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, rt)

            def tlid_of(route: str) -> int:
                return int(next(t["tlid"] for t in ed.hello["toplevels"]
                                if t["kind"] == "handler" and t["spec"].get("route") == route))

            users = await ed.reply({"type": "get_traces", "tlid": tlid_of("/users/:id")})
            echo = await ed.reply({"type": "get_traces", "tlid": tlid_of("/echo")})
            missing = await ed.reply({"type": "get_404s"})
            await ed.ws.close()
            return users, echo, missing

    # No waiting: traces are written off the request path, but the runtime answers
    # get_traces and get_404s only once the traces of answered requests are stored.
    users, echo, missing = run(scenario())
    assert ("GET /users/7", 200) in [(t["description"], t["output"]["status"])
                                     for t in users["traces"]]
    statuses = [t["output"]["status"] for t in echo["traces"]]
    assert 400 in statuses and 413 in statuses
    assert any(r["description"] == "GET /not-here-either" for r in missing["requests"])


def test_a_body_too_large_is_refused_with_413_and_the_server_lives_on(
        rt: RuntimeProcess) -> None:
    limit = 8 * 1024 * 1024
    for size in (limit + 10, limit + 1024 * 1024):   # just over, and far over (aiohttp stops)
        status, body = http_request("POST", f"{rt.http}/c/demo/hello", body="x" * size)
        assert status == 413, (size, status, body)
        assert f"larger than {limit} bytes" in body["error"] and "smaller" in body["hint"]
    assert rt.get("/hello") == (200, "Hello from Gloam!\n")


def test_head_answers_the_get_headers_without_the_body(rt: RuntimeProcess) -> None:
    import socket

    port = int(rt.http.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        # Pipelined on one connection: a body after the HEAD answer would corrupt the GET's.
        conn.sendall(b"HEAD /c/demo/hello HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /c/demo/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: 18" in head
    assert rest.startswith(b"HTTP/1.1 200"), rest[:40]   # no body between the two answers
    assert rest.endswith(b"Hello from Gloam!\n")
