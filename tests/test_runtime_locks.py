"""Locking code in use: the runtime refuses unsafe changes to what traffic reached recently."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp

from shared_ast import build as b
from shared_ast.ids import new_id
from shared_ast.nodes import EFlag, EInt, EString
from shared_ast.ops import MoveToplevel, ReplaceNode, SetHandlerSpec
from shared_ast.toplevels import HttpSpec, Pos
from shared_ast.type_ast import INT
from tests.runtime_harness import EditorSession, create_toplevels, http_request, run, running

LOCKED = ["--lock-window", "3600"]


async def send(rt: Any, ops: list[Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        ed = await EditorSession.open(http, rt)
        got = await ed.deploy(ops)
        await ed.ws.close()
        return got


async def ask(rt: Any, message: dict[str, Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        ed = await EditorSession.open(http, rt)
        got = await ed.reply(message)
        await ed.ws.close()
        return got


async def hello_seq(rt: Any) -> int:
    async with aiohttp.ClientSession() as http:
        ed = await EditorSession.open(http, rt)
        await ed.ws.close()
        return int(ed.hello["seq"])


def test_a_change_to_a_handler_in_use_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    handler = b.http("GET", "/price", 10)
    with running(tmp_path / "data", LOCKED) as rt:
        create_toplevels(rt, [handler])
        # Before any traffic the handler is free to change.
        body = handler.body
        first = run(send(rt, [ReplaceNode(handler.tlid, body.id, body, EInt(body.id, 11))]))
        assert first["type"] == "ack"
        assert rt.get("/price") == (200, 11)
        now = EInt(body.id, 11)
        seq_before = run(hello_seq(rt))
        got = run(send(rt, [ReplaceNode(handler.tlid, body.id, now, EInt(body.id, 12))]))
        assert run(hello_seq(rt)) == seq_before      # nothing was stored
        assert got["type"] == "error" and got["op_index"] == 0
        assert "GET /price is in use" in got["message"]
        assert "Wrap the part to change in a feature flag" in got["message"]
        assert rt.get("/price") == (200, 11)
        # A new route or a delete are refused too; moving it is fine.
        spec = run(send(rt, [SetHandlerSpec(handler.tlid, HttpSpec("GET", "/price"),
                                            HttpSpec("GET", "/cost"))]))
        assert spec["type"] == "error" and "change what triggers" in spec["message"]
        moved = run(send(rt, [MoveToplevel(handler.tlid, handler.pos, Pos(300, 300))]))
        assert moved["type"] == "ack"
        assert rt.get("/price") == (200, 11)


def test_the_same_change_inside_a_flags_new_branch_is_accepted(tmp_path: Path) -> None:
    handler = b.http("GET", "/greet", "hi")
    with running(tmp_path / "data", LOCKED) as rt:
        create_toplevels(rt, [handler])
        assert rt.get("/greet") == (200, "hi")
        old = handler.body
        assert isinstance(old, EString)
        copy = EString(new_id(), "hi")
        flag = EFlag(new_id(), "greeting", b.bool_(False), old, copy)
        wrapped = run(send(rt, [ReplaceNode(handler.tlid, old.id, old, flag)]))
        assert wrapped["type"] == "ack", wrapped
        edited = run(send(rt, [ReplaceNode(handler.tlid, copy.id, copy,
                                           EString(copy.id, "hello"))]))
        assert edited["type"] == "ack", edited
        assert rt.get("/greet") == (200, "hi")          # the flag is off
        # Editing the live (old) branch inside the flag is still refused.
        refused = run(send(rt, [ReplaceNode(handler.tlid, old.id, old, EString(old.id, "x"))]))
        assert refused["type"] == "error"


def test_in_use_lists_handlers_and_the_functions_they_call(tmp_path: Path) -> None:
    double = b.function("double", [("x", INT)], INT, b.infix("*", b.var("x"), 2))
    handler = b.http("GET", "/d/:n", b.user_call(double, b.call("Int::parse_v0", b.var("n"),
                                                                 rail=True)))
    idle = b.http("GET", "/idle", 1)
    with running(tmp_path / "data", LOCKED) as rt:
        create_toplevels(rt, [double, handler, idle])
        assert rt.get("/d/21") == (200, 42)
        got = run(ask(rt, {"type": "get_in_use"}))
        assert got["type"] == "in_use" and got["window_seconds"] == 3600
        by_tlid = {t["tlid"]: t for t in got["locked"]}
        assert set(by_tlid) == {handler.tlid, double.tlid}
        assert by_tlid[handler.tlid]["requests"] == 1 and by_tlid[handler.tlid]["via"] == ""
        assert by_tlid[double.tlid]["via"] == "used by HTTP GET /d/:n"
        body = double.body
        refused = run(send(rt, [ReplaceNode(double.tlid, body.id, body, EInt(new_id(), 0))]))
        assert refused["type"] == "error"
        assert "function double_v0 is in use" in refused["message"]
        assert "new version of the function" in refused["message"]


def traffic(rt: Any, path: str, stop: threading.Event, answers: list[Any]) -> None:
    while not stop.is_set():
        answers.append(http_request("GET", f"{rt.http}/c/demo{path}"))


def test_commit_and_discard_are_atomic_under_traffic(tmp_path: Path) -> None:
    old, new = b.str_("old"), b.str_("new")
    flag = b.flag("switch", b.bool_(False), old, new)
    other_old, other_new = b.str_("old"), b.str_("new")
    other = b.flag("switch2", b.bool_(False), other_old, other_new)
    committed = b.http("GET", "/a", flag)
    discarded = b.http("GET", "/b", other)
    with running(tmp_path / "data", LOCKED) as rt:
        create_toplevels(rt, [committed, discarded])
        rt.get("/a"), rt.get("/b")
        stop = threading.Event()
        answers_a: list[Any] = []
        answers_b: list[Any] = []
        threads = [threading.Thread(target=traffic, args=(rt, "/a", stop, answers_a)),
                   threading.Thread(target=traffic, args=(rt, "/b", stop, answers_b))]
        for t in threads:
            t.start()
        try:
            asyncio.run(asyncio.sleep(0.3))
            got = run(send(rt, [ReplaceNode(committed.tlid, flag.id, flag, flag.new),
                                ReplaceNode(discarded.tlid, other.id, other, other.old)]))
            assert got["type"] == "ack", got
            asyncio.run(asyncio.sleep(0.3))
        finally:
            stop.set()
            for t in threads:
                t.join()
    assert answers_a and answers_b
    assert all(a in ((200, "old"), (200, "new")) for a in answers_a), set(map(str, answers_a))
    assert all(a == (200, "old") for a in answers_b)
    assert answers_a[-1] == (200, "new")
    # Once the new answer appears, the old never comes back.
    first_new = answers_a.index((200, "new"))
    assert all(a == (200, "new") for a in answers_a[first_new:])


def test_a_window_of_zero_turns_locking_off(tmp_path: Path) -> None:
    handler = b.http("GET", "/free", 1)
    with running(tmp_path / "data", ["--lock-window", "0"]) as rt:
        create_toplevels(rt, [handler])
        assert rt.get("/free") == (200, 1)
        body = handler.body
        got = run(send(rt, [ReplaceNode(handler.tlid, body.id, body, EInt(body.id, 2))]))
        assert got["type"] == "ack"
        assert run(ask(rt, {"type": "get_in_use"}))["locked"] == []


def test_flag_decisions_of_live_traffic_are_counted_per_branch(tmp_path: Path) -> None:
    users = b.call("Flag::rollout_v0", b.field(b.var("request"), "path"), 50)
    handler = b.http("GET", "/split/:u", b.flag("half", users, "old", "new"))
    with running(tmp_path / "data", LOCKED) as rt:
        create_toplevels(rt, [handler])
        answers = [rt.get(f"/split/{i}")[1] for i in range(40)]
        got = run(ask(rt, {"type": "get_flags"}))
        (flag,) = got["flags"]
        assert flag["tlid"] == handler.tlid and flag["name"] == "half"
        assert flag["old"] == answers.count("old") and flag["new"] == answers.count("new")
        assert flag["old"] + flag["new"] == 40 and 0 < flag["new"] < 40


def test_just_me_is_true_only_with_the_canvas_editor_token_which_no_trace_keeps(
        tmp_path: Path) -> None:
    handler = b.http("GET", "/sandbox",
                     b.flag("mine", b.call("Flag::justMe_v0"), "everyone", "just me"))
    with running(tmp_path / "data", LOCKED) as rt:
        create_toplevels(rt, [handler])
        info = run(ask(rt, {"type": "get_info"}))
        assert info["traffic_url"] == f"{rt.http}/c/demo"
        header = info["editor_header"]
        url = f"{info['traffic_url']}/sandbox"
        assert http_request("GET", url) == (200, "everyone")
        assert http_request("GET", url, headers={header: "wrong"}) == (200, "everyone")
        assert http_request("GET", url, headers={header: rt.token("demo")}) == (200, "just me")
        traces = run(ask(rt, {"type": "get_traces", "tlid": handler.tlid}))["traces"]
        assert len(traces) == 3
        assert rt.token("demo") not in str(traces)


def test_in_use_follows_new_traffic_and_new_code_without_recomputing_between() -> None:
    from runtime.control.usage import Usage

    double = b.function("double", [("x", INT)], INT, b.infix("*", b.var("x"), 2))
    a = b.http("GET", "/a", b.user_call(double, 1))
    other = b.http("GET", "/o", 1)
    canvas = {t.tlid: t for t in (double, a, other)}
    usage = Usage(3600)
    assert usage.in_use("c", canvas, now=100.0) == {}
    usage.saw("c", a.tlid, 100.0)
    first = usage.in_use("c", canvas, now=100.0)
    assert set(first) == {a.tlid, double.tlid} and first[a.tlid].requests == 1
    usage.saw("c", a.tlid, 101.0)                 # more traffic, same code: counts move
    assert usage.in_use("c", canvas, now=101.0)[a.tlid].requests == 2
    usage.saw("c", other.tlid, 102.0)             # a new handler reached: spread again
    assert set(usage.in_use("c", canvas, now=102.0)) == {a.tlid, double.tlid, other.tlid}
    changed = {**canvas, a.tlid: b.http("GET", "/a", 3, tlid=a.tlid)}  # /a no longer calls it
    assert set(usage.in_use("c", changed, now=102.0)) == {a.tlid, other.tlid}


def test_a_handler_in_use_moves_language_version_only_when_replay_shows_no_change(
        tmp_path: Path) -> None:
    from shared_ast.ops import SetLanguageVersion

    # Version 1 makes a list with an unfinished element unfinished (a 500); version 0
    # leaves the element out. The second handler answers the same on both.
    changes = b.http("GET", "/items", b.list_(1, b.hole(), 3), language_version=0)
    same = b.http("GET", "/fixed", b.list_(1, 2), language_version=0)
    with running(tmp_path / "data", LOCKED) as rt:
        create_toplevels(rt, [changes, same])
        assert rt.get("/items") == (200, [1, 3])
        assert rt.get("/fixed") == (200, [1, 2])
        seq_before = run(hello_seq(rt))
        got = run(send(rt, [SetLanguageVersion(changes.tlid, 0, 1)]))
        assert got["type"] == "error" and got["op_index"] == 0, got
        assert "would change the answer to 1 of the last 1 requests" in got["message"]
        assert "GET /items, 200 now, 500 after" in got["message"]
        assert got["message"].count("Nothing was changed") == 1
        assert run(hello_seq(rt)) == seq_before
        assert rt.get("/items") == (200, [1, 3])
        moved = run(send(rt, [SetLanguageVersion(same.tlid, 0, 1)]))
        assert moved["type"] == "ack", moved
        assert rt.get("/fixed") == (200, [1, 2])


def test_moving_a_function_in_use_replays_the_handlers_that_call_it(tmp_path: Path) -> None:
    from shared_ast.ops import SetLanguageVersion
    from shared_ast.type_ast import UNKNOWN

    # The function decides the answer: version 1 makes its unfinished list unfinished.
    fn = b.function("items", [], UNKNOWN, b.list_(1, b.hole(), 3), language_version=0)
    calls = b.http("GET", "/items", b.user_call(fn))
    with running(tmp_path / "data", LOCKED) as rt:
        create_toplevels(rt, [fn, calls])
        assert rt.get("/items") == (200, [1, 3])
        got = run(send(rt, [SetLanguageVersion(fn.tlid, 0, 1)]))
        assert got["type"] == "error", got
        assert "used by the handler for GET /items" in got["message"]
        assert "GET /items, 200 now, 500 after" in got["message"]
        assert rt.get("/items") == (200, [1, 3])


def test_a_worker_in_use_moves_when_its_stored_events_answer_the_same(tmp_path: Path) -> None:
    from shared_ast.ops import SetLanguageVersion

    worker = b.worker("jobs", b.list_(1, b.field(b.var("event"), "n")), language_version=0)
    emits = b.http("GET", "/go", b.call("Emit::emit_v0", b.record(n=5), "jobs"))
    with running(tmp_path / "data", LOCKED) as rt:
        create_toplevels(rt, [worker, emits])
        assert rt.get("/go")[0] == 200
        traces: list[Any] = []
        for _ in range(200):   # the worker loop runs the event soon after
            traces = run(ask(rt, {"type": "get_traces", "tlid": worker.tlid}))["traces"]
            if traces:
                break
            time.sleep(0.05)
        assert traces, "the worker never ran"
        got = run(send(rt, [SetLanguageVersion(worker.tlid, worker.language_version, 1)]))
        assert got["type"] == "ack", got
