"""Running tests: each test once per state of the feature flags on its path.

A test (`toplevels.Test`) is a body of checks, `Test::expect actual expected`.
`Suite` holds one version of a canvas: its tests, what each test reaches (the
same reach as locking, `shared_ast.reach`) and the flags on that path.
`Suite.run(test)` runs the test in every flag state (`flag_states`): with up to
`MAX_EXHAUSTIVE_FLAGS` flags on its path, every combination of each flag's old
and new branch; with more, a set of states in which every pair of flags takes
every pair of branches at least once (and the states "all old" and "all new").

A run never touches the world: impure library calls (datastores, queues,
random numbers, the clock) are refused with an error value, unless the test's
`recording` replays them (a test made from a trace). Each run is within the run
limits (`TEST_BUDGET`), so a runaway test ends with an error instead of hanging.

What a run reports (`StateRun`): its checks (actual, expected, passed), its
status (`PASSED`, `FAILED`, `ERROR`, `INCOMPLETE`), a sentence saying what went
wrong, and, for the first run that fails (and the first unfinished one), the
live values of the test's nodes (what the editor shows at the failing check).
`TestResult` gathers the runs of one test; its status is its worst run's, and
`failing_runs` are the flag states that fail.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from math import comb
from typing import Any

import attrs

from shared_ast import traverse
from shared_ast.eval_context import Budget, ImpureLog, LiveValues
from shared_ast.evaluator import evaluate
from shared_ast.nodes import EFlag, NodeId
from shared_ast.program import Program
from shared_ast.reach import Reach
from shared_ast.toplevels import CronSpec, Handler, Test, Toplevel, WorkerSpec
from shared_ast.values import ErrorRail, ErrorValue, Incomplete, show

__all__ = [
    "ERROR",
    "FAILED",
    "INCOMPLETE",
    "MAX_EXHAUSTIVE_FLAGS",
    "PASSED",
    "REFUSED_IMPURE",
    "STATUS_ORDER",
    "Check",
    "FlagOnPath",
    "StateRun",
    "Suite",
    "TestHost",
    "TestResult",
    "flag_states",
    "test_budget",
]

PASSED = "passed"
#: A check failed.
FAILED = "failed"
#: The test stopped with an error (not a failed check): an error value, a limit.
ERROR = "error"
#: The test has holes, or checks nothing yet.
INCOMPLETE = "incomplete"
#: Worst last: a test's status is its worst run's.
STATUS_ORDER = (PASSED, INCOMPLETE, FAILED, ERROR)

#: Up to this many flags on a test's path, it runs in every combination of branches.
MAX_EXHAUSTIVE_FLAGS = 6

#: Why an impure call in a test gives an error (after "DB::set_v1 is impure: ").
REFUSED_IMPURE = ("a test never touches the world (datastores, queues, random numbers, the "
                  "clock); test the function that computes the value, or make the test from "
                  "a trace, which replays the calls its request made")


def test_budget() -> Budget:
    """The limits of one run of a test: the run limits, and two seconds."""
    return Budget(time_limit=2.0)


# ------------------------------------------------------------------ flag states


def flag_states(n: int) -> list[tuple[bool, ...]]:
    """States of `n` flags (True = the new branch) to run a test in.

    Every combination when n <= MAX_EXHAUSTIVE_FLAGS. Above, a pairwise covering
    set (Kleitman and Spencer's construction): row 0 is all old; each flag's column
    is a distinct vector of weight ceil(k/2) over the other k - 1 rows, so any two
    columns differ both ways and overlap, which covers every pair of branches of
    every pair of flags; the all-new state is added. That is 7 runs for 7 to 10
    flags, 8 for up to 15, 9 for up to 35: it grows with the logarithm of n.
    """
    if n <= MAX_EXHAUSTIVE_FLAGS:
        return [tuple(s) for s in itertools.product((False, True), repeat=n)]
    k = 2
    while comb(k - 1, (k + 1) // 2) < n:
        k += 1
    columns = list(itertools.islice(itertools.combinations(range(1, k), (k + 1) // 2), n))
    rows = [tuple(r in col for col in columns) for r in range(k)]
    every_new = (True,) * n
    if every_new not in rows:
        rows.append(every_new)
    return rows


# ------------------------------------------------------------------ results


@attrs.frozen
class FlagOnPath:
    """A feature flag in the code a test reaches."""

    flag_id: NodeId
    name: str
    #: The toplevel the flag is in.
    tlid: int


@attrs.frozen
class Check:
    """One `Test::expect`: the call node, the two values, and whether they were equal."""

    node_id: NodeId | None
    actual: Any
    expected: Any
    passed: bool

    def describe(self) -> str:
        if self.passed:
            return f"passed: {show(self.actual, 200)}"
        return f"expected {show(self.expected, 200)}, got {show(self.actual, 200)}"


@attrs.frozen
class StateRun:
    """One run of a test in one state of its flags."""

    #: (flag, took its new branch) for each flag on the path, in `TestResult.flags` order.
    state: tuple[tuple[FlagOnPath, bool], ...]
    status: str
    checks: tuple[Check, ...]
    #: What went wrong, in a sentence ("" when it passed).
    message: str
    value: Any = attrs.field(eq=False)
    #: The test's live values, kept for the first failing run of a test (and its first
    #: incomplete run); None for the others.
    live: LiveValues | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def failed_check(self) -> Check | None:
        return next((c for c in self.checks if not c.passed), None)

    def describe_state(self) -> str:
        """"flag newTotal new, flag fastPath old"; "" without flags."""
        return ", ".join(f"flag {f.name} {'new' if new else 'old'}" for f, new in self.state)


@attrs.frozen
class TestResult:
    tlid: int
    name: str
    flags: tuple[FlagOnPath, ...]
    runs: tuple[StateRun, ...]
    #: The toplevels the test reaches (itself included).
    reached: frozenset[int]

    @property
    def status(self) -> str:
        return max((r.status for r in self.runs), key=STATUS_ORDER.index, default=INCOMPLETE)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def failing(self) -> bool:
        return self.status in (FAILED, ERROR)

    @property
    def failing_runs(self) -> tuple[StateRun, ...]:
        return tuple(r for r in self.runs if r.status in (FAILED, ERROR))

    def summary(self) -> str:
        """One line: the status, and for a failure the first failing run's state and reason."""
        runs = self.failing_runs or tuple(r for r in self.runs if r.status != PASSED)
        if not runs:
            states = f" in {len(self.runs)} flag states" if self.flags else ""
            return f"{self.name}: passed{states}"
        first = runs[0]
        where = f" with {first.describe_state()}" if first.state else ""
        also = f" (and {len(runs) - 1} more flag state(s))" if len(runs) > 1 else ""
        return f"{self.name}: {first.status}{where}: {first.message}{also}"


# ------------------------------------------------------------------ the host


class TestHost:
    """What a test's run lends library functions: its checks, the forced flag branches,
    and the handlers `Test::http`, `Test::event` and `Test::cron` run. No datastores or
    queues: impure calls never reach a host (the test's impure log refuses them)."""

    from_editor = False

    def __init__(self, reach: Reach, forced: Mapping[NodeId, bool]) -> None:
        self.reach = reach
        self.forced = forced
        self.checks: list[Check] = []

    def test_check(self, node_id: NodeId | None, actual: Any, expected: Any,
                   passed: bool) -> None:
        self.checks.append(Check(node_id, actual, expected, passed))

    def flag_forced(self, flag_id: NodeId) -> bool | None:
        return self.forced.get(flag_id)

    def test_http(self, method: str, path: str,
                  request: Any) -> tuple[Handler, dict[str, Any]] | str:
        # A query string is the request's business (its `query`), not the route's.
        found = self.reach.routes.match(method.upper(), path.split("?", 1)[0])
        if found is None:
            return (f"no HTTP handler answers {method.upper()} {path}: check the method and "
                    "path, or make the handler")
        handler, params = found
        return handler, {"request": request, **params}

    def test_event(self, queue: str, event: Any) -> tuple[Handler, dict[str, Any]] | str:
        for h in self.reach.handlers:
            if isinstance(h.spec, WorkerSpec) and h.spec.queue == queue:
                return h, {"event": event}
        return f"no worker reads the queue {queue!r}: check its name, or make the worker"

    def test_cron(self, name: str) -> tuple[Handler, dict[str, Any]] | str:
        for h in self.reach.handlers:
            if isinstance(h.spec, CronSpec) and h.spec.name == name:
                return h, {}
        return f"no cron is named {name!r}: check its name, or make the cron"


# ------------------------------------------------------------------ the suite


class Suite:
    """The tests of one version of a canvas, and what each reaches."""

    def __init__(self, toplevels: Mapping[int, Toplevel] | Iterable[Toplevel]) -> None:
        tls = list(toplevels.values() if isinstance(toplevels, Mapping) else toplevels)
        self.reach = Reach(tls)
        self.program = Program.from_toplevels(tls)
        self.tests: dict[int, Test] = {tl.tlid: tl for tl in tls if isinstance(tl, Test)}
        self._reached: dict[int, frozenset[int]] = {}
        self._flags: dict[int, tuple[FlagOnPath, ...]] = {}

    def reached(self, test: Test) -> frozenset[int]:
        found = self._reached.get(test.tlid)
        if found is None:
            found = self._reached[test.tlid] = frozenset(self.reach.reached(test))
        return found

    def tests_reaching(self, tlid: int) -> list[Test]:
        """The tests whose code reaches toplevel `tlid` (a test reaches itself)."""
        return [t for t in self.tests.values() if tlid in self.reached(t)]

    def flags_on_path(self, test: Test) -> tuple[FlagOnPath, ...]:
        found = self._flags.get(test.tlid)
        if found is None:
            flags: list[FlagOnPath] = []
            # The test's own flags first, then those of what it reaches (by tlid).
            for tlid in [test.tlid, *sorted(self.reached(test) - {test.tlid})]:
                tl = test if tlid == test.tlid else self.reach.toplevels[tlid]
                flags.extend(FlagOnPath(node.id, node.name, tlid)
                             for node in traverse.walk(tl) if isinstance(node, EFlag))
            found = self._flags[test.tlid] = tuple(flags)
        return found

    def run(self, test: Test, *, budget: Callable[[], Budget] = test_budget,
            keep_live: bool = True) -> TestResult:
        """Run `test` in every state of the flags on its path. With `keep_live`, the first
        failing run (and the first incomplete one) is run again recording the test's live
        values: what the editor shows; not every state's, which for a test failing in 64
        states would keep 64 sets of live values (and take twice as long)."""
        flags = self.flags_on_path(test)
        runs = []
        kept: set[bool] = set()  # whether a failing / an incomplete run has its live values
        for states in flag_states(len(flags)):
            state = tuple(zip(flags, states, strict=True))
            run = self.run_state(test, state, budget(), live=None)
            failing = run.status in (FAILED, ERROR)
            if keep_live and run.status != PASSED and failing not in kept:
                kept.add(failing)
                run = self.run_state(test, state, budget(), live=LiveValues())
            runs.append(run)
        return TestResult(test.tlid, test.name, flags, tuple(runs), self.reached(test))

    def run_all(self, tests: Sequence[Test] | None = None, **kw: Any) -> list[TestResult]:
        chosen = list(self.tests.values()) if tests is None else list(tests)
        return [self.run(t, **kw) for t in chosen]

    def run_state(self, test: Test, state: tuple[tuple[FlagOnPath, bool], ...],
                  budget: Budget, live: LiveValues | None) -> StateRun:
        host = TestHost(self.reach, {f.flag_id: new for f, new in state})
        impure = ImpureLog(test.recording, refuse_unrecorded=REFUSED_IMPURE)
        value = evaluate(test.body, {}, self.program, live=live, budget=budget,
                         language_version=test.language_version, impure=impure, host=host)
        checks = tuple(host.checks)
        status, message = _judge(value, checks)
        return StateRun(state, status, checks, message, value, live)


def _judge(value: Any, checks: tuple[Check, ...]) -> tuple[str, str]:
    failed = next((c for c in checks if not c.passed), None)
    if failed is not None:
        return FAILED, failed.describe()
    if isinstance(value, ErrorValue):
        return ERROR, value.message
    if isinstance(value, ErrorRail):
        return ERROR, f"the test went off the error rail with {show(value.value, 200)}"
    if isinstance(value, Incomplete):
        return INCOMPLETE, "the test has holes: fill them to run it"
    if not checks:
        return INCOMPLETE, "the test checks nothing yet: add Test::expect actual expected"
    return PASSED, ""
