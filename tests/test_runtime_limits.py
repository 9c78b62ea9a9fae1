"""Runaway user code against a real runtime: each shape answered with a clear error
within its limits, in bounded memory, while a cheap handler keeps answering."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest
from runtime_harness import (
    EditorSession,
    RuntimeProcess,
    admin_status,
    create_toplevels,
    run,
    running,
)

from shared_ast import build as b
from shared_ast.nodes import Expr, UserFnRef
from shared_ast.toplevels import UserFunction
from shared_ast.type_ast import INT, STRING, UNKNOWN, TList


def recursive(name: str, params: list[tuple[str, Any]], body: Any) -> UserFunction:
    fn = b.function(name, params, UNKNOWN, b.int_(0))
    return attrs.evolve(fn, body=body(UserFnRef(fn.fn_id, fn.version)))


def doubler(name: str, typ: Any, grow: Any) -> UserFunction:
    """`name x n = if n == 0 then x else name (grow x) (n - 1)`; `grow` builds
    the bigger value from `x` (a fresh node each time it names it)."""
    return recursive(name, [("x", typ), ("n", INT)], lambda me: b.if_(
        b.infix("==", b.var("n"), 0), b.var("x"),
        b.user_call(me, grow(), b.infix("-", b.var("n"), 1))))


def forever() -> UserFunction:
    """`down n = down (n + 1)`: a recursion with no base case."""
    return recursive("down", [("n", INT)], lambda me: b.user_call(
        me, b.infix("+", b.var("n"), 1)))


def spin() -> Expr:
    """A fold over a million Ints whose every step folds over a million more."""
    inner = b.call("List::fold_v0", b.call("List::range_v0", 0, 999_999), b.var("acc"),
                   b.lam(["a", "y"], b.infix("+", b.var("a"), 1)))
    return b.call("List::fold_v0", b.call("List::range_v0", 0, 999_999), 0,
                  b.lam(["acc", "x"], inner))


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data = tmp_path_factory.mktemp("limits") / "data"
    strings = doubler("strings", STRING, lambda: b.infix("++", b.var("x"), b.var("x")))
    lists = doubler("lists", TList(INT),
                    lambda: b.call("List::append_v0", b.var("x"), b.var("x")))
    down = forever()
    # The spin must meet the time limit before the step limit: a short limit.
    with running(data, ["--workers", "2", "--time-limit", "0.05"]) as proc:
        create_toplevels(proc, [
            strings, lists, down,
            b.http("GET", "/spin", spin()),
            b.http("GET", "/deep", b.user_call(down, 0)),
            b.http("GET", "/strings", b.call("String::length_v1",
                                              b.user_call(strings, "ab", 40))),
            b.http("GET", "/lists", b.call("List::length_v0",
                                            b.user_call(lists, b.list_(1, 2), 40))),
        ])
        yield proc


RUNAWAYS = {
    "/spin": "time limit",
    "/deep": "recursion deeper than",
    "/strings": "would build a String",
    "/lists": "would build a List",
}


@pytest.mark.parametrize("path", sorted(RUNAWAYS))
def test_a_runaway_is_answered_with_a_clear_error_naming_handler_limit_and_trace(
    rt: RuntimeProcess, path: str,
) -> None:
    status, body = rt.get(path)
    assert status == 500
    assert f"the handler for GET {path}" in body["error"]
    assert RUNAWAYS[path] in body["error"], body
    # The trace id that the answer's header carries is named in the hint.
    got = http_request_with_headers(f"{rt.http}/c/demo{path}")
    assert got["trace"] and got["trace"] in got["body"]["hint"]


def http_request_with_headers(url: str) -> dict[str, Any]:
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return {"trace": resp.headers["X-Gloam-Trace"], "body": json.loads(resp.read())}
    except urllib.error.HTTPError as e:
        return {"trace": e.headers["X-Gloam-Trace"], "body": json.loads(e.read())}


def test_runaways_cost_their_own_requests_while_a_cheap_handler_keeps_answering(
    rt: RuntimeProcess,
) -> None:
    paths = sorted(RUNAWAYS) * 4
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        runaways = [pool.submit(rt.get, p) for p in paths]
        hellos = [rt.get("/hello") for _ in range(40)]
        answers = [f.result() for f in runaways]
    assert all(h == (200, "Hello from Gloam!\n") for h in hellos)
    assert [status for status, _ in answers] == [500] * len(paths)
    # Memory stayed bounded: no worker grew anywhere near what the doublings ask for
    # (2^40 characters, 2^41 Ints).
    for worker in admin_status(rt)["workers"]:
        assert rss_mb(worker["pid"]) < 600, worker
        assert worker["restarts"] == 0  # limits stopped them, not the supervisor


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


async def ask(proc: RuntimeProcess, message: dict[str, Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        ed = await EditorSession.open(http, proc)
        got = await ed.reply(message)
        await ed.ws.close()
        return got


def test_a_canvas_sets_its_own_time_limit_for_every_worker(tmp_path: Path) -> None:
    with running(tmp_path / "data", ["--workers", "2"]) as proc:
        create_toplevels(proc, [b.http("GET", "/spin", spin())])

        async def set_limit(value: Any) -> dict[str, Any]:
            return await ask(proc, {"type": "set_limits", "time_limit_seconds": value})

        def spin_error() -> str:
            status, body = proc.get("/spin")
            assert status == 500
            return str(body["error"])

        # The runtime's 1 s: the step limit stops the spin first.
        assert "steps" in spin_error()
        assert run(set_limit(0.01)) == {"type": "limits", "id": "m1", "schema": 1,
                                        "time_limit_seconds": 0.01, "alloc_limit_mb": 64.0}
        # Both workers have it: every answer, whichever worker gave it.
        assert all("after 0.01 s" in spin_error() for _ in range(6))
        for bad in (0, -1, 31, "1", True):
            refused = run(set_limit(bad))
            assert refused["type"] == "error" and "time_limit_seconds" in refused["message"]
        refused = run(ask(proc, {"type": "set_limits"}))
        assert refused["type"] == "error" and "at least one of" in refused["message"]
        assert run(set_limit(None))["time_limit_seconds"] == 1.0
        assert all("steps" in spin_error() for _ in range(6))
    # Stored: a restarted runtime keeps a canvas's limit.
    with running(tmp_path / "data", ["--workers", "1"]) as proc:
        run(set_limit(0.02))
    with running(tmp_path / "data", ["--workers", "1"]) as proc:
        assert "after 0.02 s" in spin_error()


def test_a_canvas_sets_what_a_run_may_build(tmp_path: Path) -> None:
    # Rows of 100 characters appended to a growing String: every copy counts.
    rows = b.call("List::fold_v0", b.call("List::range_v0", 1, 2000), "",
                  b.lam(["acc", "i"], b.infix("++", b.var("acc"), "x" * 100)))
    with running(tmp_path / "data", ["--workers", "1", "--alloc-limit", "8"]) as proc:
        create_toplevels(proc, [b.http("GET", "/csv", b.call("String::length_v1", rows))])
        status, body = proc.get("/csv")
        assert status == 500 and "allocation limit of 8,388,608 bytes" in body["error"]
        got = run(ask(proc, {"type": "set_limits", "alloc_limit_mb": 512}))
        assert got["alloc_limit_mb"] == 512.0 and got["time_limit_seconds"] == 1.0
        assert proc.get("/csv") == (200, 200_000)
