"""The fast path: toplevels compiled to Python functions, agreeing with the reference evaluator.

API (what the runtime and the benchmarks call):

- `compile_toplevel(tl, program) -> Compiled`: compiles a handler or a user
  function, and every user function it can reach, into Python source (one
  `def` per body and per lambda) passed through `compile()`. It never raises:
  a toplevel it cannot compile gives a `Compiled` that runs the reference
  evaluator (`Compiled.fast` is False then, `Compiled.reason` says why).
- `Compiled.run(inputs, *, budget=None, impure=None, host=None) -> value`:
  as `evaluator.run_toplevel(tl, inputs, program, ...)` without live values.
- `Compiled.call(args, *, budget=None, impure=None, host=None)` for a
  compiled user function, and `run_user_function(fn, args, program, ...)`
  (compiles and caches): as `evaluator.call_user_function` (arity and
  argument shapes checked, as a call node does).

Budgets are the reference's: `fib 22` takes 515,813 steps of the
default 1,000,000. A run that reaches a limit (steps, time, allocation,
size: `shared_ast.limits`) stops with the reference's error value, without
running the reference: as fast as the run itself. The message is the
reference's; the node is where the compiled code tested its budget, which
may be a little past the node where the reference stopped (steps are tested
once per straight run of code), or the toplevel's body when the limit only
shows at the end of the run (steps added late, below). The steps spent are
the reference's: one past the limit.

Semantics are the reference evaluator's (`shared_ast.evaluator`), node for
node, and `tests/test_compiler.py` checks that differentially. How:

- Steps are counted exactly: each straight run of nodes adds its count
  before anything that could observe it (an effect, a rail exit, a return),
  so budgets end where the reference's do. Where no effect can happen (a
  call of a quiet function, a loop whose lambda surely gives what it wants)
  steps may be added later than the reference adds them, never other than
  it: a stop can come later than the reference's, never be missed, since a
  run is tested once more at its end. What runs past the reference's stop
  is pure, so the stop's error is the reference's.
- Depth: each compiled function takes how many calls may still nest in it,
  rather than counting in the budget; past the limit, `Fallback`.
- What is surely an Int (of 64 bits, within known bounds) or a Bool needs no
  test (`compile_ints`); an Int result out of 64 bits falls back. User
  functions have a fast version for arguments that surely fit, whose result
  is known when its body's is (`compile_calls`, `compile_unit`).
- An `ErrorRail` travels as a `RailExit` exception from where it appears to
  the end of its function body or flag condition (see `compile_run`).
- Anything the compiled code cannot decide exactly ends the run with
  `Fallback`, and the reference evaluator re-runs it from the same budget
  and impure log (the calls already made are replayed, not repeated; flag
  decisions are reported once): calls nested so deep that the reference's
  depth or nesting limit might apply, a recursion error, a
  closure not compiled here, a handler input that is an `ErrorRail`.
- Live values (the editor) always use the reference evaluator.

What is compiled: every node kind. `List::map_v0`, `List::filter_v2` and
`List::fold_v0` over a lambda written in place become Python loops
(`compile_loops`); Int arithmetic and comparisons are inlined with their
64-bit checks. Nothing is left to the reference evaluator node by node: a
toplevel is compiled whole or not at all (deeper than `MAX_HEIGHT`, blocks
nested deeper than Python allows).

Modules: `compile_unit` (which bodies, one namespace), `compile_gen` (the
code of one body), `compile_calls` (calls), `compile_ints` (what is known of
Ints), `compile_loops` (list loops), `compile_run` (run-time support). To read
the code generated for a toplevel: `compile_unit.generate_unit(tl, program,
inputs)[0].source`.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from shared_ast.compile_gen import CompileError
from shared_ast.compile_run import CompiledRun, Fallback, LambdaCode, RailExit
from shared_ast.compile_unit import compile_unit
from shared_ast.eval_context import (
    MAX_NESTING,
    Budget,
    ImpureLog,
    recursion_headroom,
)
from shared_ast.evaluator import call_user_function, run_toplevel
from shared_ast.limits import EvaluationStopped
from shared_ast.program import Program
from shared_ast.toplevels import Handler, Toplevel, UserFunction
from shared_ast.values import ErrorRail, Incomplete

logger = logging.getLogger("gloam.compiler")

__all__ = ["Compiled", "compile_toplevel", "run_user_function"]


@attrs.frozen(eq=False)
class Compiled:
    """A toplevel ready to run fast; `run` falls back to the reference evaluator when it must."""

    toplevel: Toplevel
    program: Program
    #: The entry function (None when not compiled), taking the run and then the inputs.
    entry: Any = None
    #: The user-function wrapper for `run_user_function` (checks arity-free shapes first).
    call_entry: Any = None
    lambdas: dict[int, LambdaCode] = attrs.field(factory=dict)
    #: The deepest expression in the code this can run, for the nesting bound.
    height: int = 0
    reason: str = ""
    #: A handler's input names (`request` and the route's parameters), worked out once.
    names: tuple[str, ...] = ()

    @property
    def fast(self) -> bool:
        return self.entry is not None

    def run(
        self,
        inputs: Mapping[str, Any],
        *,
        budget: Budget | None = None,
        impure: ImpureLog | None = None,
        host: Any = None,
    ) -> Any:
        """The toplevel's value for `inputs`, as `run_toplevel` gives it (never raises)."""
        tl = self.toplevel
        budget = budget if budget is not None else Budget()
        if isinstance(tl, Handler):
            args = tuple(inputs.get(name, Incomplete(None)) for name in self.names)
        elif isinstance(tl, UserFunction):
            args = tuple(inputs.get(p.name, Incomplete(p.id)) for p in tl.params)
        else:
            return run_toplevel(tl, inputs, self.program, budget=budget, impure=impure, host=host)
        if self.entry is None or any(isinstance(a, ErrorRail) for a in args):
            FALLBACKS["not compiled" if self.entry is None else "rail input"] += 1
            return run_toplevel(tl, inputs, self.program, budget=budget, impure=impure, host=host)
        return self._run(self.entry, args, budget, impure, host, lambda b, log: run_toplevel(
            tl, inputs, self.program, budget=b, impure=log, host=host))

    def call(
        self,
        args: Sequence[Any],
        *,
        budget: Budget | None = None,
        impure: ImpureLog | None = None,
        host: Any = None,
    ) -> Any:
        """Call the user function as a call node would (`call_user_function`)."""
        tl = self.toplevel
        budget = budget if budget is not None else Budget()
        assert isinstance(tl, UserFunction), "only a user function can be called"
        if self.call_entry is None or len(args) != len(tl.params):
            FALLBACKS["not compiled"] += 1
            return call_user_function(tl, tuple(args), self.program, budget=budget,
                                      impure=impure, host=host)
        return self._run(self.call_entry, (*args, None), budget, impure, host,
                         lambda b, log: call_user_function(tl, tuple(args), self.program,
                                                           budget=b, impure=log, host=host))

    def _run(self, entry: Any, args: tuple[Any, ...], budget: Budget, impure: ImpureLog | None,
             host: Any, reference: Any) -> Any:
        steps0, depth0, allocated0 = budget.steps, budget.depth, budget.allocated
        log = impure if impure is not None else ImpureLog()
        calls0 = len(log.calls)
        # Each call frame adds at most height + 5 to the reference's nesting counter
        # (an expression per level, one for the call, four for a library calling back).
        frames = (MAX_NESTING - 1) // (self.height + 5) - 1
        run = CompiledRun(self.program, budget, min(budget.max_depth, depth0 + frames), log,
                          host, self.lambdas)
        # What nesting is left to the entry: a function's own call counts one.
        first = run.rem - (0 if isinstance(self.toplevel, Handler) else 1)
        stopped = False  # by a limit, or by a bug (then the count is not to be trusted)
        with recursion_headroom():
            try:
                value = entry(run, first, *args)
            except EvaluationStopped as stop:  # a limit: the reference's error, no re-run
                value, stopped = stop.value, True
            except Fallback:
                value = _FELL_BACK
                FALLBACKS["fallback"] += 1
            except RecursionError:
                value = _FELL_BACK
                FALLBACKS["recursion"] += 1
            except RailExit:
                value = _FELL_BACK
                FALLBACKS["rail exit"] += 1
            except Exception as bug:  # a bug of the compiler must not change the answer: re-run
                value, stopped = _FELL_BACK, True
                kind = f"bug: {type(bug).__name__}"
                if not FALLBACKS[kind]:
                    logger.exception("the compiled code of %s failed; the reference evaluator "
                                  "answers instead (logged once per kind of failure)",
                                  describe(self.toplevel))
                FALLBACKS[kind] += 1
        if run.steps > budget.max_steps and not stopped:
            # Steps are added late where nothing can observe them (see the module
            # docstring), so the limit may only show at the end, or at a fallback: what
            # the run did after the reference would have stopped was pure. The reference
            # stops with this error at a node the compiled code does not know; the
            # toplevel's body stands for it.
            tl = self.toplevel
            value = budget.steps_exhausted(
                tl.body.id if isinstance(tl, Handler | UserFunction) else None)
        if value is _FELL_BACK:
            budget.steps, budget.depth, budget.allocated = steps0, depth0, allocated0
            made = log.calls[calls0:]
            del log.calls[calls0:]
            # Replay what the compiled run did first, so the re-run repeats no effect.
            pending = made + list(log._pending)
            log._pending = pending
            return reference(budget, log)
        # Stopped at the step limit, the reference has spent exactly one step more.
        budget.steps = min(run.steps, budget.max_steps + 1)
        decided = getattr(host, "flag_decided", None)
        if decided is not None:
            for flag_id, name, took_new in run.decided:
                decided(flag_id, name, took_new)
        return value


_FELL_BACK: Any = object()

#: Why runs did not finish on the compiled path, counted per reason in this process:
#: "not compiled" (the compiler refused the toplevel: `Compiled.reason`), "rail input",
#: "fallback" (a shape the compiled code hands over by design), "recursion", "rail
#: exit", and "bug: <exception>" (the compiled code failed: a bug, logged once per kind).
#: `gloam runtime status --json` shows each worker's; tests read it to know the
#: compiled path really ran.
FALLBACKS: collections.Counter[str] = collections.Counter()


def fallback_counts() -> dict[str, int]:
    return dict(FALLBACKS)


def describe(tl: Toplevel) -> str:
    return f"{type(tl).__name__.lower()} {tl.tlid}"


def _bound_names(tl: Handler) -> tuple[str, ...]:
    # A dict keeps the last of repeated names, as the reference's env does.
    return tuple(dict.fromkeys(tl.bound_names()))


def compile_toplevel(tl: Toplevel, program: Program | None = None) -> Compiled:
    """Compile a handler or user function; never raises (see the module docstring)."""
    program = program if program is not None else Program()
    if not isinstance(tl, Handler | UserFunction):
        return Compiled(tl, program, reason="only handlers and functions run")
    names = _bound_names(tl) if isinstance(tl, Handler) else ()
    try:
        unit = compile_unit(tl, program, names)
    except CompileError as problem:
        return Compiled(tl, program, reason=str(problem), names=names)
    except (RecursionError, SyntaxError, MemoryError, ValueError) as problem:
        return Compiled(tl, program, reason=f"{type(problem).__name__}: {problem}", names=names)
    return Compiled(tl, program, unit.entry, unit.call_entry, unit.lambdas, unit.height,
                    names=names)


_FUNCTION_CACHE: dict[tuple[int, int], tuple[UserFunction, Program, Compiled]] = {}


def run_user_function(
    fn: UserFunction,
    args: Sequence[Any],
    program: Program | None = None,
    *,
    budget: Budget | None = None,
    impure: ImpureLog | None = None,
    host: Any = None,
) -> Any:
    """Call a user function as a call node would, through its compiled code (cached)."""
    program = program if program is not None else Program()
    key = (id(fn), id(program))
    cached = _FUNCTION_CACHE.get(key)
    if cached is None or cached[0] is not fn or cached[1] is not program:
        if len(_FUNCTION_CACHE) > 256:
            _FUNCTION_CACHE.clear()
        cached = (fn, program, compile_toplevel(fn, program))
        _FUNCTION_CACHE[key] = cached
    return cached[2].call(args, budget=budget, impure=impure, host=host)
