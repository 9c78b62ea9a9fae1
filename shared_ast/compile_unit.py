"""One compiled unit: a toplevel and every user function it reaches, as one Python namespace.

`compile_unit` gathers the functions to generate (the toplevel, then each
user function a call names, once), has `compile_gen.Body` write each body,
wraps user functions in the checks a call node makes (arity is checked
where they are called; the shapes of the arguments here, the reference
evaluator's `Machine.call_function`), compiles the source with `compile()`
and returns the entry points with the table of compiled lambdas.

A call whose arguments surely fit (Ints for Int parameters, say) calls the
function's `fast_` version, without the checks, and may rely on what the
function surely returns (an Int: no test of the result, no rail exit) and on
it being quiet (no effect in it or what it calls: its steps may be added
after it returns). That is guessed (from the declared return type; quiet),
then checked against the code generated: a wrong guess is weakened and the
unit generated again, until every guess holds. A guess that holds for every
body is safe: each call gives what its body gives, assuming what the calls
inside it give. One more round lets callers add the steps of a quiet
function's cheapest return (`Body.precharged`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from shared_ast.compile_gen import ENTER, FAST_FITS, MAX_HEIGHT, Body, CompileError
from shared_ast.compile_run import Fallback, LambdaCode, RailExit, is_option
from shared_ast.eval_context import Budget
from shared_ast.evaluator import Evaluator, onto_rail
from shared_ast.nodes import Expr
from shared_ast.patterns import match_pattern
from shared_ast.program import Program
from shared_ast.stdlib.registry import INT_MAX, INT_MIN
from shared_ast.toplevels import Handler, Toplevel, UserFunction
from shared_ast.traverse import children
from shared_ast.type_ast import TBool, TInt, TUnknown, TVar
from shared_ast.value_types import describe_value, type_phrase
from shared_ast.values import (
    SPECIAL_TYPES,
    Closure,
    ErrorRail,
    ErrorValue,
    FrozenDict,
    Variant,
    first_special,
)

__all__ = ["Unit", "UnitBuilder", "compile_unit"]


#: What a function's fast version surely gives ("int", "bool", "any") and whether it is quiet.
Guess = tuple[str, bool]


@attrs.frozen
class Unit:
    """The compiled functions of one toplevel and of what it reaches."""

    entry: Callable[..., Any]
    call_entry: Callable[..., Any] | None
    lambdas: dict[int, LambdaCode]
    height: int


def _height(root: Expr) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((c, depth + 1) for c in children(node))
    return deepest


class UnitBuilder:
    """The namespace and source of one unit, filled function by function."""

    def __init__(self, program: Program, guesses: dict[tuple[int, int], Guess] | None = None,
                 costs: dict[tuple[int, int], int] | None = None) -> None:
        self.program = program
        #: What a function's fast version gives, assumed by its callers, and what it gave.
        self.guesses = guesses if guesses is not None else {}
        self.gave: dict[tuple[int, int], Guess] = {}
        #: Steps a call of a quiet fast function adds before it runs (`Body.precharged`),
        #: and the fewest steps each fast function's returns counted.
        self.costs = costs if costs is not None else {}
        self.least: dict[tuple[int, int], int] = {}
        self.machine = Evaluator(program, Budget(), None, None, 0)
        self.ns: dict[str, Any] = {
            "RailExit": RailExit, "FB": Fallback, "ER": ErrorRail, "EV": ErrorValue,
            "SPECIALS": frozenset(SPECIAL_TYPES), "first_special": first_special,
            "Closure": Closure, "FD": FrozenDict, "Variant": Variant,
            "describe_value": describe_value, "match_pattern": match_pattern,
            "onto_rail": onto_rail, "IMIN": INT_MIN, "IMAX": INT_MAX, "is_option": is_option,
        }
        self.source: list[str] = []
        self.constants: dict[int, str] = {}
        self.functions: dict[tuple[int, int, bool], str] = {}
        self.todo: list[tuple[UserFunction, bool]] = []
        self.lambdas: list[tuple[Expr, int, str]] = []
        self.height = 0
        self.count = 0

    def const(self, value: Any) -> str:
        """A namespace name holding `value` (kept alive by the namespace)."""
        name = self.constants.get(id(value))
        if name is not None and self.ns[name] is value:
            return name
        self.count += 1
        name = f"K{self.count}"
        self.ns[name] = value
        self.constants[id(value)] = name
        return name

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def measure(self, body: Expr) -> None:
        self.height = max(self.height, _height(body))
        if self.height > MAX_HEIGHT:
            raise CompileError(f"an expression nested {self.height} deep")

    def function(self, fn: UserFunction, fast: bool = False) -> str:
        """The name of the checked-call wrapper of `fn` (or its fast version), compiled later."""
        key = (fn.fn_id, fn.version, fast)
        name = self.functions.get(key)
        if name is None:
            name = f"{'fast' if fast else 'call'}_{fn.fn_id}_{fn.version}"
            self.functions[key] = name
            self.todo.append((fn, fast))
        return name

    def fast_function(self, fn: UserFunction) -> tuple[str, str, bool, int]:
        """The fast version of `fn` (its arguments surely fit), what it surely gives,
        whether it is quiet (`Body.quiet`, it and all it calls), and the steps a call
        adds before it runs (`Body.precharged`)."""
        key = (fn.fn_id, fn.version)
        guess = self.guesses.get(key)
        if guess is None:
            guess = self.guesses[key] = (
                "int" if isinstance(fn.return_type, TInt) else
                "bool" if isinstance(fn.return_type, TBool) else "any", True)
        return self.function(fn, fast=True), *guess, self.precharge(key)

    def precharge(self, key: tuple[int, int]) -> int:
        """Steps a call adds for the function: only for one quiet and sure of its result,
        so that its returns, which count that many less, are the only ways out of it."""
        kind, quiet = self.guesses[key]
        return self.costs.get(key, 0) if quiet and kind != "any" else 0

    def emit_function(self, fn: UserFunction, tag: str, fast: bool = False) -> None:
        """`call_<tag>` (a call node's checks, then the body) and, for the toplevel, `run_top`;
        or `fast_<tag>` (called with arguments that surely fit: no checks).

        Each holds the body (one Python call per Gloam call); each tests the call's depth.
        """
        params = [f"a{i}" for i in range(len(fn.params))]
        scope = {p.name: var for p, var in zip(fn.params, params, strict=True)}
        self.measure(fn.body)
        fits = tuple(None if isinstance(p.type, TUnknown | TVar) else (
            p.type, f"{fn.qualified} expects {type_phrase(p.type, self.program)} "
                     f"for {p.name}, got ") for p in fn.params)
        quick = [f"{FAST_FITS[TInt]} and {INT_MIN} <= {{v}} <= {INT_MAX}"
                 if isinstance(p.type, TInt) else FAST_FITS.get(type(p.type))
                 for p in fn.params]
        checks: list[str] = []
        if params:
            # Shapes that surely fit need no more; otherwise the reference's checks, in order.
            slow = (f"e = R.check_call(({''.join(p + ', ' for p in params)}), "
                    f"{self.const(fits)}, nid)")
            tests = [f.format(v=p) for f, p in zip(quick, params, strict=True) if f is not None]
            # The body takes an Int parameter for an Int of 64 bits (compile_gen's `ints`);
            # a longer one, which only a handler's input could bring, is the reference's.
            wide = [f"{p} > {INT_MAX} or {p} < {INT_MIN}"
                    for p, param in zip(params, fn.params, strict=True)
                    if isinstance(param.type, TInt)]
            refuse = [f"if {' or '.join(wide)}:", "    raise FB()"] if wide else []
            if len(tests) == len(params):
                checks = [f"if not ({' and '.join(tests)}):", f"    {slow}",
                          "    if e is not None:", "        return e",
                          *("    " + line for line in refuse)]
            else:
                checks = [slow, "if e is not None:", "    return e", *refuse]
        # Only the toplevel itself is ever run without a call node's checks.
        variants: list[tuple[str, list[str] | None]] = [(f"call_{tag}", checks)]
        if tag == "top":
            variants.append((f"run_{tag}", None))
        if fast:
            variants = [(f"fast_{tag}", [])]
        for name, prologue in variants:
            body = Body(self, fn.language_version)
            if prologue is not None:
                # Past the checks (or called with fitting arguments), an Int parameter
                # holds an Int, a Bool parameter a Bool (value_fits, shallow).
                body.ints = {var for p, var in zip(fn.params, params, strict=True)
                             if isinstance(p.type, TInt)}
                body.bools = {var for p, var in zip(fn.params, params, strict=True)
                              if isinstance(p.type, TBool)}
            nid = ", nid" if name.startswith("call_") else ""
            if fast:
                self.fast_function(fn)  # its guess, if no call has made it yet
                body.precharged = self.precharge((fn.fn_id, fn.version))
            gives = body.emit_def(name, ["R", "r", *params], fn.body, scope,
                                  [*(prologue or []), *ENTER], nid=nid)
            if fast:
                self.gave[(fn.fn_id, fn.version)] = (gives, body.quiet())
                if body.least is not None:
                    self.least[(fn.fn_id, fn.version)] = body.least

    def generate(self, tl: Toplevel, inputs: tuple[str, ...]) -> tuple[str, str | None]:
        """Generate the source of `tl` and what it reaches; the names of its entry points."""
        call_entry: str | None = None
        if isinstance(tl, Handler):
            params = [f"a{i}" for i in range(len(inputs))]
            self.measure(tl.body)
            Body(self, tl.language_version).emit_def(
                "entry", ["R", "r", *params], tl.body, dict(zip(inputs, params, strict=True)))
            entry = "entry"
        elif isinstance(tl, UserFunction):
            # The toplevel itself, not the program's copy (they differ while it is edited).
            self.emit_function(tl, "top")
            call_entry, entry = "call_top", "run_top"
        else:
            raise CompileError("only handlers and functions run")
        while self.todo:
            fn, fast = self.todo.pop()
            self.emit_function(fn, f"{fn.fn_id}_{fn.version}", fast)
        return entry, call_entry

    def corrected_guesses(self) -> dict[tuple[int, int], Guess]:
        """The guesses that assumed more than the code gives, made no more than it gives."""
        wrong = {}
        for key, (kind, quiet) in self.guesses.items():
            gave_kind, gave_quiet = self.gave.get(key, (kind, quiet))
            fixed = (kind if gave_kind == kind else "any", quiet and gave_quiet)
            if fixed != (kind, quiet):
                wrong[key] = fixed
        return wrong

    def finish(self, tl: Toplevel, entry: str, call_entry: str | None) -> Unit:
        code = compile("\n".join(self.source), f"<gloam toplevel {tl.tlid}>", "exec")
        exec(code, self.ns)
        lambdas = {id(body): (body, version, self.ns[name]) for body, version, name in self.lambdas}
        return Unit(self.ns[entry], self.ns[call_entry] if call_entry else None, lambdas,
                    self.height)


def generate_unit(tl: Toplevel, program: Program, inputs: tuple[str, ...]
                  ) -> tuple[UnitBuilder, str, str | None]:
    """The source of `tl` and what it reaches, once every guess of a result holds."""
    guesses: dict[tuple[int, int], Guess] = {}
    costs: dict[tuple[int, int], int] | None = None
    while True:
        builder = UnitBuilder(program, guesses, costs)
        entry, call_entry = builder.generate(tl, inputs)
        wrong = builder.corrected_guesses()
        if not wrong and costs is None and builder.least:
            # Once: its cheapest return free of steps (fib's base case), callers adding
            # them instead, where they add their own anyway. Any cost is exact, as
            # callers and body agree on it; this one saves the most additions.
            costs = dict(builder.least)
            continue
        if not wrong:
            return builder, entry, call_entry
        # Each round takes something from a guess, never gives: there are few rounds.
        guesses = {**builder.guesses, **wrong}


def compile_unit(tl: Toplevel, program: Program, inputs: tuple[str, ...]) -> Unit:
    """Compile `tl` (a handler bound to `inputs`, or a user function) and what it calls."""
    builder, entry, call_entry = generate_unit(tl, program, inputs)
    return builder.finish(tl, entry, call_entry)

