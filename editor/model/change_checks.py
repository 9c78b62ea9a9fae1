"""Checking a change before it goes live: the tests and stored requests it affects.

Committing a feature flag, moving a call to a newer function or datastore
version, and moving code to a newer language version change what code in use
does. Before such a command's ops are sent, the editor works out the candidate
canvas (the command run on a copy: `plan`), runs every test that reaches a
toplevel the command changes on that candidate (`run_tests`, pure Python, meant
for a worker thread), and asks the runtime to replay the stored requests of
every handler that reaches one (`replay_messages`, the `replay` message with
the other changed toplevels in `changed`). `ChangeReport` gathers both: how
many tests and replays, which fail or answer differently and why, and whether
to ask before going on (`needs_asking`: any test fails, any replayed request
answers differently, or the tests could not run). No Qt here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from editor.model import actions, refactor_commands
from editor.model.canvas_actions import toplevel_label
from editor.model.state import EditorState, Outcome
from shared_ast import wire
from shared_ast.nodes import EFlag, NodeId
from shared_ast.ops import ReplaceNode
from shared_ast.testing import INCOMPLETE, PASSED, Suite, TestResult
from shared_ast.toplevels import Handler, ReplSpec, Test, Toplevel

#: The commands checked before their ops are sent.
GUARDED = ("commit-flag", "use-newest-version", "use-newest-datastore-version",
           "upgrade-language", "upgrade-call")


def label(tl: Toplevel) -> str:
    """A toplevel's name in a report; a test by its name."""
    return f"test {tl.name!r}" if isinstance(tl, Test) else toplevel_label(tl)


@attrs.frozen(eq=False)
class Change:
    """A guarded command run on a copy of the canvas, not sent yet."""

    command: str
    #: What the change is, for sentences: "committing flag 'double' (its new branch)".
    what: str
    #: The state the command ran on, and what it gives (its ops not sent).
    before: EditorState
    outcome: Outcome
    #: The toplevels whose code the command changes (tlids), in canvas order.
    changed: tuple[int, ...]
    #: The tests that reach a changed toplevel on the candidate canvas.
    tests: tuple[Test, ...]
    #: The handlers (candidate versions) that reach a changed toplevel, and have traffic.
    handlers: tuple[Handler, ...]
    #: Every toplevel the checks depend on: the changed ones and what the affected tests
    #: and handlers reach. While these stay as they were, the check still holds.
    watched: frozenset[int] = frozenset()
    #: For a flag committed: "flag double new", the state every test now runs in.
    forced: str = ""
    #: For a flag committed: its node id (a test that failed before only with this flag's
    #: new branch is broken by this change, not already failing).
    forced_flag: NodeId | None = None

    @property
    def candidate(self) -> Mapping[int, Toplevel]:
        return self.outcome.state.canvas

    def describe_work(self, replaying: bool) -> str:
        parts = [f"running {len(self.tests)} test(s)"] if self.tests else []
        if self.handlers and replaying:
            parts.append(f"replaying the stored requests of {len(self.handlers)} handler(s)")
        return " and ".join(parts)


def stale_for(change: Change, canvas: Mapping[int, Toplevel]) -> Toplevel | None:
    """A toplevel the change's checks depend on that is no longer as it was checked in
    `canvas` (an edit since, here or by another editor), or a test made or edited since
    that reaches what the change changes; None while the check holds."""
    before = change.before.canvas
    for tlid in sorted(change.watched):
        if canvas.get(tlid) is not before.get(tlid):
            return before.get(tlid) or canvas.get(tlid)
    # A test made or edited meanwhile that now reaches what the change changes: the check
    # never ran it.
    edited = [tl for tlid, tl in canvas.items()
              if isinstance(tl, Test) and before.get(tlid) is not tl]
    if edited:
        reach = Suite(canvas).reach
        changed = set(change.changed)
        return next((t for t in edited if reach.reached(t) & changed), None)
    return None


def run_command(state: EditorState, name: str, argument: str | None = None) -> Outcome:
    """The command on `state`, as the controller would run it (nothing is sent)."""
    if name in refactor_commands.REFACTORINGS:
        return refactor_commands.run(state, name, argument)
    return actions.perform(state, name, argument)


def plan(state: EditorState, name: str, argument: str | None = None) -> Change | Outcome:
    """The change `name` would make, with what it affects; the plain `Outcome` when there
    is nothing to check (a refusal, or no code changed)."""
    out = run_command(state, name, argument)
    if out.refused or not out.ops:
        return out
    before, after = state.canvas, out.state.canvas
    changed = tuple(t for t in after if before.get(t) != after[t])
    if not changed:
        return out
    suite = Suite(after)
    tests: dict[int, Test] = {}
    for tlid in changed:
        for test in suite.tests_reaching(tlid):
            tests.setdefault(test.tlid, test)
    handlers = tuple(h for h in after.values()
                     if isinstance(h, Handler) and not isinstance(h.spec, ReplSpec)
                     and h.tlid in before and suite.reach.reached(h) & set(changed))
    watched = frozenset(changed).union(*(suite.reached(t) for t in tests.values()),
                                       *(suite.reach.reached(h) for h in handlers))
    flag = next((op.old for op in out.ops if isinstance(op, ReplaceNode)
                 and isinstance(op.old, EFlag)), None) if name == "commit-flag" else None
    if flag is not None:
        return Change(name, f"committing flag {flag.name!r} (its new branch, for good)", state,
                      out, changed, tuple(tests.values()), handlers, watched,
                      f"flag {flag.name} new", flag.id)
    return Change(name, _describe(name, out, after), state, out, changed,
                  tuple(tests.values()), handlers, watched)


def _describe(name: str, out: Outcome, after: Mapping[int, Toplevel]) -> str:
    title = (refactor_commands.REFACTORINGS[name][0] if name in refactor_commands.REFACTORINGS
             else actions.COMMANDS[name].title)
    tlids = sorted({op.tlid for op in out.ops if hasattr(op, "tlid") and op.tlid in after})
    where = ", ".join(label(after[t]) for t in tlids)
    return f"{title[:1].lower()}{title[1:]}" + (f" in {where}" if where else "")


# ------------------------------------------------------------------ running


@attrs.frozen
class TestsRun:
    """The affected tests run on the candidate canvas."""

    results: tuple[TestResult, ...]
    #: Tests that fail on the candidate and already failed before the change.
    already_failing: frozenset[int] = frozenset()
    #: Why the tests could not run ("" when they ran).
    problem: str = ""


def run_tests(change: Change) -> TestsRun:
    """Run the affected tests on the candidate (pure: meant for a worker thread). A test
    that fails is run on the canvas as it is too, to tell new failures from old ones."""
    try:
        results = tuple(Suite(change.candidate).run_all(change.tests, keep_live=False))
        failing = [r for r in results if r.failing]
        old = Suite(change.before.canvas) if failing else None
        already = frozenset(
            r.tlid for r in failing
            if old is not None and r.tlid in old.tests and _failed_without(
                old.run(old.tests[r.tlid], keep_live=False), change.forced_flag))
    except Exception as e:  # a bug in a run must not lose the change: say so and ask
        return TestsRun((), problem=f"the tests could not run ({type(e).__name__}: {e})")
    return TestsRun(results, already)


def _failed_without(result: TestResult, forced: NodeId | None) -> bool:
    """Whether `result` has a failing run other than with the `forced` flag's new branch."""
    return any(not any(f.flag_id == forced and new for f, new in run.state)
               for run in result.failing_runs)


def replay_messages(change: Change) -> list[dict[str, Any]]:
    """A `replay` message per affected handler: the candidate handler, and the other
    changed toplevels it reaches in `changed`."""
    reach = Suite(change.candidate).reach
    messages = []
    for h in change.handlers:
        others = [change.candidate[t] for t in change.changed
                  if t != h.tlid and t in reach.reached(h)]
        messages.append({"type": "replay", "tlid": h.tlid,
                         "toplevel": wire.encode_toplevel(h),
                         "changed": [wire.encode_toplevel(t) for t in others]})
    return messages


@attrs.frozen
class Replay:
    """One handler's stored requests replayed with the change."""

    tlid: int
    label: str
    replayed: int = 0
    #: The rows that answer differently (the runtime's rows: description, old, new).
    differing: tuple[dict[str, Any], ...] = ()
    #: Why the replay could not run ("" when it ran).
    problem: str = ""


def replay_from_reply(handler: Handler, reply: Mapping[str, Any]) -> Replay:
    rows = [r for r in reply.get("rows", []) if isinstance(r, dict)]
    return Replay(handler.tlid, label(handler), int(reply.get("replayed", len(rows))),
                  tuple(r for r in rows if not r.get("same", True)))


def _answer(a: Any) -> str:
    if not isinstance(a, dict):
        return repr(a)
    body = str(a.get("body", ""))
    return f"{a.get('status')} {body[:60]!r}"


# ------------------------------------------------------------------ the report


@attrs.frozen(eq=False)
class ChangeReport:
    change: Change
    tests: TestsRun
    replays: tuple[Replay, ...]
    #: Why no replay ran at all ("" when it did, or there was nothing to replay).
    replay_note: str = ""

    @property
    def failing_tests(self) -> tuple[TestResult, ...]:
        return tuple(r for r in self.tests.results if r.failing)

    @property
    def differing(self) -> tuple[Replay, ...]:
        return tuple(r for r in self.replays if r.differing)

    @property
    def needs_asking(self) -> bool:
        return bool(self.failing_tests or self.differing or self.tests.problem)

    def test_line(self, r: TestResult) -> str:
        """"test 'doubles' fails with flag double new: expected 4, got 8"."""
        run = r.failing_runs[0]
        state = ", ".join(s for s in (self.change.forced, run.describe_state()) if s)
        more = (f" (and in {len(r.failing_runs) - 1} more flag state(s))"
                if len(r.failing_runs) > 1 else "")
        old = " (it already failed before this change)" if r.tlid in self.tests.already_failing \
            else ""
        return (f"test {r.name!r} {run.status}" + (f" with {state}" if state else "")
                + f": {run.message}{more}{old}")

    def summary(self) -> str:
        """One sentence: what ran and what it found."""
        parts = []
        results = self.tests.results
        if self.tests.problem:
            parts.append(self.tests.problem[:1].upper() + self.tests.problem[1:])
        elif results:
            bad = len(self.failing_tests)
            unfinished = sum(1 for r in results if r.status == INCOMPLETE)
            passed = sum(1 for r in results if r.status == PASSED)
            text = f"{len(results)} test(s): {passed} pass"
            text += f", {bad} fail" if bad else ""
            text += f", {unfinished} incomplete" if unfinished else ""
            parts.append(text)
        else:
            parts.append("no test reaches it")
        ran = [r for r in self.replays if not r.problem]
        if ran:
            total = sum(r.replayed for r in ran)
            differ = sum(len(r.differing) for r in ran)
            parts.append(f"{total} stored request(s) replayed"
                         + (f", {differ} answer differently" if differ else ", same answers"))
        if self.replay_note:
            parts.append(self.replay_note)
        for r in self.replays:
            if r.problem:
                parts.append(f"{r.label}: the replay could not run ({r.problem})")
        return f"Checked {self.change.what}: " + "; ".join(parts) + "."

    def lines(self) -> list[str]:
        """What the dialog lists: each failing test, each request answering differently."""
        out = [self.test_line(r) for r in self.failing_tests]
        for rep in self.differing:
            for row in rep.differing[:5]:
                out.append(f"{rep.label}: {row.get('description', '?')} answers "
                           f"{_answer(row.get('old'))} now, {_answer(row.get('new'))} after")
            if len(rep.differing) > 5:
                out.append(f"{rep.label}: and {len(rep.differing) - 5} more request(s)")
        return out

    def question(self) -> str:
        """The dialog's question."""
        return (f"{self.change.what[:1].upper()}{self.change.what[1:]} would break what is "
                "listed below. Go ahead anyway, or cancel and keep the code as it is?")


def offline_note(reason: str) -> str:
    return f"the stored requests could not be replayed ({reason})"


__all__ = ["GUARDED", "Change", "ChangeReport", "Replay", "TestsRun", "label", "offline_note",
           "plan", "replay_from_reply", "replay_messages", "run_command", "run_tests",
           "stale_for"]
