"""Tests on the runtime (runtime/control/test_api.py) and `gloam canvas test`: a real
daemon on loopback, real requests reading a real datastore, the editor API over a real
websocket, the command line as a real process (against the daemon and an export file),
its JUnit XML parsed."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from shared_ast import build as b
from shared_ast import toplevels, wire
from shared_ast.ops import CreateToplevel, ReplaceNode
from shared_ast.type_ast import INT, STRING
from tests.runtime_harness import (
    ROOT,
    EditorSession,
    RuntimeProcess,
    create_toplevels,
    eventually,
    run,
    running,
)

USERS = b.datastore("Users", STRING)
SAVE = b.http("POST", "/users/:id/:name",
              b.call("DB::set_v1", b.var("name"), b.var("id"), b.var("Users_v0")))
SHOW = b.http("GET", "/users/:id", b.match(
    b.call("DB::get_v2", b.var("id"), b.var("Users_v0")),
    (b.pctor("Just", b.pvar("name")),
     b.call("Http::response_v0", b.record(id=b.var("id"), name=b.var("name")), 200)),
    (b.pctor("Nothing"), b.call("Http::response_v0", b.str_("no such user"), 404))),
    pos=(40, 300))
GREET = b.http("POST", "/greet/:name",
               b.call("Emit::emit_v0", b.record(name=b.var("name")), b.str_("greetings")))
WORKER = b.worker("greetings", b.field(b.var("event"), "name"))
#: A function with a flag whose new branch breaks the test of it.
DOUBLE = b.function("twice", [("n", INT)], INT,
                    b.flag("triple", b.bool_(False), b.infix("*", b.var("n"), 2),
                           b.infix("*", b.var("n"), 3)))


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    with running(tmp_path_factory.mktemp("tests") / "data") as runtime:
        create_toplevels(runtime, [USERS, SAVE, SHOW, GREET, WORKER, DOUBLE])
        yield runtime


async def _ask(rt: RuntimeProcess, *messages: dict[str, Any]) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        ed = await EditorSession.open(http, rt)
        replies = [await ed.reply(m) for m in messages]
        await ed.ws.close()
        return replies


def ask(rt: RuntimeProcess, message: dict[str, Any]) -> dict[str, Any]:
    return run(_ask(rt, message))[0]


def deploy(rt: RuntimeProcess, *ops: Any) -> None:
    (ack,) = run(_ask(rt, {"type": "ops", "ops": wire.encode_ops(list(ops))}))
    assert ack["type"] == "ack", ack


def newest_trace(rt: RuntimeProcess, tlid: int) -> dict[str, Any]:
    def found() -> Any:
        traces = ask(rt, {"type": "get_traces", "tlid": tlid})["traces"]
        return traces[0] if traces else None
    trace = eventually(found)
    assert trace, f"no trace of {tlid}"
    return dict(trace)


def gloam(rt: RuntimeProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gloam.cli", "canvas", *args,
                           "--data-dir", str(rt.data_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def junit(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    (suite,) = root.findall("testsuite")
    return suite


def test_a_request_that_read_a_datastore_becomes_a_test_that_keeps_passing(
        rt: RuntimeProcess) -> None:
    assert rt.request("POST", "/users/7/Ada")[0] == 200
    assert rt.get("/users/7") == (200, {"id": "7", "name": "Ada"})
    trace = newest_trace(rt, SHOW.tlid)
    reply = ask(rt, {"type": "trace_to_test", "tlid": SHOW.tlid,
                     "trace_id": trace["trace_id"]})
    assert reply["type"] == "trace_test", reply
    test = wire.decode_toplevel(reply["toplevel"])
    assert isinstance(test, toplevels.Test) and test.name == "GET /users/7 answers as traced"
    assert [c.name for c in test.recording] == ["DB::get_v2"]
    assert test.pos.x > SHOW.pos.x and test.pos.y == SHOW.pos.y   # beside its handler
    assert reply["result"]["status"] == "passed", reply["result"]
    deploy(rt, CreateToplevel(test))

    results = ask(rt, {"type": "run_tests", "tlids": [test.tlid]})
    assert results["type"] == "test_results"
    assert [r["status"] for r in results["results"]] == ["passed"]
    (check,) = results["results"][0]["runs"][0]["checks"]
    assert wire.decode_value(check["expected"]) == wire.decode_value(check["actual"])

    # The row it read changes: the handler answers otherwise, the test still passes
    # (it replays what the datastore gave then, and never reads it again).
    assert rt.request("POST", "/users/7/Grace")[0] == 200
    assert rt.get("/users/7") == (200, {"id": "7", "name": "Grace"})
    again = ask(rt, {"type": "run_tests", "tlids": [test.tlid]})
    assert again["results"][0]["status"] == "passed", again


def test_a_worker_trace_becomes_a_test_of_its_value(rt: RuntimeProcess) -> None:
    assert rt.request("POST", "/greet/Lin")[0] == 200
    trace = newest_trace(rt, WORKER.tlid)
    reply = ask(rt, {"type": "trace_to_test", "tlid": WORKER.tlid,
                     "trace_id": trace["trace_id"], "name": "greets Lin"})
    assert reply["type"] == "trace_test", reply
    assert reply["result"]["status"] == "passed"
    test = wire.decode_toplevel(reply["toplevel"])
    assert isinstance(test, toplevels.Test) and test.name == "greets Lin"
    checks = reply["result"]["runs"][0]["checks"]
    assert [wire.decode_value(c["expected"]) for c in checks] == ["Lin"]


def test_a_trace_the_code_no_longer_answers_alike_is_refused_with_both_answers(
        tmp_path: Path) -> None:
    show = b.http("GET", "/hi", b.str_("hi"))
    with running(tmp_path / "data") as runtime:
        create_toplevels(runtime, [show])
        assert runtime.get("/hi") == (200, "hi")
        trace = newest_trace(runtime, show.tlid)
        deploy(runtime, ReplaceNode(show.tlid, show.body.id, show.body, b.str_("hello")))
        reply = ask(runtime, {"type": "trace_to_test", "tlid": show.tlid,
                              "trace_id": trace["trace_id"]})
        assert reply["type"] == "error"
        assert "then 200 \"hi\", now 200 \"hello\"" in reply["message"]
        assert "send the request again" in reply["message"]
        for bad, says in [({"tlid": show.tlid, "trace_id": "nope"}, "no trace 'nope'"),
                          ({"tlid": 5, "trace_id": trace["trace_id"]}, "5 is none"),
                          ({"tlid": show.tlid}, 'needs "trace_id"')]:
            got = ask(runtime, {"type": "trace_to_test", **bad})
            assert got["type"] == "error" and says in got["message"], got
        got = ask(runtime, {"type": "run_tests", "tlids": [show.tlid]})
        assert got["type"] == "error" and "not tests of this canvas" in got["message"]


def test_gloam_canvas_test_against_the_runtime_and_an_export(
        rt: RuntimeProcess, tmp_path: Path) -> None:
    passing = b.test("twice 0 is 0", b.expect(b.user_call(DOUBLE, 0), 0))
    deploy(rt, CreateToplevel(passing))
    out = gloam(rt, "test", "demo", "--junit", str(tmp_path / "ok.xml"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "twice 0 is 0: passed in 2 flag states" in out.stdout
    suite = junit(tmp_path / "ok.xml")
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert int(suite.get("tests", "0")) == len(suite.findall("testcase")) >= 1

    # A test that fails only with the flag's new branch, one that errs, one with a hole.
    failing = b.test("twice 3 is 6", b.expect(b.user_call(DOUBLE, 3), 6))
    erring = b.test("divides", b.infix("/", 1, 0))   # stops with an error, checks nothing
    unfinished = b.test("not yet", b.hole())
    deploy(rt, *[CreateToplevel(t) for t in (failing, erring, unfinished)])
    out = gloam(rt, "test", "demo", "--junit", str(tmp_path / "bad.xml"))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "FAIL  twice 3 is 6: failed with flag triple new: expected 6, got 9" in out.stdout
    suite = junit(tmp_path / "bad.xml")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert all(c.get("classname") == "demo" for c in cases.values())
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("1", "1", "1")
    (failure,) = cases["twice 3 is 6"].findall("failure")
    assert failure.get("message") == "flag triple new: expected 6, got 9"
    assert failure.text == "expected 6, got 9"
    assert cases["divides"].find("error") is not None
    assert cases["not yet"].find("skipped") is not None
    assert cases["twice 0 is 0"].find("failure") is None

    # The same tests of an export, run here with no runtime involved.
    export = gloam(rt, "export", "demo")
    assert export.returncode == 0, export.stderr
    (tmp_path / "demo.json").write_text(export.stdout)
    local = subprocess.run([sys.executable, "-m", "gloam.cli", "canvas", "test", "--file",
                            str(tmp_path / "demo.json"), "--junit", str(tmp_path / "f.xml")],
                           cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert local.returncode == 1, local.stdout + local.stderr
    assert local.stdout.splitlines()[1:] == out.stdout.splitlines()[1:]
    suite = junit(tmp_path / "f.xml")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"),
            suite.get("skipped")) == (str(len(cases)), "1", "1", "1")

    # --strict: an incomplete test fails the run too.
    deploy(rt, *[ReplaceNode(t.tlid, t.body.id, t.body, b.expect(1, 1))
                 for t in (failing, erring)])
    assert gloam(rt, "test", "demo").returncode == 0
    assert gloam(rt, "test", "demo", "--strict").returncode == 1


def test_gloam_canvas_test_says_what_is_wrong(tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gloam.cli", "canvas", *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=60,
                              check=False)

    out = cli("test", "demo", "--data-dir", str(tmp_path / "none"))
    assert out.returncode == 2 and "the runtime is not running" in out.stderr
    (tmp_path / "bad.json").write_text("{}")
    out = cli("test", "--file", str(tmp_path / "bad.json"))
    assert out.returncode == 2 and "not a Gloam export" in out.stderr
    assert "gloam canvas export NAME" in out.stderr
    out = cli("test")
    assert out.returncode == 2 and "needs the canvas name" in out.stderr


def test_no_handler_answers_is_what_a_stale_test_says(tmp_path: Path) -> None:
    """A test made from a trace, whose route is gone: an error naming the route."""
    test = b.test("old route", b.expect(b.call("Test::http_v0", "GET", "/gone", None), 1))
    with running(tmp_path / "data") as runtime:
        create_toplevels(runtime, [test])
        got = ask(runtime, {"type": "run_tests", "tlids": [test.tlid]})
        (result,) = got["results"]
        assert result["status"] == "failed"   # the check got an error value
        assert "no HTTP handler answers GET /gone" in result["runs"][0]["message"]
        assert got["counts"] == {"passed": 0, "incomplete": 0, "failed": 1, "error": 0}
        # Without tlids every test runs: the demo canvas's two pass.
        every = ask(runtime, {"type": "run_tests"})
        assert every["counts"] == {"passed": 2, "incomplete": 0, "failed": 1, "error": 0}



def test_run_tests_is_bounded_in_all_and_runs_each_test_once() -> None:
    """Each run of a test has its own limit; `run_tests` has one in all, so a canvas of slow
    tests (in many flag states) does not hold a runtime thread for hours: the tests it
    has no time left for are errors saying so. A test asked for twice runs once."""
    from runtime.control.test_api import run_tests

    total = b.call("List::fold_v0", b.call("List::range_v0", 0, 50_000), 0,
                   b.lam(["acc", "x"], b.infix("+", b.var("acc"), b.var("x"))))
    busy = b.call("List::map_v0", b.call("List::range_v0", 0, 1000), b.lam(["i"], total))
    slow = b.test("slow", b.expect(busy, 1))
    after = b.test("after", b.expect(1, 1))
    got = run_tests([slow, after], [slow.tlid, after.tlid, after.tlid], time_limit=0.3)
    assert [r["tlid"] for r in got] == [slow.tlid, after.tlid]
    assert got[0]["status"] == "error" and "time limit" in got[0]["summary"]
    assert got[1]["status"] == "error"
    assert "not run: the tests took more than 0.3 s in all" in got[1]["summary"]
    quick = run_tests([after], [after.tlid, after.tlid])
    assert [(r["tlid"], r["status"]) for r in quick] == [(after.tlid, "passed")]


def test_a_check_of_a_value_nested_too_deeply_is_reported_not_a_crash() -> None:
    """A test's value can be nested deeper than Python's stack and the wire's limit: its
    run, its message and its result on the wire say so instead of crashing the run."""
    from runtime.control.test_api import run_tests

    deep = b.call("List::fold_v0", b.call("List::range_v0", 0, 3000), b.list_(),
                  b.lam(["acc", "x"], b.list_(b.var("acc"))))
    failing = b.test("deep", b.expect(deep, 1))
    same = b.test("deep twice", b.expect(deep, deep))
    got = run_tests([failing, same])
    assert [r["status"] for r in got] == ["failed", "passed"], got
    assert got[0]["summary"].startswith("deep: failed: expected 1, got [[[")
    actual = wire.decode_value(got[0]["runs"][0]["checks"][0]["actual"])
    assert "cannot be sent" in actual.message and "nested more than" in actual.message
