"""Tests that run by themselves: which tests an edit affects, running them off the UI
thread, and what the editor shows of their results (no Qt here).

After each change of the canvas (an edit here, another editor's, a reload), the
window hands the new canvas to `TestBoard.request`, which compares it with the
last one by identity (toplevels are immutable: a changed one is a new object)
and makes a `RunRequest`: the canvas as it is now (a snapshot: nothing changes
it after) and the toplevels that changed. The first canvas runs every test.

`TestWorker` runs requests in a thread of its own (`run_request`: the tests
whose reach includes a changed toplevel, `shared_ast.testing.Suite`, each in
every state of the flags on its path). A newer request supersedes an older
one: a request waiting is merged into the newest, and a run under way stops at
its next test when a newer request arrives, its results dropped, what it was to
run added to the newer one. So results always come from the newest canvas the
worker has seen, and `TestBoard.accept` keeps, per test, only results at least
as new as those it shows.

What is shown: on a test's frame its status (`status_text`); on every frame
its tests reach, how many pass and fail (`count_text`, "tests 4 ✓ 1 ✗"); for
a failing test, where it fails (`failure_point`: the failing check, with the
live values of that run).
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Iterable, Mapping

import attrs

from editor.model.state import Caret, EditorState, Outcome, refuse
from shared_ast import traverse
from shared_ast.live import LiveValues
from shared_ast.nodes import ECall, Node, NodeId
from shared_ast.testing import ERROR, FAILED, INCOMPLETE, PASSED, StateRun, Suite, TestResult
from shared_ast.toplevels import Test, Toplevel
from shared_ast.values import ErrorValue

__all__ = [
    "FailurePoint",
    "PackedReport",
    "RunReport",
    "RunRequest",
    "TestBoard",
    "TestWorker",
    "at_failure",
    "count_text",
    "edited",
    "run_request",
    "status_text",
]

#: How each status is marked in counts and on a test's frame.
MARKS = {PASSED: "✓", FAILED: "✗", ERROR: "✗", INCOMPLETE: "…"}


def edited(before: Mapping[int, Toplevel],
           after: Mapping[int, Toplevel]) -> tuple[frozenset[int], frozenset[int]]:
    """The toplevels changed or added in `after`, and those removed from `before`."""
    changed = frozenset(t for t, tl in after.items() if before.get(t) is not tl)
    return changed, frozenset(set(before) - set(after))


@attrs.frozen
class RunRequest:
    """Run the tests reaching `changed` (or every test) on `canvas`, plus `tests` by tlid."""

    generation: int
    canvas: Mapping[int, Toplevel]
    changed: frozenset[int] = frozenset()
    tests: frozenset[int] = frozenset()
    everything: bool = False

    def merged_into(self, newer: RunRequest) -> RunRequest:
        """`newer`, also running what this older request was to run (on `newer`'s canvas)."""
        return attrs.evolve(newer, changed=self.changed | newer.changed,
                            tests=self.tests | newer.tests,
                            everything=self.everything or newer.everything)


@attrs.frozen
class RunReport:
    """What one request's run found: a result per test run, and the canvas's tests."""

    generation: int
    results: tuple[TestResult, ...]
    #: Every test on the request's canvas.
    tests: frozenset[int]
    #: Set when the run itself broke (a bug, not a failing test): what happened.
    error: str = ""


@attrs.frozen
class PackedReport:
    """A `RunReport` still pickled, as the test process sent it: unpickled by whoever shows
    it (the UI thread, once editing pauses), so the worker thread never holds the
    interpreter's lock for long while keys are being typed."""

    generation: int
    data: bytes = attrs.field(repr=False)

    def unpack(self) -> RunReport:
        report = pickle.loads(self.data)
        if not isinstance(report, RunReport):
            raise TypeError(f"the test process sent a {type(report).__name__}, not a report")
        return report


def chosen_tests(suite: Suite, request: RunRequest) -> list[Test]:
    if request.everything:
        return list(suite.tests.values())
    return [t for t in suite.tests.values()
            if t.tlid in request.tests or suite.reached(t) & request.changed]


def run_request(request: RunRequest,
                superseded: Callable[[], bool] = lambda: False) -> RunReport | None:
    """Run the request's tests; None when `superseded()` said to stop before the end."""
    suite = Suite(request.canvas)
    results = []
    for test in chosen_tests(suite, request):
        if superseded():
            return None
        results.append(suite.run(test))
    return RunReport(request.generation, tuple(results), frozenset(suite.tests))


class TestWorker:
    """Runs `RunRequest`s one at a time in a daemon thread; `done(report)` is called in
    that thread with each finished run (wrap it to get back to the UI thread)."""

    __test__ = False  # not a pytest class

    def __init__(self, done: Callable[[RunReport | PackedReport], None],
                 run: Callable[[RunRequest, Callable[[], bool]],
                               RunReport | PackedReport | None]
                 = run_request) -> None:
        self._done = done
        self._run = run
        self._cond = threading.Condition()
        self._waiting: RunRequest | None = None
        self._stopped = False
        #: Whether a request is being run (for tests and benchmarks: `idle()`).
        self._busy = False
        self._thread = threading.Thread(target=self._loop, name="gloam-tests", daemon=True)
        self._thread.start()

    def submit(self, request: RunRequest) -> None:
        with self._cond:
            if self._waiting is not None:
                request = self._waiting.merged_into(request)
            self._waiting = request
            self._cond.notify_all()

    def idle(self) -> bool:
        with self._cond:
            return self._waiting is None and not self._busy

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopped = True
            self._waiting = None
            self._cond.notify_all()
        self._thread.join(timeout)

    def _superseded(self) -> bool:
        return self._waiting is not None or self._stopped

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._waiting is None and not self._stopped:
                    self._cond.wait()
                request = self._waiting
                if self._stopped or request is None:
                    return
                self._waiting = None
                self._busy = True
            try:
                report = self._run(request, self._superseded)
            except Exception as e:  # a bug in a run must not end the thread: say it
                report = RunReport(request.generation, (), frozenset(), error=(
                    f"Running the tests failed ({type(e).__name__}: {e}); the results shown "
                    "may be old. Edit again to retry, and report this."))
            with self._cond:
                self._busy = False
                if report is None:
                    # A newer request came: it runs what this one had not finished too.
                    if self._waiting is not None:
                        self._waiting = request.merged_into(self._waiting)
                    continue
            self._done(report)



@attrs.frozen
class FailurePoint:
    """Where a failing test fails: the node to put the caret on, the check to select,
    the live values of the failing run, and a line saying what went wrong."""

    tlid: int
    caret_node: NodeId | None
    check_node: NodeId | None
    live: LiveValues | None
    message: str


def _error_origin(test: Test, live: LiveValues | None) -> NodeId | None:
    """The innermost node of the test whose live value is an error (where it arose)."""
    if live is None:
        return None
    found: NodeId | None = None
    for node in traverse.walk(test.body):
        entry = live.get(node.id) if isinstance(node, Node) else None
        if entry is not None and isinstance(entry.value, ErrorValue):
            found = node.id  # pre-order: a later one inside is deeper
    return found


class TestBoard:
    """The results the editor shows, newest per test, and the requests that refresh them."""

    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        self.results: dict[int, TestResult] = {}
        #: Per test, the generation of the request its shown result came from.
        self.shown_from: dict[int, int] = {}
        self.generation = 0
        self._canvas: Mapping[int, Toplevel] | None = None

    def request(self, canvas: Mapping[int, Toplevel]) -> RunRequest | None:
        """The run a new canvas needs, or None when no toplevel changed."""
        before = self._canvas
        if before is canvas:
            return None
        self._canvas = canvas
        if before is None:
            self.generation += 1
            return RunRequest(self.generation, canvas, everything=True)
        changed, removed = edited(before, canvas)
        if not changed and not removed:
            return None
        # Tests that reached a removed toplevel run again (their reach no longer shows it).
        tests = frozenset(t for t, r in self.results.items() if r.reached & removed
                          and t in canvas)
        for t in removed:
            self.results.pop(t, None)
        self.generation += 1
        return RunRequest(self.generation, canvas, changed | removed, tests)

    def accept(self, report: RunReport) -> bool:
        """Take a run's results, each unless a newer one is already shown; whether any
        shown result changed."""
        moved = False
        for result in report.results:
            if self.shown_from.get(result.tlid, -1) > report.generation:
                continue
            if self._canvas is not None and result.tlid not in self._canvas:
                continue
            self.shown_from[result.tlid] = report.generation
            moved = moved or self.results.get(result.tlid) != result
            self.results[result.tlid] = result
        return moved

    # ------------------------------------------------------------- reading

    def reaching(self, tlid: int) -> list[TestResult]:
        """The results of the tests that reach toplevel `tlid` (not counting a test itself)."""
        return [r for t, r in self.results.items() if t != tlid and tlid in r.reached]

    def counts(self, tlid: int) -> dict[str, int]:
        """How many tests reaching `tlid` pass, fail (a failed check or an error), or are
        incomplete."""
        out = {"passed": 0, "failing": 0, "incomplete": 0}
        for r in self.reaching(tlid):
            out["passed" if r.passed else "failing" if r.failing else "incomplete"] += 1
        return out

    def failing(self, order: Iterable[int]) -> list[int]:
        """The failing tests, in `order` (tlids, e.g. the canvas's reading order)."""
        return [t for t in order if t in self.results and self.results[t].failing]

    def first_failing_reaching(self, tlid: int, order: Iterable[int]) -> int | None:
        """The test a click on `tlid`'s count goes to: the first failing test reaching it
        (the test itself, for a test), else the first reaching test."""
        mine = {r.tlid for r in self.reaching(tlid)} | ({tlid} if tlid in self.results else set())
        ordered = [t for t in order if t in mine]
        return next((t for t in ordered if self.results[t].failing),
                    ordered[0] if ordered else None)

    def next_failing(self, after: int | None, order: list[int]) -> int | None:
        """The failing test after toplevel `after` in `order`, wrapping round."""
        failing = self.failing(order)
        if not failing:
            return None
        if after is None or after not in order:
            return failing[0]
        here = order.index(after)
        return next((t for t in failing if order.index(t) > here), failing[0])

    def failing_run(self, tlid: int) -> StateRun | None:
        result = self.results.get(tlid)
        if result is None:
            return None
        runs = result.failing_runs or tuple(r for r in result.runs if r.status != PASSED)
        return runs[0] if runs else None

    def failure_point(self, test: Test) -> FailurePoint | None:
        """Where `test` fails: its failing check (the caret on the actual value) or the
        node where its error arose, with that run's live values."""
        run = self.failing_run(test.tlid)
        result = self.results.get(test.tlid)
        if run is None or result is None:
            return None
        check = run.failed_check
        check_node = check.node_id if check is not None else None
        caret_node = check_node
        if check_node is not None:
            call = traverse.find(test, check_node)
            if isinstance(call, ECall) and call.args:
                caret_node = call.args[0].id
        else:
            caret_node = _error_origin(test, run.live)
        return FailurePoint(test.tlid, caret_node, check_node, run.live,
                            status_text(result))


def status_text(result: TestResult) -> str:
    """What a test's frame says: "✓ passed in 2 flag states", "✗ failed with flag double
    new: expected 4, got 3"."""
    summary = result.summary()
    said = summary[len(result.name) + 2:] if summary.startswith(f"{result.name}: ") \
        else summary
    return f"{MARKS.get(result.status, '?')} {said}"


def count_text(counts: Mapping[str, int]) -> str:
    """ "tests 4 ✓ 1 ✗" (and "2 …" for incomplete ones); "" without tests."""
    if not any(counts.values()):
        return ""
    parts = [f"{counts['passed']} ✓"]
    if counts["failing"]:
        parts.append(f"{counts['failing']} ✗")
    if counts["incomplete"]:
        parts.append(f"{counts['incomplete']} …")
    return "tests " + " ".join(parts)


def at_failure(state: EditorState, point: FailurePoint) -> Outcome:
    """The caret on where a test fails (its failing check's actual value), or at the
    test's start when no node is known."""
    tl = state.canvas.get(point.tlid)
    proj = state.projection(point.tlid)
    if tl is None or proj is None:
        return refuse(state, "That test is gone.")
    own = proj.own_tokens(point.caret_node) if point.caret_node is not None else []
    first = own[0] if own else proj.placed[0]
    caret = Caret(point.tlid, first.token.node_id, first.own_offset)
    return Outcome(attrs.evolve(state, caret=caret, selection=None), message=(
        f"Test {getattr(tl, 'name', '')!r}: {point.message[2:]} (the live values are that "
        "run's; Ctrl+F8 goes to the next failing test)"))
