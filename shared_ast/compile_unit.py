"""One compiled unit: a toplevel and every user function it reaches, as one Python namespace.

`compile_unit` gathers the functions to generate (the toplevel, then each
user function a call names, once), has `compile_gen._Body` write each body,
wraps user functions in the checks a call node makes (arity is checked
where they are called; the shapes of the arguments here, the reference
evaluator's `Machine.call_function`), compiles the source with `compile()`
and returns the entry points with the table of compiled lambdas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from shared_ast.compile_gen import _ENTER, _FAST_FITS, MAX_HEIGHT, CompileError, _Body
from shared_ast.compile_run import Fallback, LambdaCode, RailExit
from shared_ast.eval_context import Budget
from shared_ast.evaluator import _Machine, _onto_rail
from shared_ast.nodes import Expr
from shared_ast.patterns import match_pattern
from shared_ast.program import Program
from shared_ast.stdlib.registry import INT_MAX, INT_MIN
from shared_ast.toplevels import Handler, Toplevel, UserFunction
from shared_ast.traverse import children
from shared_ast.type_ast import TInt, TUnknown, TVar
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

    def __init__(self, program: Program) -> None:
        self.program = program
        self.machine = _Machine(program, Budget(), None, None, 0)
        self.ns: dict[str, Any] = {
            "RailExit": RailExit, "FB": Fallback, "ER": ErrorRail, "EV": ErrorValue,
            "SPECIALS": frozenset(SPECIAL_TYPES), "first_special": first_special,
            "Closure": Closure, "FD": FrozenDict, "Variant": Variant,
            "describe_value": describe_value, "match_pattern": match_pattern,
            "onto_rail": _onto_rail, "IMIN": INT_MIN, "IMAX": INT_MAX,
        }
        self.source: list[str] = []
        self.constants: dict[int, str] = {}
        self.functions: dict[tuple[int, int], str] = {}
        self.todo: list[UserFunction] = []
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

    def function(self, fn: UserFunction) -> str:
        """The name of the checked-call wrapper of `fn`, compiling it later if new."""
        key = (fn.fn_id, fn.version)
        name = self.functions.get(key)
        if name is None:
            name = f"call_{fn.fn_id}_{fn.version}"
            self.functions[key] = name
            self.todo.append(fn)
        return name

    def emit_function(self, fn: UserFunction, tag: str) -> None:
        """`call_<tag>` (a call node's checks, then the body) and, for the toplevel, `run_top`.

        Both hold the body (one Python call per Gloam call); both count the call's depth.
        """
        params = [f"a{i}" for i in range(len(fn.params))]
        scope = {p.name: var for p, var in zip(fn.params, params, strict=True)}
        self.measure(fn.body)
        fits = tuple(None if isinstance(p.type, TUnknown | TVar) else (
            p.type, f"{fn.qualified} expects {type_phrase(p.type, self.program)} "
                     f"for {p.name}, got ") for p in fn.params)
        fast = [_FAST_FITS.get(type(p.type)) for p in fn.params]
        checks: list[str] = []
        if params:
            # Shapes that surely fit need no more; otherwise the reference's checks, in order.
            slow = (f"e = R.check_call(({''.join(p + ', ' for p in params)}), "
                    f"{self.const(fits)}, nid)")
            tests = [f.format(v=p) for f, p in zip(fast, params, strict=True) if f is not None]
            if len(tests) == len(params):
                checks = [f"if not ({' and '.join(tests)}):", f"    {slow}",
                          "    if e is not None:", "        return e"]
            else:
                checks = [slow, "if e is not None:", "    return e"]
        # Only the toplevel itself is ever run without a call node's checks.
        variants = [(f"call_{tag}", checks), (f"run_{tag}", [])] if tag == "top" else [
            (f"call_{tag}", checks)]
        for name, prologue in variants:
            body = _Body(self, fn.language_version)
            if prologue:
                # Past the checks, an Int parameter holds an Int (value_fits, shallow).
                body.ints = {var for p, var in zip(fn.params, params, strict=True)
                             if isinstance(p.type, TInt)}
            nid = ", nid" if name.startswith("call_") else ""
            body.emit_def(name, ["R", *params], fn.body, scope,
                          [*prologue, "B = R.budget", *_ENTER], nid=nid)

    def build(self, tl: Toplevel, inputs: tuple[str, ...]) -> Unit:
        call_entry: str | None = None
        if isinstance(tl, Handler):
            params = [f"a{i}" for i in range(len(inputs))]
            self.measure(tl.body)
            _Body(self, tl.language_version).emit_def(
                "entry", ["R", *params], tl.body, dict(zip(inputs, params, strict=True)))
            entry = "entry"
        elif isinstance(tl, UserFunction):
            # The toplevel itself, not the program's copy (they differ while it is edited).
            self.emit_function(tl, "top")
            call_entry, entry = "call_top", "run_top"
        else:
            raise CompileError("only handlers and functions run")
        while self.todo:
            fn = self.todo.pop()
            self.emit_function(fn, f"{fn.fn_id}_{fn.version}")
        code = compile("\n".join(self.source), f"<gloam toplevel {tl.tlid}>", "exec")
        exec(code, self.ns)
        lambdas = {id(body): (body, version, self.ns[name]) for body, version, name in self.lambdas}
        return Unit(self.ns[entry], self.ns[call_entry] if call_entry else None, lambdas,
                    self.height)


def compile_unit(tl: Toplevel, program: Program, inputs: tuple[str, ...]) -> Unit:
    """Compile `tl` (a handler bound to `inputs`, or a user function) and what it calls."""
    return UnitBuilder(program).build(tl, inputs)

