"""What compiled code calls at run time: the state of one compiled run and its slow paths.

`shared_ast.compiler` turns toplevels into Python functions; those functions
take a `CompiledRun` as their first argument. It holds the budget, the impure
log, the host and the flags being decided, and implements the calls compiled
code does not inline: library calls (the same checks as the reference
evaluator's `Machine.call_library`), closure application (for pipes, and as
the `runner` library functions call lambdas back through), and the error
paths of field access and equality.

Two exceptions steer a compiled run:

- `RailExit` carries an `ErrorRail` value from where it appears to the end
  of the function body or flag condition that turns it back into a value.
  Every other construct propagates a rail value unchanged, so an exception
  is the same thing, without a test at every node.
- `Fallback` abandons the compiled run (nesting that may be too deep, a
  closure not compiled here); the caller re-runs the reference evaluator
  from the same state, which gives its exact answer.

A limit reached (steps, time, allocation: `shared_ast.limits`) is no
fallback: it raises `EvaluationStopped` with the reference's error value,
which ends the compiled run as it ends the reference's (see `over`); so does
a failing impure call in language version 2 and later (`call_impure`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from shared_ast.eval_context import (
    Budget,
    ImpureLog,
    LibraryCallContext,
    closure_call_refused,
    failed_impure_call,
)
from shared_ast.limits import (
    BUILDERS,
    EvaluationStopped,
    Preempted,
    after_library_call,
    charge_built,
)
from shared_ast.nodes import Expr, NodeId
from shared_ast.program import Program
from shared_ast.stdlib.bool_fns import expect_bool
from shared_ast.stdlib.registry import Escape, LibError, LibFunction
from shared_ast.value_types import describe_value, value_fits
from shared_ast.values import (
    SPECIAL_TYPES,
    Closure,
    ErrorRail,
    ErrorValue,
    FrozenDict,
    Incomplete,
    Variant,
    first_special,
    is_special,
    show,
    values_equal,
)

__all__ = ["CompiledRun", "Fallback", "LambdaCode", "RailExit", "is_option"]

_SPECIALS = frozenset(SPECIAL_TYPES)


def is_option(value: Any) -> bool:
    """`value` is Just x or Nothing: an Option's shape as `value_fits(deep=False)` checks
    it (the guard of a library call taking an Option: `compile_calls.shapes_guard`)."""
    return (type(value) is Variant and value.type_name is None
            and ((value.name == "Just" and len(value.args) == 1)
                 or (value.name == "Nothing" and not value.args)))


class RailExit(Exception):
    """An `ErrorRail` on its way to the end of the body (or flag condition) it leaves."""

    def __init__(self, value: ErrorRail) -> None:
        super().__init__()
        self.value = value


class Fallback(BaseException):
    """Give up the compiled run; the reference evaluator re-runs it from the start."""


#: A compiled lambda body: (the body node, its language version, the function).
#: The function takes the run, the captured variables (a plain dict) and the arguments.
LambdaCode = tuple[Expr, int, Callable[..., Any]]


class CompiledRun:
    """The state of one run of compiled code, and what it calls that is not inlined."""

    __slots__ = ("budget", "decided", "depth_limit", "flags", "host", "impure", "lambdas",
                 "ms", "program", "rem", "steps")

    def __init__(
        self,
        program: Program,
        budget: Budget,
        depth_limit: int,
        impure: ImpureLog,
        host: Any,
        lambdas: dict[int, LambdaCode],
    ) -> None:
        self.program = program
        self.budget = budget
        #: Calls may nest up to here; past it the reference evaluator decides (its
        #: depth and nesting limits), so the compiled path never has to imitate them.
        self.depth_limit = depth_limit
        #: The steps spent, kept here rather than in the budget (one attribute less per
        #: count); `compiler.Compiled` copies them back when the run ends.
        self.steps = budget.steps
        #: Past this many steps the generated code calls `over`: the step limit, or
        #: sooner when there is a deadline, to look at the clock (`Budget.next_check`).
        budget.start()
        clock = budget.deadline is not None or budget.yield_at is not None
        self.ms = 0 if clock else budget.max_steps
        #: Compiled code passes the calls it may still nest as an argument (`r`); before a
        #: library call that may call a lambda back, it leaves its own here.
        self.rem = depth_limit - budget.depth
        self.impure = impure
        self.host = host
        self.lambdas = lambdas
        self.flags: list[str] = []
        #: flag_decided reports, held back until the run is known not to fall back
        #: (the reference re-run would report them again).
        self.decided: list[tuple[NodeId, str, bool]] = []

    # ------------------------------------------------------------ library calls

    def call_library(self, lib: LibFunction, args: tuple[Any, ...], node_id: NodeId,
                     fits: Sequence[Any]) -> Any:
        """Machine.call_library after the arity check: specials, shapes, purity, impure log.

        `fits[i]` is None when argument i needs no check, else (type, phrase) for value_fits.
        """
        if not lib.accepts_special:
            special = first_special(args)
            if special is not None:
                return special
        for param, arg, fit in zip(lib.params, args, fits, strict=True):
            if fit is None or is_special(arg):
                continue
            if value_fits(arg, fit[0], self.program, deep=False) is not None:
                return ErrorValue(
                    f"{lib.qualified} expects {fit[1]} for {param.name}, got {describe_value(arg)}",
                    node_id)
        if lib.pure:
            result = self.run_library(lib, args, node_id)
        else:
            replayed, result = self.impure.replay(lib.qualified, args)
            if not replayed:
                result = self.run_library(lib, args, node_id)
            self.impure.append(lib.qualified, args, result)
        if lib.qualified in BUILDERS or self.budget.deadline is not None:
            return after_library_call(self.budget, lib, args, result, node_id)
        return result

    def call_impure(self, lib: LibFunction, args: tuple[Any, ...], node_id: NodeId,
                    fits: Sequence[Any]) -> Any:
        """`call_library` for an impure function in language version 2 and later: a
        failure stops the run with the reference's error (`failed_impure_call`)."""
        result = self.call_library(lib, args, node_id, fits)
        if type(result) is ErrorValue or type(result) is Incomplete:
            raise EvaluationStopped(failed_impure_call(lib, args, result, node_id))
        return result

    def stop(self, failure: ErrorValue) -> None:
        """Stop the run with `failure` (an impure call that cannot run: `call_impure`)."""
        raise EvaluationStopped(failure)

    def built(self, lib: LibFunction, args: tuple[Any, ...], result: Any, node_id: NodeId
              ) -> Any:
        """What the library call a compiled loop stands for gives, once measured (a map's list)."""
        return after_library_call(self.budget, lib, args, result, node_id)

    def pure(self, lib: LibFunction, args: tuple[Any, ...], node_id: NodeId, builds: bool
             ) -> Any:
        """`call_library` for a pure function whose arguments the generated code has seen
        to be no special values and of the shapes `lib` takes (`compile_calls`'s guard):
        the checks `call_library` makes first would all pass, so only what follows them
        is done. `builds` is `lib.qualified in BUILDERS`, known when the code was made."""
        try:
            result = lib.impl(LibraryCallContext(self, node_id, self.host,
                                                 self.flags[-1] if self.flags else "",
                                                 lib.qualified), *args)
        except Escape as escape:
            result = escape.value
        except LibError as problem:
            result = ErrorValue(str(problem), node_id)
        except RecursionError:
            raise Fallback() from None
        except Exception as exc:  # as run_library
            result = ErrorValue(
                f"internal error in {lib.qualified}: {type(exc).__name__}: {exc}", node_id)
        # What after_library_call does, knowing whether the function builds its result.
        budget = self.budget
        if builds:
            over = charge_built(budget, lib.qualified, args, result, node_id)
            if over is not None:
                return over
        if budget.deadline is not None:
            now = time.monotonic()
            if now >= budget.deadline:
                raise EvaluationStopped(budget.time_exhausted(node_id))
            if budget.yield_at is not None and now >= budget.yield_at:
                raise Preempted()
        return result

    def run_library(self, lib: LibFunction, args: tuple[Any, ...], node_id: NodeId) -> Any:
        try:
            flag = self.flags[-1] if self.flags else ""
            return lib.impl(LibraryCallContext(self, node_id, self.host, flag, lib.qualified),
                            *args)
        except Escape as escape:
            return escape.value
        except LibError as problem:
            return ErrorValue(str(problem), node_id)
        except RecursionError:
            # The reference evaluator's stack is not ours: let it decide.
            raise Fallback() from None
        except Exception as exc:  # a bug in a library function must not take the handler down
            return ErrorValue(
                f"internal error in {lib.qualified}: {type(exc).__name__}: {exc}", node_id)

    # ---------------------------------------------------------- closure calls

    def apply_function(self, fn: Any, args: tuple[Any, ...], node_id: NodeId | None) -> Any:
        """Machine.apply_function for closures made by compiled code (the hot path of List::map)."""
        if type(fn) is Closure and len(fn.params) == len(args):
            code = self.lambdas.get(id(fn.body))
            if code is not None and code[0] is fn.body and code[1] == fn.language_version:
                for arg in args:
                    if type(arg) in _SPECIALS:
                        return first_special(args)
                # The compiled lambda tests the depth itself; a lambda it runs may leave
                # a deeper `rem` behind, so this call's is put back.
                rem = self.rem
                value = code[2](self, rem - 1, fn.env._d, *args)
                self.rem = rem
                return value
        refused = closure_call_refused(fn, args, node_id)
        if refused is not None:
            return refused
        raise Fallback()  # a closure made elsewhere: the reference evaluator runs it

    def over(self, node_id: NodeId) -> None:
        """The generated code's steps went past `ms`: stop at the step limit or the deadline
        (the reference's error values), else go on until the next look at the clock.

        The node is the one the code was at when it tested, which may be a little past
        the reference's: steps are tested once per straight run of code, not per node.
        """
        budget = self.budget
        if self.steps > budget.max_steps:
            raise EvaluationStopped(budget.steps_exhausted(node_id))
        self.ms = budget.next_check(self.steps, node_id)

    def flag_decided(self, flag_id: NodeId, name: str, took_new: bool) -> None:
        self.decided.append((flag_id, name, took_new))

    # -------------------------------------------------------------- slow paths

    def field(self, record: Any, name: str, node_id: NodeId) -> Any:
        if is_special(record):
            return record
        if not isinstance(record, FrozenDict):
            return ErrorValue(f"cannot get the field {name} of {describe_value(record)}: "
                              "only records have fields", node_id)
        if name not in record:
            return ErrorValue(f"no field {name} in {show(record, limit=80)}", node_id)
        return record[name]

    def equality(self, op: str, left: Any, right: Any, node_id: NodeId) -> Any:
        special = first_special((left, right))
        if special is not None:
            return special
        try:
            equal = values_equal(left, right)
        except RecursionError:
            return ErrorValue(f"cannot compare with {op}: the values are nested too deeply",
                              node_id)
        return equal if op == "==" else not equal

    def not_bool(self, value: Any, what: str, node_id: NodeId) -> ErrorValue:
        """The library's error for a lambda that gave no Bool (`expect_bool`'s message)."""
        try:
            expect_bool(value, what)
        except LibError as problem:
            return ErrorValue(str(problem), node_id)
        raise Fallback()  # it was a Bool after all: not the compiled code's case to judge

    def check_call(self, args: tuple[Any, ...], fits: Sequence[Any], node_id: NodeId | None
                   ) -> Any:
        """Machine.call_function's checks: the value instead of the call, or None to run it.

        `fits[i]` is None when argument i needs no check, else (type, message start).
        """
        special = first_special(args)
        if special is not None:
            return special
        for arg, fit in zip(args, fits, strict=True):
            if fit is not None and value_fits(arg, fit[0], self.program, deep=False) is not None:
                return ErrorValue(fit[1] + describe_value(arg), node_id)
        return None
