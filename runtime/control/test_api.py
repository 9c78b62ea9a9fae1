"""The runtime's side of tests: running a canvas's tests, and turning a trace into a test
(the editor API messages `run_tests` and `trace_to_test`; docs/protocol.md has both).

Tests never touch the world (`shared_ast.testing`): the runtime runs them only when
asked (`run_tests`, and `gloam canvas test` through it), off the event loop, on the
live version of the canvas.

`trace_to_test` makes the test a stored trace stands for
(`shared_ast.trace_tests.test_from_trace`): the trace's input, its impure calls as the
test's recording, and the value its run gave as the expected value. A worker's or
cron's trace keeps that value. An HTTP trace keeps only the answer that was sent (status,
headers, body), so the handler is run again on the trace's input with its recording, as
a replay does: when that answer equals the stored one, the value it came from is the
expected value; when not (the code changed since), the request is refused with both
answers, so nobody gets a test of an answer nobody saw.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from runtime.control import replay
from runtime.services import RuntimeServices, impure_from_json
from runtime.store.protocol import TraceRecord
from runtime.traffic.responses import answer_for, handler_label
from shared_ast import wire
from shared_ast.eval_context import Budget, ImpureLog
from shared_ast.evaluator import run_toplevel
from shared_ast.program import Program
from shared_ast.testing import ERROR, REFUSED_IMPURE, STATUS_ORDER, Suite, TestResult, test_budget
from shared_ast.toplevels import Handler, HttpSpec, Pos, Test, Toplevel
from shared_ast.trace_tests import TraceTestError, test_from_trace
from shared_ast.values import ErrorValue, show

__all__ = ["RUN_TESTS_SECONDS", "TestApi", "TestRequestError", "counts", "make_test", "result_json",
           "run_tests"]

#: How long one `run_tests` may take in all: each run of a test has its own limit (two
#: seconds), but a canvas of many tests, each in up to 64 flag states, would hold a
#: thread for hours. A test that does not get to run in time is an error saying so.
RUN_TESTS_SECONDS = 120.0

#: Where a test made from a trace goes: to the right of its handler (the editor may move it).
BESIDE = 460


class TestRequestError(Exception):
    """A message the runtime cannot act on; the text goes back as an error reply."""

    __test__ = False  # not a pytest test class, though named Test...


def result_json(r: TestResult) -> dict[str, Any]:
    """One test's result on the wire: every run, its flag state and its checks."""
    return {
        "tlid": r.tlid, "name": r.name, "status": r.status, "summary": r.summary(),
        "flags": [{"flag_id": f.flag_id, "name": f.name, "tlid": f.tlid} for f in r.flags],
        "runs": [{
            "state": [{"flag_id": f.flag_id, "name": f.name, "new": new} for f, new in run.state],
            "status": run.status,
            "message": run.message,
            "checks": [{"node_id": c.node_id, "actual": _value_json(c.actual),
                        "expected": _value_json(c.expected), "passed": c.passed}
                       for c in run.checks],
        } for run in r.runs],
    }


def _value_json(value: Any) -> Any:
    """A check's value on the wire; one the wire cannot carry (nested deeper than its limit)
    as an error value saying so, with the start of the value as Gloam shows it."""
    try:
        return wire.encode_value(value)
    except wire.WireError as e:
        return wire.encode_value(ErrorValue(
            f"this value cannot be sent ({e.message}): {show(value, 200)}"))


def counts(results: Iterable[dict[str, Any]]) -> dict[str, int]:
    """How many results have each status (every status named, 0 included)."""
    found = dict.fromkeys(STATUS_ORDER, 0)
    for r in results:
        found[r["status"]] += 1
    return found


def run_tests(toplevels: Mapping[int, Toplevel] | Sequence[Toplevel],
              tlids: Sequence[int] | None = None,
              time_limit: float = RUN_TESTS_SECONDS) -> list[dict[str, Any]]:
    """Run the canvas's tests (or those of `tlids`), each in every flag state on its path,
    within `time_limit` seconds in all (those left when it is up are errors saying so)."""
    suite = Suite(toplevels)
    if tlids is None:
        chosen = list(suite.tests.values())
    else:
        missing = [t for t in tlids if t not in suite.tests]
        if missing:
            raise TestRequestError(
                f"not tests of this canvas: {', '.join(map(str, missing[:5]))}; leave "
                '"tlids" out to run every test')
        chosen = [suite.tests[t] for t in dict.fromkeys(tlids)]  # each test once
    deadline = time.monotonic() + time_limit

    def budget() -> Budget:
        """A run's limits, its time cut to what is left of the whole."""
        limits = test_budget()
        left = deadline - time.monotonic()
        limits.time_limit = max(0.0, min(limits.time_limit or left, left))
        return limits

    results = []
    for test in chosen:
        if time.monotonic() >= deadline:
            results.append(_not_run(test.tlid, test.name, time_limit))
        else:
            results.append(result_json(suite.run(test, budget=budget, keep_live=False)))
    return results


def _not_run(tlid: int, name: str, time_limit: float) -> dict[str, Any]:
    message = (f"not run: the tests took more than {time_limit:g} s in all; run fewer at "
               "a time (\"tlids\"), or make the slow ones faster")
    return {"tlid": tlid, "name": name, "status": ERROR, "summary": f"{name}: {ERROR}: {message}",
            "flags": [], "runs": [{"state": [], "status": ERROR, "message": message,
                                   "checks": []}]}


def make_test(toplevels: Mapping[int, Toplevel], handler: Handler, trace: TraceRecord,
              budget: Budget, name: str | None = None) -> tuple[Test, dict[str, Any]]:
    """The test of `trace` (a trace of `handler`), and its result run on the canvas."""
    program = Program.from_toplevels(toplevels.values())
    try:
        inputs = replay.trace_inputs(handler, trace)
        recording = impure_from_json(trace.impure_json)
        stored = wire.json_load(trace.output_json)
    except (wire.WireError, KeyError, TypeError, ValueError) as e:
        raise TestRequestError(f"trace {trace.trace_id} does not decode ({e}); make the test "
                               "from another trace") from None
    if isinstance(handler.spec, HttpSpec):
        impure = ImpureLog(recording, refuse_unrecorded=REFUSED_IMPURE)
        value = run_toplevel(handler, inputs, program, budget=budget, impure=impure, host=None)
        now = answer_for(value, handler_label(handler), trace.trace_id).summary()
        if now != stored:
            raise TestRequestError(
                f"the handler answers {trace.description} differently now than when it was "
                f"traced: then {_answer(stored)}, now {_answer(now)}. A test expects the "
                "answer the trace gave: send the request again and make the test from the "
                "new trace, or write the test by hand")
        expected = value
    else:
        if not isinstance(stored, dict) or "value" not in stored:
            raise TestRequestError(f"trace {trace.trace_id} keeps no value; make the test "
                                   "from a newer trace")
        if stored.get("failure"):
            raise TestRequestError(
                f"this run {stored['failure']}: a test expects the value a run gave, and "
                "this one gave none. Make the test from a run that succeeded")
        expected = wire.decode_value(stored["value"])
    pos = Pos(handler.pos.x + BESIDE, handler.pos.y)
    try:
        test = test_from_trace(handler, inputs, expected, recording, name, pos, program)
    except TraceTestError as e:
        raise TestRequestError(str(e)) from None
    result = Suite([*toplevels.values(), test]).run(test, keep_live=False)
    return test, result_json(result)


def _answer(summary: Any) -> str:
    if not isinstance(summary, dict):
        return repr(summary)[:200]
    body = str(summary.get("body", ""))
    return f"{summary.get('status')} {body[:120]}" + ("…" if len(body) > 120 else "")


def _tlid(msg: dict[str, Any], what: str) -> int:
    tlid = msg.get("tlid")
    if not isinstance(tlid, int) or isinstance(tlid, bool) or not -2**63 <= tlid < 2**63:
        raise TestRequestError(f'{what} needs "tlid", the id of a handler (an integer)')
    return tlid


class TestApi:
    """`run_tests` and `trace_to_test` for one runtime's canvases."""

    __test__ = False

    def __init__(self, services: RuntimeServices) -> None:
        self.services = services

    async def handle(self, canvas: str, msg: dict[str, Any]) -> dict[str, Any]:
        state = self.services.live.get(canvas)
        assert state is not None
        toplevels = dict(state.toplevels)
        if msg.get("type") == "run_tests":
            tlids = msg.get("tlids")
            if tlids is not None and (not isinstance(tlids, list) or not all(
                    isinstance(t, int) and not isinstance(t, bool) for t in tlids)):
                raise TestRequestError('"tlids" is a list of test ids, or left out for every '
                                       "test")
            results = await asyncio.to_thread(run_tests, toplevels, tlids)
            return {"type": "test_results", "id": msg.get("id"), "results": results,
                    "counts": counts(results)}
        tlid = _tlid(msg, "trace_to_test")
        handler = toplevels.get(tlid)
        if not isinstance(handler, Handler):
            raise TestRequestError(f"trace_to_test needs the tlid of an HTTP handler, worker "
                                   f"or cron; {tlid} is none")
        trace_id, name = msg.get("trace_id"), msg.get("name")
        if not isinstance(trace_id, str):
            raise TestRequestError('trace_to_test needs "trace_id", the id of one of the '
                                   "handler's traces (get_traces lists them)")
        if name is not None and not isinstance(name, str):
            raise TestRequestError('"name" is the test\'s name (a String), or left out')
        traces = await asyncio.to_thread(self.services.store.traces, canvas, tlid, 1000)
        trace = next((t for t in traces if t.trace_id == trace_id), None)
        if trace is None:
            raise TestRequestError(f"handler {tlid} has no trace {trace_id!r} (any more?); "
                                   "pick one get_traces lists")
        test, result = await asyncio.to_thread(make_test, toplevels, handler, trace,
                                               self.services.budget(canvas), name)
        return {"type": "trace_test", "id": msg.get("id"),
                "toplevel": wire.encode_toplevel(test), "result": result}
