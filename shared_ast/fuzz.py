"""Fuzzing from types: inputs generated from a function's parameter types, run, and
the ones that end badly shrunk to a smallest example.

`strategy_for(type, program)` is a Hypothesis strategy of the values of a type:
Ints with their edges (0, ±1, the 64-bit bounds), Floats with NaN, the infinities
and -0.0, unicode Strings (empty, combining marks, emoji, right-to-left, long),
Bools, Null, Lists (empty and long), Dicts, records, Options, Results, user
records and enums (through the program; recursive ones bottom out), and for `?`
a mix of them. Every value it draws fits its type (`value_types.value_fits`).
The fuzzed code's own literals (`Literals`: its Strings, Floats, and Ints with their
neighbours, and those of the functions it calls) are drawn as often as the edges, so
`if name == "admin"` or `if n == 4242` is reached, which random inputs never do.

`fuzz_function(fn, program)` calls a user function with drawn arguments and
reports the inputs whose result is an error, incomplete code (a hole), a run
limit, or a value sent to the error rail. Hypothesis generates and shrinks: each
distinct failure (the node that failed, and how) is shrunk to a smallest input,
so "String::toInt of the input, on the error rail" comes back as `""`, not as
the first 40-character string that happened to fail. (Hypothesis stops looking soon
after a first failure; the fuzz then goes round again with the failures found so far
counted as known, until a round finds nothing new.) A fuzz is bounded by a number of
examples and by time, and can be stopped (`stop`); its Hypothesis database is off (it
keeps nothing of its own on disk; `keep_files_in` says where Hypothesis's caches go);
it is the same for the same seed, given the time to run its examples (a time bound
that cuts it short cuts it where the machine's speed says).

`fuzz_handler(handler, program)` does the same for an HTTP handler: its route
parameters are Strings (non-empty, without "/", as a path segment gives them).
A request body has no declared type in Gloam; the body is typed here when the
handler passes `request.body` straight to a user function's parameter (that
parameter's type), else it is any JSON value (what the runtime parses a JSON
body into).

For a handler, a `Nothing` sent to the error rail is an answer (404, "not found"), not
a failure; an `Error` on the rail (500) is one.

A fuzz run never touches the world: impure library calls (datastores, queues, random
numbers, the clock) give an error value, as in a test (`testing.REFUSED_IMPURE`), and
are reported as what they are. Runs are pure Python and safe in a worker thread.

`keep_as_test(found, ...)` writes a failure as a `Test` toplevel,
`Test::expect (fn <the input>) <hole>`: the programmer fills in what it should give.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import HypothesisException

from shared_ast import build, traverse
from shared_ast.eval_context import Budget, ImpureLog
from shared_ast.evaluator import call_user_function, run_toplevel
from shared_ast.names import test_name_problem
from shared_ast.nodes import (
    ECall,
    EField,
    EFloat,
    EInt,
    EString,
    EVariable,
    Expr,
    UserFnRef,
)
from shared_ast.program import Program
from shared_ast.stdlib.registry import INT_MAX, INT_MIN
from shared_ast.testing import REFUSED_IMPURE
from shared_ast.toplevels import EnumDef, Handler, HttpSpec, Pos, RecordDef, Test, UserFunction
from shared_ast.trace_tests import value_expr
from shared_ast.type_ast import (
    TBool,
    TChar,
    TDatastore,
    TDate,
    TDict,
    TFloat,
    TFn,
    TInt,
    TList,
    TNull,
    TOption,
    TRecord,
    TResponse,
    TResult,
    TString,
    TUnknown,
    TUser,
    TUuid,
    TVar,
    Type,
    show_type,
)
from shared_ast.values import (
    NOTHING,
    Char,
    ErrorRail,
    ErrorValue,
    FrozenDict,
    Incomplete,
    Response,
    Variant,
    error,
    just,
    ok,
    show,
)

__all__ = [
    "ERROR",
    "INCOMPLETE",
    "LIMIT",
    "RAIL",
    "Failure",
    "FuzzReport",
    "Literals",
    "Unfuzzable",
    "fuzz_function",
    "fuzz_handler",
    "fuzz_target",
    "fuzzable_problem",
    "input_literal",
    "keep_as_test",
    "keep_files_in",
    "label_of",
    "strategy_for",
]

#: How a run ended badly.
ERROR = "error"
INCOMPLETE = "incomplete"
LIMIT = "limit"
RAIL = "error rail"

#: Nesting below which containers are drawn empty and recursive user types take their
#: cases without a user type in them, so that every draw ends.
MAX_DEPTH = 4
#: The limits of one run of the fuzzed code: much less than a request's, so that a
#: runaway input is found (as a limit) without spending the fuzz's time on it.
RUN_STEPS = 200_000
RUN_SECONDS = 0.25

_INT_EDGES = (0, 1, -1, INT_MAX, INT_MIN, 2, -2, 255, 256, 2**31 - 1, -(2**31), 2**53)
_FLOAT_EDGES = (0.0, -0.0, 1.0, -1.0, 0.5, math.nan, math.inf, -math.inf, 1e308, 5e-324)
#: Empty, a digit, spaces, a combining mark (e + U+0301), emoji (with a ZWJ sequence and a
#: flag), right-to-left text, a NUL, a line break, quotes: what breaks string code.
_STRING_EDGES = ("", "a", "0", "-1", " ", "e\u0301", "👩‍💻", "🇫🇷", "שלום", "日本語", "\x00",
                 "a\nb", "\"'", "A" * 300)
_CHARS = ("a", "Z", "0", " ", "e\u0301", "👍", "🇫🇷", "日")


#: Hypothesis's characters() without surrogates: a String is valid unicode.
_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)


class Unfuzzable(ValueError):
    """No inputs can be generated for this type or toplevel (the message says why)."""


def keep_files_in(folder: str | Path) -> None:
    """Where Hypothesis keeps its caches (its unicode tables, the constants it reads from
    loaded modules): by default `.hypothesis` in the working folder, which is the
    programmer's business, not the editor's. The editor calls this once at start with
    its cache folder. (The fuzz's example database is off either way.)"""
    set_hypothesis_home_dir(Path(folder))


# ------------------------------------------------------------------ strategies


def strategy_for(tp: Type, program: Program | None = None, depth: int = 0,
                 literals: Literals | None = None) -> st.SearchStrategy[Any]:
    """The values of `tp`: drawn at random or among the edges, half and half, and the
    fuzzed code's own `literals` among the edges. (The random draw is the first choice,
    which Hypothesis shrinks towards: a failure past 1000 shrinks to 1001, not to the
    first edge past it.) Raises Unfuzzable for a type whose
    values cannot be made (a function, a datastore)."""
    program = program if program is not None else Program()
    return _Strategies(program, literals or Literals()).of(tp, depth)


@attrs.frozen
class Literals:
    """The Int, Float and String literals of the fuzzed code: an input equal to one (or an
    Int next to one) is where code compares, so they are drawn as often as the edges."""

    ints: tuple[int, ...] = ()
    floats: tuple[float, ...] = ()
    strings: tuple[str, ...] = ()

    @classmethod
    def of(cls, tl: UserFunction | Handler, program: Program) -> Literals:
        """The literals of `tl` and of the user functions it calls, transitively."""
        ints: dict[int, None] = {}
        floats: dict[float, None] = {}
        strings: dict[str, None] = {}
        seen: set[int] = set()
        todo: list[Expr] = [tl.body]
        while todo:
            for node in traverse.walk(todo.pop()):
                match node:
                    case EInt(value=n):
                        ints.update(dict.fromkeys(v for v in (n, n - 1, n + 1)
                                                  if INT_MIN <= v <= INT_MAX))
                    case EFloat(value=x):
                        floats[x] = None
                    case EString(value=s):
                        strings[s] = None
                    case ECall(fn=UserFnRef() as ref):
                        fn = program.function(ref)
                        if fn is not None and fn.tlid not in seen:
                            seen.add(fn.tlid)
                            todo.append(fn.body)
        return cls(tuple(ints)[:_MAX_LITERALS], tuple(floats)[:_MAX_LITERALS],
                   tuple(strings)[:_MAX_LITERALS])


#: The most literals of each kind taken from the code.
_MAX_LITERALS = 64


class _Strategies:
    def __init__(self, program: Program, literals: Literals) -> None:
        self.program = program
        self.names = program.type_names()
        self.literals = literals

    def of(self, tp: Type, depth: int) -> st.SearchStrategy[Any]:
        deeper = depth + 1
        bottom = depth >= MAX_DEPTH
        match tp:
            case TInt():
                return st.one_of(st.integers(min_value=INT_MIN, max_value=INT_MAX),
                                 st.sampled_from(_INT_EDGES + self.literals.ints))
            case TFloat():
                return st.one_of(st.floats(),
                                 st.sampled_from(_FLOAT_EDGES + self.literals.floats))
            case TBool():
                return st.booleans()
            case TString():
                return _strings(not bottom, self.literals.strings)
            case TChar():
                return st.one_of(st.sampled_from(_CHARS),
                                 st.characters(exclude_categories=_SURROGATES)).map(Char)
            case TNull():
                return st.none()
            case TDate():
                return st.datetimes(min_value=_dt.datetime(1900, 1, 1),
                                    max_value=_dt.datetime(2200, 1, 1),
                                    timezones=st.just(_dt.UTC))
            case TUuid():
                return st.uuids()
            case TResponse():
                return st.builds(Response, st.sampled_from((200, 201, 204, 400, 404, 500)),
                                 _strings(long=False))
            case TList(elem=elem):
                if bottom:
                    return st.just(())
                inner = self.of(elem, deeper)
                short = st.lists(inner, max_size=6)
                if depth > 0:
                    return short.map(tuple)
                return st.one_of(short, st.lists(inner, min_size=40, max_size=120)).map(tuple)
            case TDict(value=elem):
                if bottom:
                    return st.just(FrozenDict())
                return st.dictionaries(_strings(long=False), self.of(elem, deeper),
                                       max_size=5).map(FrozenDict.owning)
            case TOption(inner=inner):
                if bottom:
                    return st.just(NOTHING)
                return st.one_of(st.just(NOTHING), self.of(inner, deeper).map(just))
            case TResult(ok=ok_type, error=error_type):
                return st.one_of(self.of(ok_type, deeper).map(ok),
                                 self.of(error_type, deeper).map(error))
            case TRecord(fields=fields):
                return self.record({f.name: f.type for f in fields}, deeper)
            case TUser(type_id=type_id, version=version):
                return self.user(tp, type_id, version, depth)
            case TUnknown() | TVar():
                return self.mix(depth)
            case TFn():
                raise Unfuzzable(f"no inputs can be made for a function parameter "
                                 f"({show_type(tp, self.names)}): fuzz the functions it is "
                                 "given instead")
            case TDatastore():
                raise Unfuzzable("no inputs can be made for a datastore parameter: a fuzz "
                                 "never touches datastores; fuzz the code that computes rows")
        raise Unfuzzable(f"no inputs can be made for {show_type(tp, self.names)}")

    def record(self, fields: Mapping[str, Type], depth: int) -> st.SearchStrategy[Any]:
        return st.fixed_dictionaries({name: self.of(t, depth) for name, t in fields.items()}
                                     ).map(FrozenDict.owning)

    def user(self, tp: Type, type_id: int, version: int, depth: int) -> st.SearchStrategy[Any]:
        defined = self.program.type(type_id, version)
        if defined is None:
            raise Unfuzzable(f"the type {show_type(tp, self.names)} does not exist: fix the "
                             "parameter's type")
        definition = defined.definition
        if isinstance(definition, RecordDef):
            if depth >= 2 * MAX_DEPTH:
                raise Unfuzzable(f"{defined.name}_v{version} holds itself with no way to end "
                                 "(no List or Option between): no value of it can be made")
            return self.record({f.name: f.type for f in definition.fields}, depth + 1)
        if not isinstance(definition, EnumDef) or not definition.cases:
            raise Unfuzzable(f"{defined.name}_v{version} has no cases: no value of it exists")
        cases = definition.cases
        if depth >= MAX_DEPTH:
            # Deep enough: only the cases that need no user type, so the value ends.
            cases = tuple(c for c in cases if not any(_mentions_user(f.type) for f in c.fields)
                          ) or cases
        type_name = f"{defined.name}_v{defined.version}"
        options = [st.tuples(*(self.of(f.type, depth + 1) for f in case.fields)).map(
            _variant_maker(case.name, type_name)) for case in cases]
        return st.one_of(options)

    def mix(self, depth: int) -> st.SearchStrategy[Any]:
        """`?`: any value JSON can spell, and then some (the scalar edges)."""
        scalars = st.one_of(
            st.none(), st.booleans(), self.of(TInt(), depth), self.of(TFloat(), depth),
            self.of(TString(), depth))
        if depth >= MAX_DEPTH:
            return scalars
        return st.recursive(
            scalars,
            lambda inner: st.one_of(
                st.lists(inner, max_size=4).map(tuple),
                st.dictionaries(_strings(long=False), inner, max_size=4).map(FrozenDict.owning)),
            max_leaves=8)


def _variant_maker(name: str, type_name: str) -> Callable[[tuple[Any, ...]], Variant]:
    return lambda args: Variant(name, tuple(args), type_name)


def _strings(long: bool, literals: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    # Hypothesis's text() leaves out surrogates: every drawn String is valid unicode.
    drawn = st.text(max_size=20)
    if long:
        # Long Strings as a short one repeated: drawing 300 characters one by one would
        # cost the fuzz a tenth of its speed, for little that the repeat does not find.
        drawn = st.one_of(drawn, st.text(min_size=1, max_size=8).map(
            lambda s: s * (300 // len(s))))
    return st.one_of(drawn, st.sampled_from(_STRING_EDGES + literals))


def _mentions_user(tp: Type) -> bool:
    return any(isinstance(t, TUser) for t in _types_in(tp))


def _types_in(tp: Type) -> list[Type]:
    found = [tp]
    match tp:
        case TList(elem=inner) | TDict(value=inner) | TOption(inner=inner):
            found += _types_in(inner)
        case TResult(ok=a, error=b):
            found += _types_in(a) + _types_in(b)
        case TRecord(fields=fields):
            for f in fields:
                found += _types_in(f.type)
    return found


# ------------------------------------------------------------------ results


@attrs.frozen
class Failure:
    """One distinct way the code failed, with the smallest input found for it."""

    #: ERROR, INCOMPLETE, LIMIT or RAIL.
    kind: str
    #: What went wrong, for the smallest input.
    message: str
    #: Parameter (or route parameter, "request") name → the value, in parameter order.
    inputs: tuple[tuple[str, Any], ...]
    #: The node that failed (None when the run does not say).
    node_id: int | None
    #: How many generated inputs failed this way.
    count: int = 1

    def describe_inputs(self) -> str:
        return ", ".join(f"{name} = {show(value, 120)}" for name, value in self.inputs)

    def describe(self) -> str:
        return f"{self.describe_inputs()}: {self.kind}: {self.message}"


@attrs.frozen
class FuzzReport:
    """What one fuzz found: its failures (in the order found), and how much it ran."""

    tlid: int
    #: "parseAge" or "GET /users/:id".
    label: str
    failures: tuple[Failure, ...]
    examples: int
    seconds: float
    #: Whether it stopped at its time limit before running all its examples.
    timed_out: bool
    seed: int
    #: Whether its caller stopped it (a newer fuzz superseded it).
    stopped: bool = False

    def summary(self) -> str:
        ran = f"{self.examples} inputs in {self.seconds:.1f} s"
        cut = " (stopped at its time limit)" if self.timed_out else ""
        if not self.failures:
            return f"Fuzzed {self.label}: no failure in {ran}{cut}."
        return (f"Fuzzed {self.label}: {len(self.failures)} distinct failure(s) in {ran}{cut}; "
                f"first: {self.failures[0].describe()}")


def _judge(value: Any) -> tuple[str, str, int | None] | None:
    """(kind, message, node) for a result that is a failure, else None."""
    if isinstance(value, Incomplete):
        return INCOMPLETE, "the code has holes: fill them to run it", value.node_id
    if isinstance(value, ErrorRail):
        return RAIL, f"went off the error rail with {show(value.value, 200)}", value.node_id
    if isinstance(value, ErrorValue):
        kind = LIMIT if value.message.startswith("Stopped") else ERROR
        return kind, value.message, value.node_id
    return None


# ------------------------------------------------------------------ the engine


class _Found(Exception):
    """Raised for Hypothesis to shrink one failure; a class per distinct failure (made in
    `_Engine.failure_class`), since Hypothesis tells failures apart by exception type."""


class _TimeUp(BaseException):
    """The fuzz's time is up: Hypothesis lets a BaseException end its run at once."""


def _size(value: Any) -> int:
    """How big an input is, to keep the smallest of those failing the same way."""
    if isinstance(value, str):
        return 1 + len(value)
    if isinstance(value, tuple):
        return 1 + sum(_size(v) for v in value)
    if isinstance(value, FrozenDict):
        return 1 + sum(_size(v) for v in value.values())
    if isinstance(value, Variant):
        return 1 + sum(_size(v) for v in value.args)
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int):
        return 1 + abs(value).bit_length()
    if isinstance(value, float):
        return 2 if value in (0.0, 1.0) else 3 + len(repr(value))
    return 2


class _Engine:
    def __init__(self, run: Callable[[tuple[Any, ...], Budget], Any], names: Sequence[str],
                 time_limit: float, max_examples: int, seed: int,
                 stop: Callable[[], bool] | None = None) -> None:
        self.run = run
        self.stop = stop
        self.stopped = False
        self.names = tuple(names)
        self.time_limit = time_limit
        self.max_examples = max_examples
        self.seed = seed
        self.examples = 0
        self.deadline = 0.0
        self.timed_out = False
        #: key → (size, the failure) for the smallest input seen failing that way.
        self.found: dict[tuple[Any, ...], tuple[int, Failure]] = {}
        self.order: list[tuple[Any, ...]] = []
        self.classes: dict[tuple[Any, ...], type[_Found]] = {}
        #: Failures found in earlier rounds: kept, no longer raised.
        self.known: set[tuple[Any, ...]] = set()

    def failure_class(self, key: tuple[Any, ...]) -> type[_Found]:
        cls = self.classes.get(key)
        if cls is None:
            cls = self.classes[key] = type(f"_Found{len(self.classes)}", (_Found,), {})
        return cls

    def one(self, args: tuple[Any, ...]) -> None:
        if not self.deadline:
            # From the first input: Hypothesis's first use in a process loads its tables.
            self.deadline = time.monotonic() + self.time_limit
        if self.stop is not None and self.stop():
            self.stopped = True
            raise _TimeUp
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.timed_out = True
            raise _TimeUp
        self.examples += 1
        budget = Budget(max_steps=RUN_STEPS, time_limit=min(RUN_SECONDS, left))
        judged = _judge(self.run(args, budget))
        if judged is None:
            return
        kind, message, node = judged
        # The node that failed and how tell failures apart; a message quotes the input.
        key: tuple[Any, ...] = (kind, node) if node is not None else (kind, message)
        failure = Failure(kind, message, tuple(zip(self.names, args, strict=True)), node)
        size = _size(args)
        kept = self.found.get(key)
        if kept is None:
            self.order.append(key)
            self.found[key] = (size, failure)
        else:
            count = kept[1].count + 1
            # While Hypothesis shrinks a failure it tries only inputs simpler than its best,
            # so of two inputs of one size the later is the simpler; once shrunk (known,
            # a later round's), only a smaller input replaces it.
            smaller = size < kept[0] or (size == kept[0] and key not in self.known)
            best = failure if smaller else kept[1]
            self.found[key] = (min(size, kept[0]), attrs.evolve(best, count=count))
        if key not in self.known:
            raise self.failure_class(key)(message)

    def go(self, strategies: Sequence[st.SearchStrategy[Any]]) -> tuple[Failure, ...]:
        """Rounds of Hypothesis: each shrinks the failures it finds and stops soon after the
        first; the next round treats those as known (kept smaller, not raised) and looks
        for others, until a round finds nothing new or the examples or time run out."""
        round_ = 0
        while self.examples < self.max_examples and not (self.timed_out or self.stopped):
            self.known = set(self.found)
            config = settings(
                database=None, max_examples=self.max_examples - self.examples, deadline=None,
                report_multiple_bugs=True, verbosity=Verbosity.quiet,
                phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck),
                print_blob=False)

            @hypothesis_seed(self.seed + round_)
            @config
            @given(st.tuples(*strategies))
            def fuzz(args: tuple[Any, ...]) -> None:
                self.one(args)

            # What was found is in self.found, each input the smallest seen.
            with contextlib.suppress(_Found, _TimeUp, ExceptionGroup, HypothesisException):
                fuzz()
            if set(self.found) == self.known:
                break
            round_ += 1
        return tuple(self.found[k][1] for k in self.order)


def _refusing_log() -> ImpureLog:
    return ImpureLog((), refuse_unrecorded=REFUSED_IMPURE.replace("a test", "a fuzz run"))


def fuzzable_problem(tl: Any, program: Program) -> str | None:
    """None when `tl` can be fuzzed, else why not and what to do."""
    if isinstance(tl, UserFunction):
        if not tl.params:
            return (f"{tl.shown} has no parameters: there is nothing to generate; "
                    "run it instead (Ctrl+Return)")
        if all(isinstance(p.type, TUnknown) for p in tl.params):
            return (f"{tl.shown}'s parameters have no types: give them types in its header, "
                    "then fuzz it")
        try:
            for p in tl.params:
                strategy_for(p.type, program)
        except Unfuzzable as e:
            return f"{tl.shown} cannot be fuzzed: {e}"
        return None
    if isinstance(tl, Handler):
        if not isinstance(tl.spec, HttpSpec):
            return ("only functions and HTTP handlers are fuzzed (from their parameter "
                    "types); put the caret in one")
        return None
    return "only functions and HTTP handlers are fuzzed; put the caret in one"


def fuzz_function(fn: UserFunction, program: Program, *, time_limit: float = 1.0,
                  max_examples: int = 200, seed: int = 0,
                  stop: Callable[[], bool] | None = None) -> FuzzReport:
    """Call `fn` with inputs drawn from its parameter types (`?` ones draw a mix); report
    the distinct failures, each with the smallest input found. Raises Unfuzzable."""
    problem = fuzzable_problem(fn, program)
    if problem is not None:
        raise Unfuzzable(problem)
    literals = Literals.of(fn, program)
    strategies = [strategy_for(p.type, program, literals=literals) for p in fn.params]

    def run(args: tuple[Any, ...], budget: Budget) -> Any:
        return call_user_function(fn, args, program, budget=budget, impure=_refusing_log())

    return _fuzz(fn.tlid, fn.shown, run, [p.name for p in fn.params], strategies,
                 time_limit, max_examples, seed, stop)


def fuzz_handler(handler: Handler, program: Program, *, time_limit: float = 1.0,
                 max_examples: int = 200, seed: int = 0,
                 stop: Callable[[], bool] | None = None) -> FuzzReport:
    """Run an HTTP handler on drawn route parameters (Strings) and a drawn request body
    (typed as described in the module docstring). Raises Unfuzzable."""
    problem = fuzzable_problem(handler, program)
    if problem is not None or not isinstance(handler.spec, HttpSpec):
        raise Unfuzzable(problem or "only HTTP handlers are fuzzed")
    spec = handler.spec
    params = spec.route_params()
    literals = Literals.of(handler, program)
    segment = st.one_of(st.sampled_from(("0", "a", "-1", "é", "👍", " ", *(
                            s for s in literals.strings if s and not set(s) & set("/?#")))),
                        st.text(st.characters(exclude_categories=_SURROGATES,
                                              exclude_characters="/?#"), min_size=1,
                                max_size=30))
    body_type = body_type_of(handler, program)
    body = strategy_for(body_type, program, literals=literals)

    def request(path: str, body_value: Any) -> FrozenDict:
        return FrozenDict(method=spec.method, path=path, body=body_value, query=FrozenDict(),
                          headers=FrozenDict())

    def run(args: tuple[Any, ...], budget: Budget) -> Any:
        values = dict(zip(params, args, strict=False))
        inputs = {"request": request(route_path(spec.route, values), args[-1]), **values}
        value = run_toplevel(handler, inputs, program, budget=budget, impure=_refusing_log())
        if isinstance(value, ErrorRail) and value.value == NOTHING:
            return None  # a Nothing on the rail is the handler's 404: an answer, not a failure
        return value

    return _fuzz(handler.tlid, label_of(handler), run, [*params, "request.body"],
                 [*(segment for _ in params), body], time_limit, max_examples, seed, stop)


def body_type_of(handler: Handler, program: Program) -> Type:
    """The request body's type: that of the user function parameter the handler passes
    `request.body` straight to, else `?` (any JSON value)."""
    for node in traverse.walk(handler.body):
        if not isinstance(node, ECall) or not isinstance(node.fn, UserFnRef):
            continue
        fn = program.function(node.fn)
        if fn is None:
            continue
        for arg, param in zip(node.args, fn.params, strict=False):
            if (isinstance(arg, EField) and arg.field == "body"
                    and isinstance(arg.record, EVariable) and arg.record.name == "request"):
                return param.type
    return TUnknown()


def route_path(route: str, values: Mapping[str, str]) -> str:
    """The path that gives these route parameters: `/users/:id` with id=7 → `/users/7`."""
    return "/".join(values.get(seg[1:], "") if seg.startswith(":") else seg
                    for seg in route.split("/"))


def label_of(tl: UserFunction | Handler) -> str:
    """`parseAge`, `GET /age/:n`: how reports name what they fuzzed."""
    if isinstance(tl, UserFunction):
        return tl.shown
    if isinstance(tl.spec, HttpSpec):
        return f"{tl.spec.method} {tl.spec.route}"
    return tl.spec.KIND


def fuzz_target(tl: Any, program: Program, **kw: Any) -> FuzzReport:
    """`fuzz_function` or `fuzz_handler`, whichever `tl` is. Raises Unfuzzable."""
    if isinstance(tl, Handler):
        return fuzz_handler(tl, program, **kw)
    if isinstance(tl, UserFunction):
        return fuzz_function(tl, program, **kw)
    raise Unfuzzable(fuzzable_problem(tl, program) or "this cannot be fuzzed")


def _fuzz(tlid: int, label: str, run: Callable[[tuple[Any, ...], Budget], Any],
          names: Sequence[str], strategies: Sequence[st.SearchStrategy[Any]],
          time_limit: float, max_examples: int, seed: int,
          stop: Callable[[], bool] | None) -> FuzzReport:
    started = time.monotonic()
    engine = _Engine(run, names, time_limit, max_examples, seed, stop)
    failures = engine.go(strategies)
    return FuzzReport(tlid, label, failures, engine.examples, time.monotonic() - started,
                      engine.timed_out, seed, engine.stopped)


# ------------------------------------------------------------------ keeping a failure


def input_literal(value: Any, program: Program | None = None) -> Expr | None:
    """A value as literal code, or None when code cannot write it (a closure, a UUID...)."""
    return value_expr(value, program)


def keep_as_test(failure: Failure, tl: UserFunction | Handler, program: Program,
                 pos: Pos) -> Test:
    """The failure as a test: `Test::expect (fn <input>) <hole>` (for a handler,
    `Test::http_v0 method path request`). Raises Unfuzzable when the input cannot be
    written as code (a NaN, a Char: the message says which)."""
    literals = []
    for name, value in failure.inputs:
        lit = input_literal(value, program)
        if lit is None:
            raise Unfuzzable(f"the input {name} = {show(value, 60)} cannot be written as code "
                             "(a NaN, an infinity, a Char, a Date or a UUID): write the test "
                             "by hand")
        literals.append(lit)
    if isinstance(tl, UserFunction):
        actual: Expr = build.user_call(tl, *literals)
        label = tl.shown
    else:
        assert isinstance(tl.spec, HttpSpec)
        values = {n: v for n, v in failure.inputs if n != "request.body"}
        path = route_path(tl.spec.route, values)
        request = build.record(("body", literals[-1]), ("query", build.record()),
                               ("headers", build.record()), ("path", build.str_(path)),
                               ("method", build.str_(tl.spec.method)))
        actual = build.call("Test::http_v0", tl.spec.method, path, request)
        label = f"{tl.spec.method} {path}"
    name = f"{label} of {failure.describe_inputs()}"[:100].replace("\n", " ")
    name = name.replace("\r", " ").replace("\0", " ")
    if test_name_problem(name) is not None:
        name = f"{label} fuzz case"
    return build.test(name, build.expect(actual, build.hole()), pos=pos)

