"""The editor model as a state machine: any sequence of actions keeps the program sound.

Issue 4 asks that "any sequence of actions leaves an AST that the checker and
evaluator accept, and replaying the emitted ops on the runtime's copy gives
the same toplevels". The machine starts from a canvas of one or two handlers
(code drawn from `tests/strategies.py`, or an empty hole), then types
characters, presses Enter, Tab, Backspace and Delete, moves and clicks, selects,
copies and pastes, undoes and redoes, creates toplevels and commits
completions. After every step:

- every toplevel checks without an internal checker failure and runs without
  a Python exception (a small budget keeps loops short);
- the ops the step emitted, sent through the wire codec and applied to a
  separate runtime copy with `apply_to_canvas`, are accepted and leave that
  copy equal to the model's canvas;
- a refused action changed nothing and emitted nothing;
- the caret, when there is one, is on a node its toplevel's projection shows,
  and ids are unique in every toplevel.
"""

from __future__ import annotations

import random

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from strategies import raw_exprs, renumber

from editor.model import actions, canvas_actions, committing, completion, motion, typing
from editor.model.state import EditorState, Outcome
from shared_ast import ids, traverse, wire
from shared_ast.apply import OpError, apply_to_canvas, validate
from shared_ast.checker import INTERNAL_ERROR, check_toplevel
from shared_ast.eval_context import Budget
from shared_ast.evaluator import run_toplevel
from shared_ast.nodes import EHole, EPartial
from shared_ast.ops import CreateToplevel
from shared_ast.program import Program
from shared_ast.toplevels import Handler, HttpSpec, Pos, ReplSpec, Toplevel, WorkerSpec

#: A representative alphabet: what starts each kind of expression, operators,
#: closers, separators, letters that spell keywords and in-scope names.
ALPHABET = list("0123456789\"[]{}\\,.:+-*/<>=|^& _") + list("abxlethnifmrqsuoyIS")
#: Whole words typed in one go, so that keywords, names and functions get committed.
WORDS = ["let", "if", "match", "a", "b", "request", "x", "true", "null", "Int::add",
         "String::length", "|>", "Just", "flag", "++", "&&"]
#: The commands, in groups that get a rule each so that each group is drawn often.
EDITS = ["newline", "backspace", "delete", "delete-selection", "insert-let-above",
         "toggle-error-rail", "move-line-up", "move-line-down", "delete-line", "unwrap"]
MOVES = ["next-hole", "previous-hole", "move-left", "move-right", "move-up", "move-down",
         "move-home", "move-end", "move-doc-start", "move-doc-end", "select-parent",
         "select-none", "next-problem", "previous-problem"]
CLIPBOARD_AND_HISTORY = ["copy", "cut", "paste", "undo", "redo"]
SPECS = [HttpSpec("GET", "/sum/:a/:b"), HttpSpec("POST", "/x"), WorkerSpec("jobs"),
         ReplSpec("scratch")]


def handler(tlid: int, spec_index: int, body: object | None) -> Handler:
    code = body if body is not None else EHole(0)
    # Renumbered from a start that differs per toplevel, so ids are unique on the canvas too.
    return renumber(Handler(0, Pos(0, 0), 0, SPECS[spec_index], code), start=tlid)


def runtime_accepts(h: Handler) -> bool:
    """Whether the runtime would create this handler: the machine starts only from code
    an editor could have sent (the strategies also draw malformed trees, such as an
    infix with no such operator, to test the checker; undo could not restore those)."""
    return validate(CreateToplevel(h), None) is None


handlers = st.builds(
    handler,
    st.just(1),
    st.integers(0, len(SPECS) - 1),
    st.one_of(st.none(), raw_exprs(8)),
).filter(runtime_accepts)


def runtime_replay(ops: tuple, runtime: dict[int, Toplevel]) -> dict[int, Toplevel]:
    """What the runtime does with a batch: decode it from the wire, then apply it."""
    decoded = wire.decode_ops(wire.encode_ops(list(ops)))
    return apply_to_canvas(decoded, runtime)


class EditorMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Fresh ids from a seeded generator, so that hypothesis can replay a run exactly.
        self._system_rng = ids._rng
        ids._rng = random.Random(4)
        self.state = EditorState()
        self.runtime: dict[int, Toplevel] = {}
        #: Each toplevel as it started, to compare with after undoing everything.
        self.initial: dict[int, Toplevel] = {}
        self.log: list[str] = []

    @initialize(first=handlers, second=st.one_of(st.none(), handlers),
                spec=st.integers(0, len(SPECS) - 1))
    def start(self, first: Handler, second: Handler | None, spec: int) -> None:
        canvas = {first.tlid: first}
        if second is not None:
            second = handler(100_000, spec, second.body)
            # Two handlers may not share a route; the second takes another trigger.
            if second.spec == first.spec:
                second = attrs.evolve(second, spec=ReplSpec("other"))
            canvas[second.tlid] = second
        self.runtime = dict(canvas)
        self.initial = dict(canvas)
        self.state = motion.focus(EditorState(canvas), first.tlid).state

    def teardown(self) -> None:
        ids._rng = self._system_rng

    # ------------------------------------------------------------ stepping

    def step(self, what: str, out: Outcome, *, several: bool = False) -> None:
        self.log.append(what)
        before = self.state
        # Typing a word keeps the characters typed before one that was refused.
        if out.refused and not several:
            assert out.message, f"{what}: refused without saying why"
            assert out.ops == (), f"{what}: refused but emitted {out.ops}"
            assert out.state.canvas == before.canvas, f"{what}: refused but changed the code"
        try:
            self.runtime = runtime_replay(out.ops, self.runtime)
        except OpError as e:  # pragma: no cover - a failure is the finding
            raise AssertionError(f"{what}: the runtime refused the ops {out.ops}: {e}") from e
        assert self.runtime == dict(out.state.canvas), (
            f"{what}: the runtime's copy and the editor's canvas differ after {out.ops}")
        self.state = out.state

    @rule(ch=st.sampled_from(ALPHABET))
    def type_char(self, ch: str) -> None:
        self.step(f"type {ch!r}", typing.insert_char(self.state, ch))

    @rule(word=st.sampled_from(WORDS))
    def type_word(self, word: str) -> None:
        self.step(f"type {word!r}", typing.insert_text(self.state, word), several=True)

    @rule(name=st.sampled_from(EDITS))
    def edit(self, name: str) -> None:
        self.step(name, actions.perform(self.state, name))

    @rule(name=st.sampled_from(MOVES))
    def move(self, name: str) -> None:
        self.step(name, actions.perform(self.state, name))

    @rule(name=st.sampled_from(CLIPBOARD_AND_HISTORY))
    def clipboard_or_history(self, name: str) -> None:
        self.step(name, actions.perform(self.state, name))

    @rule(which=st.integers(0, 3), line=st.integers(0, 12), column=st.integers(0, 40))
    def click(self, which: int, line: int, column: int) -> None:
        tlids = list(self.state.canvas)
        if not tlids:
            return
        tlid = tlids[which % len(tlids)]
        self.step(f"click {tlid} at {line}:{column}",
                  motion.place(self.state, tlid, line, column))

    @precondition(lambda self: len(self.state.canvas) < 4)
    @rule(kind=st.sampled_from(sorted(canvas_actions.TOPLEVEL_KINDS)))
    def create(self, kind: str) -> None:
        self.step(f"create {kind}", canvas_actions.create_toplevel(self.state, kind))

    @precondition(lambda self: self.state.caret is not None)
    @rule(pick=st.integers(0, 6))
    def complete(self, pick: int) -> None:
        """Commit one of the completions offered where the caret is (a hole or a partial)."""
        node = self.state.node(self.state.caret.node_id)  # type: ignore[union-attr]
        tl = self.state.toplevel
        if tl is None or not isinstance(node, (EHole, EPartial)):
            return
        query = node.text if isinstance(node, EPartial) else ""
        program = Program.from_toplevels(self.state.canvas.values())
        offered = completion.completions(program, tl, node.id, query, limit=7,
                                         canvas=self.state.canvas.values())
        if not offered:
            return
        chosen = offered[pick % len(offered)]
        self.step(f"complete {chosen.label!r}",
                  committing.commit_completion(self.state, node.id, chosen))

    def _all(self, which: str, tlid: int) -> None:
        can = getattr(self.state.history, f"can_{which}")
        for _ in range(2_000):
            if self.state.caret is None or not can(tlid):
                return
            out = actions.perform(self.state, which)
            assert not out.refused, f"{which} refused: {out.message}\n{self.log}"
            self.step(f"{which} (all)", out)
            can = getattr(self.state.history, f"can_{which}")

    @precondition(lambda self: self.state.caret is not None)
    @rule()
    def undo_all_then_redo_all(self) -> None:
        """Undoing every edit of a toplevel gives it back as it started; redoing, as it was."""
        tlid = self.state.caret.tlid  # type: ignore[union-attr]
        self._all("redo", tlid)
        newest = self.state.canvas[tlid]
        self._all("undo", tlid)
        assert self.state.canvas.get(tlid) == self.initial.get(tlid), (
            f"undoing everything in {tlid} did not give back its first version: {self.log}")
        if self.state.caret is None:
            return  # undoing its creation deleted it: nothing to redo from
        self._all("redo", tlid)
        assert self.state.canvas.get(tlid) == newest, (
            f"redoing everything in {tlid} did not give back its newest version: {self.log}")

    # ----------------------------------------------------------- invariants

    @invariant()
    def every_toplevel_checks_and_runs(self) -> None:
        program = Program.from_toplevels(self.state.canvas.values())
        for tl in self.state.canvas.values():
            assert not traverse.duplicate_ids(tl), f"duplicate ids in {tl.tlid}: {self.log}"
            infos = check_toplevel(tl, program)
            crashes = [m.message for info in infos.values() for m in info.marks
                       if m.kind == INTERNAL_ERROR]
            assert not crashes, f"the checker failed on toplevel {tl.tlid}: {crashes}"
            # Never raises; a Python exception here fails the test by itself.
            run_toplevel(tl, {}, program, budget=Budget(max_steps=2_000, max_depth=40))

    @invariant()
    def caret_is_on_shown_code(self) -> None:
        caret = self.state.caret
        if caret is None:
            return
        assert caret.tlid in self.state.canvas, f"caret in a deleted toplevel: {self.log}"
        proj = self.state.projection()
        if proj is None:
            return
        assert proj.has(caret.node_id), (
            f"caret on node {caret.node_id}, which is not shown:\n{proj.text}\n{self.log}")
        assert 0 <= caret.offset <= proj.own_length(caret.node_id)
        assert proj.position(caret) is not None
        if self.state.selection is not None:
            assert self.state.node(self.state.selection) is not None


EditorMachine.TestCase.settings = settings(
    max_examples=500, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)
TestEditorMachine = EditorMachine.TestCase


class SlowEditorMachine(EditorMachine):
    pass


SlowEditorMachine.TestCase.settings = settings(
    max_examples=4_000, stateful_step_count=80, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)


@pytest.mark.slow
class TestEditorMachineSlow(SlowEditorMachine.TestCase):  # type: ignore[name-defined, misc]
    pass
