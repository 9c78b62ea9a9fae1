"""Fuzzing in the editor, without Qt: what to fuzz, a fuzz job on a snapshot of the canvas,
whether its report is still current, and keeping a found failure as a test.

"Fuzz this function" (Ctrl+Alt+Z, or the palette) fuzzes the function or HTTP
handler at the caret; on idle (`IDLE_SECONDS` without an edit) the editor fuzzes
the function at the caret by itself if it has typed parameters and this version of
it has not been fuzzed yet (`idle_target`). Either way a `FuzzJob` holds the
toplevel and the `Program` as they were (immutable: a snapshot costs nothing) and
runs in a worker thread (`editor.widgets.fuzz_view.FuzzRunner`); its report is shown
only if the toplevel is still the one fuzzed (`is_current`): a newer edit makes it
stale, and it is dropped for a new fuzz rather than shown over newer code.

"Keep as test" (`keep_as_test`) makes the shown failure a `Test` toplevel,
`Test::expect (fn <the input>) <hole>`, placed below the fuzzed frame, with the
caret in its hole to type what the code should give.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from editor.model import motion
from editor.model.state import EditorState, Outcome, commit, refuse
from shared_ast import fuzz
from shared_ast.nodes import EHole
from shared_ast.ops import CreateToplevel
from shared_ast.program import Program
from shared_ast.toplevels import Handler, Pos, Toplevel, UserFunction
from shared_ast.traverse import walk
from shared_ast.type_ast import TUnknown

__all__ = [
    "COMMAND_SECONDS",
    "IDLE_SECONDS",
    "IDLE_SECONDS_BUDGET",
    "NOTHING_TO_FUZZ",
    "FuzzJob",
    "idle_target",
    "is_current",
    "job_at_caret",
    "keep_as_test",
]

#: Seconds without an edit after which the editor fuzzes the function at the caret.
IDLE_SECONDS = 3.0
#: How long a fuzz on idle may take, and one asked for with the command.
IDLE_SECONDS_BUDGET = 1.0
COMMAND_SECONDS = 3.0
IDLE_EXAMPLES = 150
COMMAND_EXAMPLES = 500

NOTHING_TO_FUZZ = ("Put the caret in a function with typed parameters (or an HTTP handler), "
                   "then Fuzz this function (Ctrl+Alt+Z).")


@attrs.frozen
class FuzzJob:
    """A fuzz to run off the UI thread: the toplevel and program as they were asked for."""

    toplevel: UserFunction | Handler
    program: Program = attrs.field(eq=False)
    time_limit: float
    max_examples: int
    seed: int = 0
    #: Whether the programmer asked (the command) or the editor did (idle).
    asked: bool = True

    def run(self, stop: Callable[[], bool] | None = None) -> fuzz.FuzzReport:
        """The fuzz itself: pure Python, for a worker thread; `stop` ends it early (a newer
        job superseded it). Raises fuzz.Unfuzzable."""
        return fuzz.fuzz_target(self.toplevel, self.program, time_limit=self.time_limit,
                                max_examples=self.max_examples, seed=self.seed, stop=stop)


def job_at_caret(state: EditorState) -> FuzzJob | str:
    """The job "Fuzz this function" runs, or why there is none and what to do."""
    tl = state.toplevel
    if tl is None:
        return NOTHING_TO_FUZZ
    program = Program.from_toplevels(state.canvas.values())
    problem = fuzz.fuzzable_problem(tl, program)
    if problem is not None:
        return f"Not fuzzed: {problem}."
    assert isinstance(tl, UserFunction | Handler)
    return FuzzJob(tl, program, COMMAND_SECONDS, COMMAND_EXAMPLES)


def idle_target(state: EditorState, fuzzed: Mapping[int, Toplevel]) -> FuzzJob | None:
    """The fuzz to run on idle: the caret's function, if every parameter has a type, its
    code has no hole, and this very version of it was not fuzzed already."""
    tl = state.toplevel
    if not isinstance(tl, UserFunction) or not tl.params or fuzzed.get(tl.tlid) == tl:
        return None
    if any(isinstance(p.type, TUnknown) for p in tl.params):
        return None
    if any(isinstance(n, EHole) for n in walk(tl.body)):
        return None  # still being written: a fuzz would only say so
    program = Program.from_toplevels(state.canvas.values())
    if fuzz.fuzzable_problem(tl, program) is not None:
        return None
    return FuzzJob(tl, program, IDLE_SECONDS_BUDGET, IDLE_EXAMPLES, asked=False)


def is_current(state: EditorState, job: FuzzJob) -> bool:
    """Whether the fuzzed toplevel is still as it was (else its report is stale)."""
    return state.canvas.get(job.toplevel.tlid) == job.toplevel


def keep_as_test(state: EditorState, report: fuzz.FuzzReport, index: int,
                 pos: Pos | None = None) -> Outcome:
    """Failure `index` of `report` as a Test toplevel below the fuzzed frame; the caret goes
    to the test's hole (what the code should give)."""
    tl = state.canvas.get(report.tlid)
    if not isinstance(tl, UserFunction | Handler):
        return refuse(state, "The fuzzed toplevel is gone: fuzz again to keep a failure.")
    if not 0 <= index < len(report.failures):
        return refuse(state, "No failure is chosen: pick one in the fuzz results.")
    program = Program.from_toplevels(state.canvas.values())
    where = pos or Pos(tl.pos.x, tl.pos.y + 260)
    try:
        test = fuzz.keep_as_test(report.failures[index], tl, program, where)
    except fuzz.Unfuzzable as e:
        return refuse(state, f"Not kept: {e}.")
    out = commit(state, [CreateToplevel(test)], None,
                 f"Kept as a test: {test.name}. Type what it should give in its hole.",
                 record=False)
    if out.refused:
        return out
    moved = motion.focus(out.state, test.tlid).state  # the caret to its first hole
    history = moved.history.record(test.tlid, out.ops)
    return attrs.evolve(out, state=attrs.evolve(moved, history=history))
