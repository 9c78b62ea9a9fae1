"""What an evaluation carries besides the tree: limits, recordings, scopes.

- `Budget` (defined in `shared_ast.limits`): how many nodes an evaluation may
  evaluate, how deeply calls may nest, how long it may run and how much it
  may build, so that runaway code (an infinite recursion, a loop of a billion
  steps, a String doubled until memory runs out) ends with a clear error
  value instead of hanging or crashing Python.
- `LiveValues` (from `shared_ast.live`): the value every node took, per
  iteration of the lambdas around it, for the editor's live values;
  branches that did not run are *previewed* and recorded with `taken=False`.
- `ImpureLog`: the results of library calls that are not pure (random
  numbers, UUIDs, the clock), recorded for a trace and replayed from it, so
  that re-running a trace on edited code is deterministic.
- `Env`: the variables in scope, a chain of bindings over a base mapping, so
  that binding a name costs the same however many names are in scope.
- `Machine`: the state of one evaluation (mode, version, counters) and the
  calls that change it: applying a closure, calling a user function,
  calling a library function (argument checks, previews, the impure log;
  from language version 2, a failing impure call stops the run:
  `failed_impure_call`).
- `LibraryCallContext`: the `ctx` a library function receives; its `apply`
  calls a lambda back through the machine.
- `recursion_headroom`: the Python recursion limit the evaluator needs,
  raised while evaluations run and restored after the last one ends.

What each node kind means is `shared_ast.evaluator`, which subclasses `Machine`.
Previews: when recording live values, a branch that did not run is evaluated
with its own step budget, impure library calls give `Incomplete` and user
functions are not entered, so a preview can never change a result.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import shared_ast.stdlib  # noqa: F401 - importing the package fills LIBRARY
from shared_ast.limits import (
    BUILDERS,
    Budget,
    EvaluationStopped,
    after_library_call,
    refuse_to_build,
)
from shared_ast.live import At, LiveValue, LiveValues
from shared_ast.nodes import ELambda, Expr, NodeId
from shared_ast.program import Program
from shared_ast.stdlib.registry import LIBRARY, Escape, LibError, LibFunction
from shared_ast.toplevels import Handler, UserFunction
from shared_ast.value_types import describe_value, type_phrase, value_fits
from shared_ast.values import (
    Closure,
    DatastoreRef,
    ErrorValue,
    FrozenDict,
    ImpureCall,
    Incomplete,
    first_special,
    is_special,
    values_equal,
)

__all__ = [
    "FAILED_CALLS_STOP_FROM",
    "MAX_NESTING",
    "NO_PIPE",
    "Budget",
    "Env",
    "EvaluationStopped",
    "ImpureCall",
    "ImpureLog",
    "LibraryCallContext",
    "LiveValue",
    "LiveValues",
    "Machine",
    "failed_call_stops",
    "failed_impure_call",
    "recursion_headroom",
]

# -------------------------------------------------------------- live values
# `LiveValue` and `LiveValues` live in `shared_ast.live` (the wire codec reads them too).

# --------------------------------------------------------------- impure log


class ImpureLog:
    """Records impure library calls, or replays them from a trace.

    Record mode (`ImpureLog()`): every impure call runs and is appended to
    `calls`. Replay mode (`ImpureLog(recorded)`): a call takes the result of
    the earliest recorded call not yet replayed with the same function name
    and equal arguments, so that unchanged code replays exactly and edited
    code replays whatever still lines up; a call with no such record runs for
    real. Replay mode records too, so `calls` is always this run's complete log.
    """

    def __init__(self, recorded: Sequence[ImpureCall] | None = None, *,
                 refuse_unrecorded: str = "") -> None:
        self.calls: list[ImpureCall] = []
        self._pending: list[ImpureCall] = list(recorded or ())
        #: When set (a test's log), a call with no matching record does not run: it gives
        #: an error value saying this, so a test never touches the world.
        self.refuse_unrecorded = refuse_unrecorded

    @property
    def replaying(self) -> bool:
        return bool(self._pending)

    def replay(self, name: str, args: tuple[Any, ...]) -> tuple[bool, Any]:
        """(True, recorded result) for the next matching recorded call, else (False, None)."""
        for i, call in enumerate(self._pending):
            if call.name == name and values_equal(call.args, args):
                del self._pending[i]
                return True, call.result
        return False, None

    def append(self, name: str, args: tuple[Any, ...], result: Any) -> None:
        self.calls.append(ImpureCall(name, args, result))


# --------------------------------------------------------------------- scope


_MISSING: Any = object()


class Env:
    """Variables in scope: a chain of single bindings over a base mapping.

    Binding is O(1) and never copies; lookups walk the chain, which is as long
    as the lets and parameters of the code being run, not the whole program.
    A closure captures a flattened copy (`as_frozen`), made once per lambda.
    """

    __slots__ = ("_base", "_name", "_parent", "_value")

    def __init__(
        self,
        base: Mapping[str, Any],
        name: str | None = None,
        value: Any = None,
        parent: Env | None = None,
    ) -> None:
        self._base = base
        self._name = name
        self._value = value
        self._parent = parent

    def bind(self, name: str, value: Any) -> Env:
        return Env(self._base, name, value, self)

    def bind_all(self, bindings: Sequence[tuple[str, Any]]) -> Env:
        env = self
        for name, value in bindings:
            env = env.bind(name, value)
        return env

    def lookup(self, name: str) -> Any:
        """The value bound to `name`, or `Env.MISSING`."""
        env: Env | None = self
        while env is not None and env._name is not None:
            if env._name == name:
                return env._value
            env = env._parent
        return self._base.get(name, _MISSING)

    MISSING = _MISSING

    def as_frozen(self) -> FrozenDict:
        if self._name is None and isinstance(self._base, FrozenDict):
            return self._base
        merged = dict(self._base)
        chain: list[Env] = []
        env: Env | None = self
        while env is not None and env._name is not None:
            chain.append(env)
            env = env._parent
        # Oldest first, so that an inner binding shadows an outer one.
        for link in reversed(chain):
            assert link._name is not None
            merged[link._name] = link._value
        return FrozenDict(merged)


# --------------------------------------------------- library call context


class ClosureRunner(Protocol):
    """The part of the evaluator a library call may use: calling a function value, the budget."""

    budget: Budget

    def apply_function(self, fn: Any, args: tuple[Any, ...], node_id: NodeId | None) -> Any: ...


class LibraryCallContext:
    """The `ctx` of one library call (implements `stdlib.registry.CallContext`).

    `call_id` is the call node, so an error inside the lambda that has no
    better node (a wrong number of arguments) points at the call. `host` is
    what the runtime lends library functions (datastores, queues; see
    `stdlib.host`), None where there is no runtime (tests, editor previews).
    `flag` is the name of the feature flag whose condition is being evaluated
    ("" outside one), so `Flag::rollout_v0` buckets a key per flag. `name` is
    the function called, for the errors of `will_build` and `charge`.

    A plain class with slots: one is made for every library call, and that
    is cheaper than a frozen attrs class.
    """

    __slots__ = ("call_id", "flag", "host", "name", "runner")

    def __init__(self, runner: ClosureRunner, call_id: NodeId | None, host: Any = None,
                 flag: str = "", name: str = "") -> None:
        self.runner = runner
        self.call_id = call_id
        self.host = host
        self.flag = flag
        self.name = name

    def apply(self, fn: Any, args: tuple[Any, ...]) -> Any:
        result = self.runner.apply_function(fn, tuple(args), self.call_id)
        if is_special(result):
            raise Escape(result)
        return result

    def will_build(self, kind: str, size: int) -> None:
        refuse_to_build(self.runner.budget, self.name, kind, size)

    def charge(self, kind: str, size: int) -> None:
        self.runner.budget.spend(kind, size, self.name, self.call_id)

    @property
    def previewing(self) -> bool:
        """Whether this call is part of a preview of a branch that did not run."""
        return bool(getattr(self.runner, "preview", False))

    def run_handler(self, handler: Handler, inputs: Mapping[str, Any]) -> Any:
        """Run a handler as a request, event or cron run would, inside this evaluation (a
        test's `Test::http`); only the reference evaluator can."""
        run = getattr(self.runner, "run_handler", None)
        if run is None:
            raise LibError(f"{self.name} runs only in a test")
        return run(handler, inputs, self.call_id)



# ------------------------------------------------------------------ machine

#: How deeply evaluation may nest (expressions inside expressions, across
#: calls) before it stops with an error value; keeps Python's stack safe.
#: One unit is about two Python frames: an expression costs one, a call of a
#: closure one more, a library call (which may call closures back) four.
MAX_NESTING = 3000
_CLOSURE_NESTING = 1
_LIBRARY_NESTING = 4

#: The pipe target outside any pipe step; `None` would not do, it is a real value (Null).
NO_PIPE: Any = object()


class Machine:
    """The state of one evaluation, and the calls that change it.

    `version` is the language version of the code being run, `recording`
    whether node values go to `live` (only in the toplevel being run), and
    `preview` whether this is a preview of a branch that did not run.
    Calls (of closures, user functions, library functions) live here because
    they are where that state changes; what each node kind means is
    `shared_ast.evaluator`, which defines `eval`.
    """

    def __init__(
        self,
        program: Program | None,
        budget: Budget,
        live: LiveValues | None,
        impure: ImpureLog | None,
        language_version: int,
        host: Any = None,
    ) -> None:
        self.program = program if program is not None else Program()
        self.budget = budget
        budget.start()
        self.live = live
        self.impure = impure
        self.host = host
        self.version = language_version
        self.recording = live is not None
        self.preview = False
        self.nesting = 0
        # Previews spend their own budget, so they can never stop the real evaluation.
        self._preview_budget = budget.for_preview()
        #: The iteration path of the code being evaluated (see `shared_ast.live`).
        self.at: At = ()
        # id(closure) → (the closure, its lambda, the path it was made at, made in a preview),
        # to number its calls and record its parameters; the closure is kept to make the id safe.
        self.closures: dict[int, tuple[Closure, ELambda, At, bool]] = {}
        #: The flags whose conditions are being evaluated, innermost last.
        self.flags: list[str] = []

    # ------------------------------------------------------------ entry points

    def run(self, thunk: Callable[[], Any], node_id: NodeId | None) -> Any:
        with recursion_headroom():
            try:
                return thunk()
            except EvaluationStopped as stop:
                return stop.value
            except RecursionError:
                return ErrorValue("Stopped: the code is nested too deeply to run", node_id)
            except Exception as exc:  # the evaluator is total: a bug here is still a value
                return ErrorValue(f"internal error in the evaluator: {type(exc).__name__}: {exc}",
                                  node_id)

    def eval(self, e: Expr, env: Env, pipe: Any) -> Any:
        """The value of `e`; the evaluator's dispatch over node kinds."""
        raise NotImplementedError

    def record(self, node_id: NodeId, value: Any) -> None:
        if self.recording and self.live is not None:
            self.live.record(node_id, value, not self.preview, self.at)

    def made_closure(self, closure: Closure, lam: ELambda) -> None:
        """Note where a closure was made, so that its calls are numbered as iterations."""
        if self.recording:
            self.closures[id(closure)] = (closure, lam, self.at, self.preview)

    def preview_eval(self, e: Expr, env: Env, pipe: Any) -> None:
        """Evaluate a branch that did not run, only for its live values."""
        if not self.recording or self.live is None or self.live.has(e.id, self.at):
            return
        saved = (self.preview, self.budget, self.version)
        if not self.preview:
            self._preview_budget.depth = self.budget.depth
            self.budget = self._preview_budget
            self.preview = True
        # Whatever a preview runs into (its budget, a bug) ends the preview, never the evaluation.
        with contextlib.suppress(EvaluationStopped, Exception):
            self.eval(e, env, pipe)
        self.preview, self.budget, self.version = saved

    def preview_all(self, exprs: Iterable[Expr], env: Env, pipe: Any) -> None:
        for e in exprs:
            self.preview_eval(e, env, pipe)

    def datastore_named(self, name: str) -> DatastoreRef | None:
        """The datastore `Name_vN` names, if any; datastores are variables any scope can shadow."""
        base, sep, version = name.rpartition("_v")
        if not sep or not version.isdigit():
            return None
        ds = self.program.datastore(base, int(version))
        return DatastoreRef(ds.name, ds.version) if ds is not None else None

    # ----------------------------------------------------------------- calls

    def apply_function(self, fn: Any, args: tuple[Any, ...], node_id: NodeId | None) -> Any:
        """Call a function value (a closure) with arguments, as a pipe step or a library does."""
        refused = closure_call_refused(fn, args, node_id)
        if refused is not None:
            return refused
        budget = self.budget
        if budget.depth >= budget.max_depth:
            raise EvaluationStopped(budget.depth_exhausted(node_id))
        saved = (self.version, self.recording, self.at)
        if self.recording:
            self.enter_iteration(fn, args)
        env = Env(fn.env).bind_all(list(zip(fn.params, args, strict=True)))
        budget.depth += 1
        self.nesting += _CLOSURE_NESTING
        self.version = fn.language_version
        try:
            return self.eval(fn.body, env, NO_PIPE)
        finally:
            budget.depth -= 1
            self.nesting -= _CLOSURE_NESTING
            self.version, self.recording, self.at = saved

    def enter_iteration(self, fn: Closure, args: tuple[Any, ...]) -> None:
        """Before a recorded call of a closure: its body's iteration path, its parameters.

        A closure made where nothing was recorded (past the kept iterations, in a user
        function's body), or made outside a preview and called in one, runs unrecorded,
        so that its iterations are only the calls that really ran.
        """
        made = self.closures.get(id(fn))
        live = self.live
        if made is None or made[0] is not fn or live is None or (self.preview and not made[3]):
            self.recording = False
            return
        _, lam, at, _ = made
        index = live.called(lam.id, at)
        if index is None:
            self.recording = False  # past the bounds: counted, not recorded
            return
        self.at = (*at, index)
        for param, arg in zip(lam.params, args, strict=False):
            self.record(param.id, arg)

    def call_function(
        self, fn: UserFunction, args: Sequence[Any], node_id: NodeId | None, record_body: bool
    ) -> Any:
        """Call a user function: arity and argument shapes checked, then its body run."""
        if len(args) != len(fn.params):
            return ErrorValue(
                f"{fn.qualified} takes {len(fn.params)} argument(s) but was given {len(args)}",
                node_id)
        special = first_special(list(args))
        if special is not None:
            return special
        for param, arg in zip(fn.params, args, strict=True):
            if value_fits(arg, param.type, self.program, deep=False) is not None:
                return ErrorValue(
                    f"{fn.qualified} expects {type_phrase(param.type, self.program)} "
                    f"for {param.name}, got {describe_value(arg)}", node_id)
        if self.preview:
            return Incomplete(node_id)
        return self.run_function(fn, args, node_id, record_body)

    def run_function(
        self, fn: UserFunction, args: Sequence[Any], node_id: NodeId | None, record_body: bool
    ) -> Any:
        budget = self.budget
        if budget.depth >= budget.max_depth:
            raise EvaluationStopped(budget.depth_exhausted(node_id))
        env = Env({p.name: a for p, a in zip(fn.params, args, strict=True)})
        saved = (self.version, self.recording, self.at)
        budget.depth += 1
        self.nesting += _CLOSURE_NESTING
        self.version = fn.language_version
        self.recording = record_body and self.live is not None
        self.at = ()
        try:
            return self.eval(fn.body, env, NO_PIPE)
        finally:
            budget.depth -= 1
            self.nesting -= _CLOSURE_NESTING
            self.version, self.recording, self.at = saved

    def run_handler(self, handler: Handler, inputs: Mapping[str, Any],
                    node_id: NodeId | None) -> Any:
        """Run a handler's body with its bound variables from `inputs` (a missing one is
        incomplete), unrecorded, as a request would (a test's `Test::http`): whatever stops
        it (a failing impure call) is its answer, as it would be a request's."""
        budget = self.budget
        if budget.depth >= budget.max_depth:
            raise EvaluationStopped(budget.depth_exhausted(node_id))
        env = Env({name: inputs.get(name, Incomplete(node_id)) for name in handler.bound_names()})
        saved = (self.version, self.recording, self.at)
        budget.depth += 1
        self.nesting += _CLOSURE_NESTING
        self.version = handler.language_version
        self.recording = False
        self.at = ()
        try:
            return self.eval(handler.body, env, NO_PIPE)
        except EvaluationStopped as stop:
            return stop.value
        finally:
            budget.depth -= 1
            self.nesting -= _CLOSURE_NESTING
            self.version, self.recording, self.at = saved

    def call_library(self, qualified: str, args: Sequence[Any], node_id: NodeId) -> Any:
        result = self.library_value(qualified, args, node_id)
        if type(result) in _FAILED and not self.preview and failed_call_stops(self.version):
            lib = LIBRARY.get(qualified)
            if lib is None or lib.pure:
                return result
            # A failing impure call stops the run (language version 2): never discarded.
            failure = failed_impure_call(lib, tuple(args), result, node_id)
            self.record(node_id, failure)
            raise EvaluationStopped(failure)
        return result

    def library_value(self, qualified: str, args: Sequence[Any], node_id: NodeId) -> Any:
        """What a library call gives (an error value, not a stop, whatever it is)."""
        lib = LIBRARY.get(qualified)
        if lib is None:
            return ErrorValue(f"unknown function {qualified}", node_id)
        if len(args) != len(lib.params):
            return ErrorValue(
                f"{qualified} takes {len(lib.params)} argument(s) but was given {len(args)}",
                node_id)
        if not lib.accepts_special:
            special = first_special(list(args))
            if special is not None:
                return special
        for param, arg in zip(lib.params, args, strict=True):
            if is_special(arg):
                continue  # only reaches here for a function that accepts specials
            if value_fits(arg, param.type, self.program, deep=False) is not None:
                return ErrorValue(
                    f"{qualified} expects {type_phrase(param.type, self.program)} "
                    f"for {param.name}, got {describe_value(arg)}", node_id)
        call_args = tuple(args)
        if not lib.pure and self.preview:
            return Incomplete(node_id)
        if lib.pure or self.impure is None:
            result = self.run_library(lib, call_args, node_id)
        else:
            replayed, result = self.impure.replay(qualified, call_args)
            if not replayed:
                refusal = self.impure.refuse_unrecorded
                if refusal:
                    return ErrorValue(f"{qualified} is impure: {refusal}", node_id)
                result = self.run_library(lib, call_args, node_id)
            self.impure.append(qualified, call_args, result)
        if qualified in BUILDERS or self.budget.deadline is not None:
            return after_library_call(self.budget, lib, call_args, result, node_id)
        return result

    def run_library(self, lib: LibFunction, args: tuple[Any, ...], node_id: NodeId) -> Any:
        self.nesting += _LIBRARY_NESTING
        try:
            flag = self.flags[-1] if self.flags else ""
            return lib.impl(LibraryCallContext(self, node_id, self.host, flag, lib.qualified),
                            *args)
        except Escape as escape:
            return escape.value
        except LibError as problem:
            return ErrorValue(str(problem), node_id)
        except RecursionError:
            return ErrorValue(
                f"{lib.qualified} gave up: the code or a value is nested too deeply", node_id)
        except Exception as exc:  # a bug in a library function must not take the handler down
            return ErrorValue(
                f"internal error in {lib.qualified}: {type(exc).__name__}: {exc}", node_id)
        finally:
            self.nesting -= _LIBRARY_NESTING


# ------------------------------------------------------- failed impure calls

#: From this language version on, an impure library call (a datastore read or
#: write, an emit, a random number, the clock: `LibFunction.pure` is False)
#: that fails stops the run at that call, so its failure reaches the answer and
#: the trace however its value was used (`let _ = DB::set ...` included).
#: "Fails" means: it gave an error value (an argument of the wrong type, the
#: library refused), or it could not run because an argument is an error or
#: unfinished. Before this version such a call's error is an ordinary value,
#: which a discarded binding drops without a trace.
FAILED_CALLS_STOP_FROM = 2

_FAILED = (ErrorValue, Incomplete)


def failed_call_stops(language_version: int) -> bool:
    """Whether a failing impure call stops the run in this language version."""
    return language_version >= FAILED_CALLS_STOP_FROM


def failed_impure_call(lib: LibFunction, args: tuple[Any, ...], value: Any,
                       node_id: NodeId | None) -> ErrorValue:
    """The error a run stops with when the impure call `node_id` of `lib` gave `value`
    (an error or an unfinished value): it names the call, says why and what to do.
    The compiled path stops with the same value (`CompiledRun.call_impure`)."""
    name = lib.qualified
    bad = next(((p.name, a) for p, a in zip(lib.params, args, strict=False) if a is value), None)
    if bad is not None:
        param, arg = bad
        if isinstance(arg, Incomplete):
            why = (f"its argument {param} is unfinished"
                   + (f" (node {arg.node_id})" if arg.node_id is not None else "")
                   + ". Fill in what it needs")
        else:
            why = f"its argument {param} is an error: {arg.message}. Fix that first"
        reason = f"{name} did not run, so the run stopped there: {why}"
    elif isinstance(value, Incomplete):
        reason = (f"{name} gave an unfinished value, so the run stopped there. "
                  "Finish the code it calls back")
    else:
        reason = (f"{name} failed, so the run stopped there: {value.message.rstrip('.')}. "
                  f"Give {name} what it expects")
    return ErrorValue(f"{reason}; nothing after the call ran (a failing call to "
                      "data or another effect is never skipped silently).", node_id)


# --------------------------------------------------------- recursion limit

#: The Python recursion limit evaluations run under. Evaluation is recursive
#: over the tree; the evaluator's own counters (`Budget.max_depth`, a nesting
#: limit) stop it well before this, so RecursionError is only a last resort.
EVAL_RECURSION_LIMIT = 12_000

_limit_lock = threading.Lock()
_active = 0
_saved_limit = 0


class _Headroom:
    """`with recursion_headroom():` (a class rather than a generator: every run of
    compiled code enters it, and a generator's context manager costs a microsecond)."""

    def __enter__(self) -> None:
        global _active, _saved_limit
        with _limit_lock:
            if _active == 0:
                _saved_limit = sys.getrecursionlimit()
                if _saved_limit < EVAL_RECURSION_LIMIT:
                    sys.setrecursionlimit(EVAL_RECURSION_LIMIT)
            _active += 1

    def __exit__(self, *exc: object) -> None:
        global _active
        with _limit_lock:
            _active -= 1
            if _active == 0 and sys.getrecursionlimit() == EVAL_RECURSION_LIMIT:
                sys.setrecursionlimit(_saved_limit)


_HEADROOM = _Headroom()


def recursion_headroom() -> _Headroom:
    """Run with at least `EVAL_RECURSION_LIMIT`; the last evaluation to end restores the limit."""
    return _HEADROOM


def closure_call_refused(fn: Any, args: tuple[Any, ...], node_id: NodeId | None) -> Any:
    """What calling `fn` with `args` gives without running it (not a function, the
    wrong number of arguments, an argument that is itself a hole or an error), or None
    when the closure must run. The compiled path asks the same question."""
    if not isinstance(fn, Closure):
        return ErrorValue(f"expected a function to call, got {describe_value(fn)}", node_id)
    if len(fn.params) != len(args):
        return ErrorValue(
            f"this function takes {len(fn.params)} argument(s) but was given {len(args)}",
            node_id)
    return first_special(args)
