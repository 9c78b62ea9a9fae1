"""Tests that run by themselves, without Qt: which tests an edit affects, the worker thread
that runs them (a newer edit supersedes an older run), what the board shows (never an
older result over a newer one), where a failing test fails, and tests as toplevels in the
editor's model (new test, rename, completion of `Test::` only in tests), and the process
the tests run in (its copy of the canvas, aborts, a killed process replaced)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import attrs
import hypothesis.strategies as st
from hypothesis import given, settings

from editor.model import canvas_actions, completion
from editor.model.state import EditorState
from editor.model.test_process import ProcessRun
from editor.model.test_runs import (
    PackedReport,
    RunReport,
    RunRequest,
    TestBoard,
    TestWorker,
    at_failure,
    count_text,
    run_request,
    status_text,
)
from shared_ast import build as b
from shared_ast import toplevels
from shared_ast.nodes import ECall, EHole, EInt
from shared_ast.program import Program
from shared_ast.testing import FAILED, PASSED, Suite
from shared_ast.toplevels import Pos, Toplevel, UserFunction
from shared_ast.type_ast import INT


def _fn(name: str, plus: int) -> UserFunction:
    return b.function(name, [("n", INT)], INT, b.infix("+", b.var("n"), plus))


def _with_plus(fn: UserFunction, plus: int) -> UserFunction:
    """`fn` edited: the same toplevel with another constant (a new object, as an edit makes)."""
    return attrs.evolve(fn, body=b.infix("+", b.var("n"), plus))


def _canvas(*tls: Toplevel) -> dict[int, Toplevel]:
    return {tl.tlid: tl for tl in tls}


def test_the_first_canvas_runs_every_test_then_an_edit_only_the_tests_reaching_it() -> None:
    f, g = _fn("f", 1), _fn("g", 10)
    tf = b.test("f adds one", b.expect(b.user_call(f, 1), 2))
    tg = b.test("g adds ten", b.expect(b.user_call(g, 1), 11))
    board = TestBoard()
    first = board.request(_canvas(f, g, tf, tg))
    assert first is not None and first.everything
    report = run_request(first)
    assert report is not None and {r.tlid for r in report.results} == {tf.tlid, tg.tlid}
    assert board.accept(report)
    assert board.results[tf.tlid].status == PASSED
    assert board.request(board._canvas or {}) is None  # the same canvas: nothing to run
    edited = _canvas(_with_plus(f, 2), g, tf, tg)
    request = board.request(edited)
    assert request is not None and request.changed == {f.tlid} and not request.everything
    report = run_request(request)
    assert report is not None and [r.tlid for r in report.results] == [tf.tlid]
    assert board.accept(report)
    assert board.results[tf.tlid].status == FAILED
    assert board.results[tg.tlid].status == PASSED  # not run again, still shown
    assert board.counts(f.tlid) == {"passed": 0, "failing": 1, "incomplete": 0}
    assert count_text(board.counts(f.tlid)) == "tests 0 ✓ 1 ✗"
    assert count_text(board.counts(g.tlid)) == "tests 1 ✓"
    assert status_text(board.results[tf.tlid]) == "✗ failed: expected 2, got 3"


def test_deleting_what_a_test_reaches_runs_the_test_again_and_a_deleted_test_goes() -> None:
    f = _fn("f", 1)
    tf = b.test("f adds one", b.expect(b.user_call(f, 1), 2))
    other = b.test("other", b.expect(1, 1))
    board = TestBoard()
    first = board.request(_canvas(f, tf, other))
    assert first is not None
    board.accept(run_request(first))  # type: ignore[arg-type]
    request = board.request(_canvas(tf))
    assert request is not None and tf.tlid in request.tests
    report = run_request(request)
    assert report is not None and [r.tlid for r in report.results] == [tf.tlid]
    board.accept(report)
    assert board.results[tf.tlid].status != PASSED  # its function is gone
    assert other.tlid not in board.results


def test_an_older_run_never_replaces_a_newer_result() -> None:
    f = _fn("f", 1)
    t = b.test("f adds one", b.expect(b.user_call(f, 1), 2))
    board = TestBoard()
    board.request(_canvas(f, t))
    passing = Suite(_canvas(f, t)).run(t)
    failing = Suite(_canvas(_with_plus(f, 5), t)).run(t)
    assert board.accept(RunReport(2, (failing,), frozenset({t.tlid})))
    # The run of generation 1 arrives late: it is dropped.
    assert not board.accept(RunReport(1, (passing,), frozenset({t.tlid})))
    assert board.results[t.tlid].status == FAILED
    assert board.accept(RunReport(3, (passing,), frozenset({t.tlid})))
    assert board.results[t.tlid].status == PASSED


class _Gate:
    """A run function for `TestWorker` that holds the first run until released."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.runs: list[tuple[int, frozenset[int], bool]] = []

    def __call__(self, request: RunRequest, superseded: Callable[[], bool]) -> RunReport | None:
        if not self.runs:
            self.started.set()
            self.release.wait(10)
        stopped = superseded()
        self.runs.append((request.generation, request.changed, stopped))
        return None if stopped else RunReport(request.generation, (), frozenset())


def test_a_newer_request_supersedes_a_running_and_a_waiting_one() -> None:
    reports: list[RunReport] = []
    done = threading.Event()

    def got(report: RunReport) -> None:
        reports.append(report)
        done.set()

    gate = _Gate()
    worker = TestWorker(got, gate)
    try:
        worker.submit(RunRequest(1, {}, frozenset({1})))
        assert gate.started.wait(10)
        worker.submit(RunRequest(2, {}, frozenset({2})))  # waits, then is merged into 3
        worker.submit(RunRequest(3, {}, frozenset({3})))
        gate.release.set()
        assert done.wait(10)
        for _ in range(100):
            if worker.idle():
                break
            threading.Event().wait(0.05)
        # Run 1 saw it was superseded and gave no report; 2 never ran on its own; 3 ran
        # what 1 and 2 were to run.
        assert gate.runs == [(1, frozenset({1}), True), (3, frozenset({1, 2, 3}), False)]
        assert [r.generation for r in reports] == [3]
    finally:
        worker.stop()


def test_a_run_that_raises_is_reported_and_the_worker_goes_on() -> None:
    reports: list[RunReport] = []
    done = threading.Semaphore(0)

    def run(request: RunRequest, _superseded: Callable[[], bool]) -> RunReport:
        if request.generation == 1:
            raise ValueError("broken")
        return RunReport(request.generation, (), frozenset())

    def got(report: RunReport) -> None:
        reports.append(report)
        done.release()

    worker = TestWorker(got, run)
    try:
        worker.submit(RunRequest(1, {}))
        assert done.acquire(timeout=10)
        worker.submit(RunRequest(2, {}))
        assert done.acquire(timeout=10)
    finally:
        worker.stop()
    assert "ValueError: broken" in reports[0].error and "Edit again" in reports[0].error
    assert reports[1].generation == 2 and reports[1].error == ""


@settings(max_examples=25)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=8))
def test_after_any_burst_of_edits_the_board_shows_the_last_canvas_results(
        pluses: list[int]) -> None:
    """Edits submitted faster than the worker runs them: once it is idle, every test's
    shown result is the one the last canvas gives, whatever ran or was superseded."""
    f = _fn("f", 1)
    t1 = b.test("adds one", b.expect(b.user_call(f, 1), 2))
    t2 = b.test("adds two", b.expect(b.user_call(f, 1), 3))
    board = TestBoard()
    lock = threading.Lock()
    generations: list[int] = []

    def got(report: RunReport) -> None:
        with lock:
            generations.append(report.generation)
            board.accept(report)

    worker = TestWorker(got)
    canvas: dict[int, Toplevel] = {}
    try:
        for plus in [1, *pluses]:
            canvas = _canvas(_with_plus(f, plus), t1, t2)
            with lock:
                request = board.request(canvas)
            assert request is not None
            worker.submit(request)
        for _ in range(400):
            if worker.idle():
                break
            threading.Event().wait(0.01)
        assert worker.idle()
    finally:
        worker.stop()
    truth = {r.tlid: r.status for r in Suite(canvas).run_all()}
    assert {tlid: r.status for tlid, r in board.results.items()} == truth
    assert generations == sorted(generations)  # reports come newest last
    assert generations[-1] == board.generation


def test_the_failure_point_is_the_failing_checks_actual_value_with_its_live_values() -> None:
    f = _fn("f", 1)
    ok = b.expect(b.user_call(f, 1), 2)
    bad = b.expect(b.user_call(f, 2), 4)
    t = b.test("f", b.list_(ok, bad))
    canvas = _canvas(f, t)
    board = TestBoard()
    request = board.request(canvas)
    assert request is not None
    board.accept(run_request(request))  # type: ignore[arg-type]
    point = board.failure_point(t)
    assert point is not None and point.check_node == bad.id
    assert point.caret_node == bad.args[0].id
    assert point.live is not None and point.live.get(bad.args[0].id).value == 3
    out = at_failure(EditorState(canvas), point)
    assert out.state.caret is not None and out.state.caret.tlid == t.tlid
    # The caret is on the failing check's actual value: `(f 2)`'s first token.
    assert out.state.caret.node_id == bad.args[0].id
    assert "expected 4, got 3" in out.message


def test_a_test_that_stops_with_an_error_points_where_the_error_arose() -> None:
    division = b.call("Int::divide_v0", 1, 0)
    t = b.test("divides", b.let("x", division, b.expect(b.var("x"), 1)))
    board = TestBoard()
    request = board.request(_canvas(t))
    assert request is not None
    board.accept(run_request(request))  # type: ignore[arg-type]
    point = board.failure_point(t)
    assert point is not None and point.check_node is not None
    # A failing check whose actual value is an error: the caret goes to the check's value.
    assert "Division by zero" in point.message
    body_only = b.test("errs", b.call("Int::divide_v0", 1, 0))
    board2 = TestBoard()
    request = board2.request(_canvas(body_only))
    assert request is not None
    board2.accept(run_request(request))  # type: ignore[arg-type]
    point = board2.failure_point(body_only)
    assert point is not None and point.check_node is None
    assert point.caret_node == body_only.body.id


def test_next_failing_test_goes_round_in_reading_order() -> None:
    f = _fn("f", 1)
    tests = [b.test(f"t{i}", b.expect(b.user_call(f, 1), 2 if i == 1 else 9)) for i in range(3)]
    board = TestBoard()
    request = board.request(_canvas(f, *tests))
    assert request is not None
    board.accept(run_request(request))  # type: ignore[arg-type]
    order = [f.tlid, *(t.tlid for t in tests)]
    assert board.next_failing(None, order) == tests[0].tlid
    assert board.next_failing(tests[0].tlid, order) == tests[2].tlid
    assert board.next_failing(tests[2].tlid, order) == tests[0].tlid  # round again
    assert board.first_failing_reaching(f.tlid, order) == tests[0].tlid


# ------------------------------------------------------------ tests in the model


def test_a_new_test_checks_one_thing_with_holes_and_gets_a_free_name() -> None:
    state = EditorState()
    out = canvas_actions.create_toplevel(state, "test", Pos(10, 10))
    assert not out.refused
    (t,) = out.state.canvas.values()
    assert isinstance(t, toplevels.Test) and t.name == "new test"
    assert isinstance(t.body, ECall) and t.body.fn.qualified == "Test::expect_v0"
    assert all(isinstance(a, EHole) for a in t.body.args) and len(t.body.args) == 2
    # The caret is in the first hole: the actual value is typed first.
    assert out.state.caret is not None and out.state.caret.node_id == t.body.args[0].id
    again = canvas_actions.create_toplevel(out.state, "test", Pos(10, 200))
    names = sorted(tl.name for tl in again.state.canvas.values() if isinstance(tl, toplevels.Test))
    assert names == ["new test", "new test2"]
    assert canvas_actions.toplevel_label(t) == "test new test"


def test_a_test_is_renamed_to_a_phrase_and_a_bad_name_is_refused_with_why() -> None:
    out = canvas_actions.create_toplevel(EditorState(), "test", Pos(10, 10))
    (t,) = out.state.canvas.values()
    renamed = canvas_actions.rename_toplevel(out.state, t.tlid, "total of an empty cart is 0")
    assert not renamed.refused
    assert renamed.state.canvas[t.tlid].name == "total of an empty cart is 0"  # type: ignore[union-attr]
    refused = canvas_actions.rename_toplevel(renamed.state, t.tlid, "two\nlines")
    assert refused.refused and "one line" in refused.message
    assert refused.state.canvas[t.tlid].name == "total of an empty cart is 0"  # type: ignore[union-attr]


def _labels(tl: Toplevel, hole: Any, canvas: list[Toplevel]) -> list[str]:
    program = Program.from_toplevels(canvas)
    return [c.label for c in completion.completions(program, tl, hole.id, "Test::",
                                                    limit=100, canvas=canvas)]


def test_test_functions_complete_in_tests_and_nowhere_else() -> None:
    hole_in_test = b.hole()
    t = b.test("t", hole_in_test)
    hole_in_fn = b.hole()
    fn = b.function("f", [("n", INT)], INT, hole_in_fn)
    canvas: list[Toplevel] = [t, fn]
    in_test = _labels(t, hole_in_test, canvas)
    assert "Test::expect" in in_test and "Test::http" in in_test
    assert not any(label.startswith("Test::") for label in _labels(fn, hole_in_fn, canvas))


def test_a_tests_body_is_laid_out_and_checked_like_a_functions() -> None:
    from editor.model import checking
    from editor.projection import Projection

    f = _fn("total", 1)
    t = b.test("adds one", b.expect(b.user_call(f, 2), EInt(0, 3)))
    proj = Projection.of_toplevel(t, {f.fn_id: "total"})
    assert proj is not None and [ln.text for ln in proj.lines] == ["Test::expect (total 2) 3"]
    infos = checking.recheck({}, _canvas(f, t), {})
    assert t.tlid in infos


# ------------------------------------------------------------ the test process


def _statuses(report: RunReport | PackedReport | None) -> dict[int, str]:
    assert report is not None
    if isinstance(report, PackedReport):  # the process's reports come still pickled
        report = report.unpack()
    return {r.tlid: r.status for r in report.results}


def test_the_test_process_keeps_its_canvas_in_step_and_answers_as_the_thread_would() -> None:
    f = _fn("f", 1)
    t1 = b.test("adds one", b.expect(b.user_call(f, 1), 2))
    t2 = b.test("adds two", b.expect(b.user_call(f, 1), 3))
    process = ProcessRun()
    try:
        first = RunRequest(1, _canvas(f, t1, t2), everything=True)
        assert _statuses(process(first, lambda: False)) == _statuses(run_request(first))
        pid = process._proc.pid  # type: ignore[union-attr]
        # Only the edited function travels; the child applies it to its copy.
        edited = RunRequest(2, _canvas(_with_plus(f, 2), t1, t2), frozenset({f.tlid}))
        got = _statuses(process(edited, lambda: False))
        assert got == {t1.tlid: FAILED, t2.tlid: PASSED} == _statuses(run_request(edited))
        # A removed test is gone from the child's canvas too.
        removed = RunRequest(3, _canvas(_with_plus(f, 2), t1), everything=True)
        assert _statuses(process(removed, lambda: False)) == {t1.tlid: FAILED}
        assert process._proc is not None and process._proc.pid == pid  # one child throughout
        # Live values of a failing run cross the pipe.
        packed = process(RunRequest(4, _canvas(f, t2), everything=True), lambda: False)
        assert isinstance(packed, PackedReport)
        (run,) = packed.unpack().results[0].runs
        assert run.live is not None and run.live.get(t2.body.args[0].id).value == 2  # type: ignore[attr-defined]
    finally:
        process.stop()
    assert process._proc is None


def test_a_superseded_run_in_the_test_process_is_aborted_between_tests() -> None:
    slow = [b.test(f"slow {i}", b.expect(b.call("List::length_v0", b.call(
        "List::range_v0", 1, 20_000)), 20_000)) for i in range(300)]
    process = ProcessRun()
    try:
        request = RunRequest(1, _canvas(*slow), everything=True)
        assert process(request, lambda: True) is None
        # The child goes on with the next request.
        one = RunRequest(2, _canvas(slow[0]), everything=True)
        assert _statuses(process(one, lambda: False)) == {slow[0].tlid: PASSED}
    finally:
        process.stop()


def test_a_killed_test_process_is_replaced_and_nothing_is_lost() -> None:
    import os
    import signal

    f = _fn("f", 1)
    t = b.test("adds one", b.expect(b.user_call(f, 1), 2))
    process = ProcessRun()
    try:
        assert _statuses(process(RunRequest(1, _canvas(f, t), everything=True),
                                 lambda: False)) == {t.tlid: PASSED}
        first = process._proc
        assert first is not None
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        edited = RunRequest(2, _canvas(_with_plus(f, 3), t), frozenset({f.tlid}))
        assert _statuses(process(edited, lambda: False)) == {t.tlid: FAILED}
        again = RunRequest(3, _canvas(_with_plus(f, 1), t), frozenset({f.tlid}))
        assert _statuses(process(again, lambda: False)) == {t.tlid: PASSED}
        assert process._proc is not None and process._proc.pid != first.pid
    finally:
        process.stop()


def test_no_process_starts_until_the_canvas_has_a_test() -> None:
    f = _fn("f", 1)
    process = ProcessRun()
    try:
        report = process(RunRequest(1, _canvas(f), everything=True), lambda: False)
        assert isinstance(report, RunReport) and report.results == ()
        assert process._proc is None
        t = b.test("adds one", b.expect(b.user_call(f, 1), 2))
        report = process(RunRequest(2, _canvas(f, t), frozenset({t.tlid})), lambda: False)
        assert _statuses(report) == {t.tlid: PASSED} and process._proc is not None
    finally:
        process.stop()


def test_nothing_is_in_scope_at_a_tests_top_but_its_own_lets() -> None:
    from editor.model.scope import variables_in_scope

    store = b.datastore("Notes", INT)
    hole = b.hole()
    t = b.test("t", b.let("x", 1, hole))
    program = Program.from_toplevels([store, t])
    assert set(variables_in_scope(program, t, hole.id)) == {"x"}
    fn_hole = b.hole()
    fn = b.function("f", [("n", INT)], INT, fn_hole)
    in_fn = set(variables_in_scope(Program.from_toplevels([store, fn]), fn, fn_hole.id))
    assert in_fn == {"n", "Notes_v0"}  # elsewhere datastores are in scope


@settings(max_examples=30)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=6), st.randoms())
def test_reports_arriving_in_any_order_leave_each_test_at_its_newest_result(
        pluses: list[int], rnd: Any) -> None:
    """Whatever order the reports of a burst of edits arrive in, each test shows the result
    of the newest run that ran it, never an older one."""
    f = _fn("f", 1)
    t1 = b.test("adds one", b.expect(b.user_call(f, 1), 2))
    t2 = b.test("adds two", b.expect(b.user_call(f, 1), 3))
    board = TestBoard()
    reports = []
    for plus in [1, *pluses]:
        request = board.request(_canvas(_with_plus(f, plus), t1, t2))
        assert request is not None
        report = run_request(request)
        assert report is not None
        reports.append(report)
    newest = {r.tlid: r for report in reports for r in report.results}  # later ones win
    rnd.shuffle(reports)
    for report in reports:
        board.accept(report)
    assert {t: r.status for t, r in board.results.items()} == {
        t: r.status for t, r in newest.items()}
    assert board.results[t1.tlid] == newest[t1.tlid]
