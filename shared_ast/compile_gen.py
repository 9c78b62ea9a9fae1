"""The code generator of the fast path: one Gloam body to the source of one Python `def`.

`_Body` generates each node kind to do exactly what the reference
evaluator's rule for it does when no live values are recorded; the rules
are repeated here in the order the reference applies them, so read the two
side by side. `compile_unit` decides which bodies to generate and compiles
them; `compile_loops` generates list loops over lambdas in place.
Conventions of the generated code:

- every body function takes the run (`R`, a `compile_run.CompiledRun`)
  first; `B` is its budget and `MS` the step limit;
- each node's value is a local temporary or a constant of the namespace;
- steps: `_Body.pending` counts the nodes generated since the last flush,
  and a flush (`B.steps += n`, then the limit test) is emitted before every
  branch, call, return and rail exit, so the count is exact where observed;
- an `ErrorRail` raises `RailExit`, caught at the end of its body (its value)
  or of a flag condition (an unfinished condition: old code runs).

A construct it cannot generate raises `CompileError`; the caller then runs
the reference evaluator for the whole toplevel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared_ast.compile_loops import inline_loop
from shared_ast.evaluator import _BUILTIN_CASES, literal_rules
from shared_ast.nodes import (
    EBool,
    ECall,
    EConstructor,
    EField,
    EFlag,
    EFloat,
    EHole,
    EIf,
    EInfix,
    EInt,
    ELambda,
    ELet,
    EList,
    EMatch,
    ENull,
    EPartial,
    EPipe,
    EPipeTarget,
    ERecord,
    ERightPartial,
    EString,
    EVariable,
    Expr,
    LibFnRef,
    PVariable,
    PWildcard,
)
from shared_ast.operators import OPERATORS
from shared_ast.patterns import pattern_variables
from shared_ast.stdlib.registry import INT_MAX, INT_MIN, LIBRARY, LibFunction
from shared_ast.type_ast import (
    TBool,
    TDict,
    TFloat,
    TInt,
    TList,
    TString,
    TUnknown,
    TVar,
)
from shared_ast.value_types import type_phrase
from shared_ast.values import (
    ErrorValue,
    Incomplete,
    Variant,
)

if TYPE_CHECKING:
    from shared_ast.compile_unit import UnitBuilder

__all__ = ["MAX_HEIGHT", "CompileError", "Scope"]

#: Deeper trees are left to the reference evaluator (its nesting limit would apply).
MAX_HEIGHT = 1000
#: Python refuses blocks nested much deeper than this.
MAX_INDENT = 90

# Library functions on two Ints inlined as a Python operator; True: the result is range-checked.
_INLINE_INT_OPS: dict[str, tuple[str, bool]] = {
    "Int::add_v0": ("+", True),
    "Int::subtract_v0": ("-", True),
    "Int::multiply_v0": ("*", True),
    "Int::mod_v0": ("%", False),
    "Int::lessThan_v0": ("<", False),
    "Int::greaterThan_v0": (">", False),
    "Int::lessThanOrEqualTo_v0": ("<=", False),
    "Int::greaterThanOrEqualTo_v0": (">=", False),
}

# A type test that implies `value_fits(v, t, deep=False) is None` (shallow fits).
_FAST_FITS: dict[type, str] = {
    TInt: "type({v}) is int",
    TFloat: "type({v}) is float",
    TBool: "type({v}) is bool",
    TString: "type({v}) is str",
    TList: "type({v}) is tuple",
    TDict: "type({v}) is FD",
}


#: Entering a call: past the depth limit the reference evaluator decides (see compiler).
_ENTER = ["if B.depth >= R.depth_limit:", "    raise FB()", "B.depth += 1"]


class CompileError(Exception):
    """The toplevel holds something the generator does not handle."""


Scope = dict[str, str]


class _Body:
    """The source of one Python function: a toplevel body, a user function's, or a lambda's."""

    def __init__(self, unit: UnitBuilder, version: int) -> None:
        self.unit = unit
        self.version = version
        self.lines: list[str] = []
        self.indent = 1
        self.pending = 0
        #: Loops generated in place (compile_loops) around what is being generated.
        self.loops = 0
        #: Variables known to hold an Int (parameters of type Int, past a call's checks).
        self.ints: set[str] = set()
        rules = literal_rules(version)
        self.list_items = unit.const(rules.list_items)
        self.record_fields = unit.const(rules.record_fields)

    # ------------------------------------------------------------- emitting

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def block(self, header: str) -> _Block:
        return _Block(self, header)

    def flush(self, check: bool = True) -> None:
        """Add the steps counted since the last flush to the budget, and test the limit.

        The test may be left out where nothing but pure computation follows until the
        next test: before a call (an effect) the limit is always tested, and a run is
        tested once more at its end (compiler.Compiled), so a spent budget is never missed.
        """
        if self.pending:
            self.emit(f"B.steps += {self.pending}")
            if check:
                self.emit("if B.steps > MS:")
                self.emit("    raise FB()")
            self.pending = 0

    def rail_check(self, var: str) -> None:
        """A value from a call may be a rail exit: raise it (with the steps so far)."""
        with self.block(f"if type({var}) is ER:"):
            if self.pending:
                self.emit(f"B.steps += {self.pending}")
            self.emit(f"raise RailExit({var})")

    def tmp(self) -> str:
        return self.unit.fresh("t")

    def named(self, value: str) -> str:
        """`value` as a variable, so that `is` tests never compare with a literal."""
        return value if value.isidentifier() and value != "None" else self.assign(value)

    def const(self, value: Any) -> str:
        if type(value) is int or type(value) is bool or value is None:
            return repr(value)
        return self.unit.const(value)

    def emit_def(self, name: str, params: list[str], body: Expr, scope: Scope,
                 prologue: list[str] | None = None, nid: str = "") -> None:
        """`def name(params)`: the body's value, a rail exit's value if it leaves.

        With a prologue (a user function's checks and depth), the depth is undone on return.
        """
        for line in prologue or ["B = R.budget"]:
            self.emit(line)
        leave = ["B.depth -= 1"] if prologue else []
        self.emit("MS = B.max_steps")
        self.emit("try:")
        self.indent += 1
        result = self.expr(body, scope, None)
        self.flush(check=False)
        for line in leave:
            self.emit(line)
        self.emit(f"return {result}")
        self.indent -= 1
        self.emit("except RailExit as x:")
        for line in leave:
            self.emit("    " + line)
        self.emit("    return x.value")
        self.unit.source += [f"def {name}({', '.join(params)}{nid}):", *self.lines, ""]

    # ------------------------------------------------------------ expressions

    def expr(self, e: Expr, scope: Scope, pipe: str | None) -> str:
        """Generate `e`; the Python expression (a name) that holds its value."""
        self.pending += 1
        match e:
            case EHole():
                return self.const(Incomplete(e.id))
            case EInt() | EFloat() | EString() | EBool():
                return self.const(e.value)
            case ENull():
                return "None"
            case EPartial():
                return self.expr(e.old, scope, pipe)
            case ERightPartial():
                return self.expr(e.left, scope, pipe)
            case EVariable():
                found = scope.get(e.name)
                if found is not None:
                    return found
                datastore = self.unit.machine.datastore_named(e.name)
                if datastore is None:
                    return self.const(ErrorValue(f"unbound variable {e.name}", e.id))
                return self.const(datastore)
            case EPipeTarget():
                return pipe if pipe is not None else self.const(Incomplete(e.id))
            case ELet():
                rhs = self.expr(e.rhs, scope, pipe)
                return self.expr(e.body, {**scope, e.name: rhs}, pipe)
            case EList():
                items = [self.expr(item, scope, pipe) for item in e.items]
                return self.assign(f"{self.list_items}([{', '.join(items)}])")
            case ERecord():
                values = [self.expr(f.value, scope, pipe) for f in e.fields]
                entries = ", ".join(f"({self.const(f.name)}, {v})"
                                    for f, v in zip(e.fields, values, strict=True))
                return self.assign(f"{self.record_fields}([{entries}])")
            case EField():
                return self.field(e, scope, pipe)
            case EIf():
                return self.if_(e, scope, pipe)
            case ELambda():
                return self.lambda_(e, scope)
            case ECall():
                return self.call(e, scope, pipe)
            case EInfix():
                return self.infix(e, scope, pipe)
            case EPipe():
                return self.pipe(e, scope, pipe)
            case EMatch():
                return self.match(e, scope, pipe)
            case EConstructor():
                return self.constructor(e, scope, pipe)
            case EFlag():
                return self.flag(e, scope, pipe)
        raise CompileError(f"cannot compile a {type(e).__name__}")

    def assign(self, code: str) -> str:
        var = self.tmp()
        self.emit(f"{var} = {code}")
        return var

    def field(self, e: EField, scope: Scope, pipe: str | None) -> str:
        record = self.named(self.expr(e.record, scope, pipe))
        name = self.const(e.field)
        out = self.tmp()
        with self.block(f"if type({record}) is FD and {name} in {record}._d:"):
            self.emit(f"{out} = {record}._d[{name}]")
        with self.block("else:"):
            self.emit(f"{out} = R.field({record}, {name}, {e.id})")
        return out

    def branches(self, out: str, arms: list[tuple[str, Callable[[], str]]]) -> str:
        """An if/elif chain, each arm assigning `out` with its own steps flushed at its end.

        The steps counted before the chain are carried into every arm (their tests are
        pure), so an arm flushes them with its own: one addition fewer on each path.
        """
        before = self.pending
        for header, arm in arms:
            self.pending = before
            with self.block(header):
                self.emit(f"{out} = {arm()}")
                self.flush(check=False)
        self.pending = 0
        return out

    def if_(self, e: EIf, scope: Scope, pipe: str | None) -> str:
        cond = self.named(self.expr(e.cond, scope, pipe))
        message = self.const("an if needs a Bool condition, got ")
        return self.branches(self.tmp(), [
            (f"if {cond} is True:", lambda: self.expr(e.then, scope, pipe)),
            (f"elif {cond} is False:", lambda: self.expr(e.else_, scope, pipe)),
            (f"elif type({cond}) in SPECIALS:", lambda: cond),
            ("else:", lambda: f"EV({message} + describe_value({cond}), {e.id})"),
        ])

    def lambda_(self, e: ELambda, scope: Scope) -> str:
        name = self.unit.fresh("lam")
        params = [f"a{i}" for i in range(len(e.params))]
        inner: Scope = {n: f"D[{self.unit.const(n)}]" for n in scope}
        inner.update((p.name, var) for p, var in zip(e.params, params, strict=True))
        _Body(self.unit, self.version).emit_def(name, ["R", "D", *params], e.body, inner,
                                                ["B = R.budget", *_ENTER])
        self.unit.lambdas.append((e.body, self.version, name))
        names = self.const(tuple(p.name for p in e.params))
        env = ", ".join(f"{self.const(n)}: {v}" for n, v in scope.items())
        return self.assign(f"Closure({names}, {self.const(e.body)}, FD({{{env}}}), "
                           f"{self.version})")

    # ------------------------------------------------------------------ calls

    def call(self, e: ECall, scope: Scope, pipe: str | None) -> str:
        looped = inline_loop(self, e, scope, pipe)
        if looped is not None:
            return looped
        args = [self.expr(a, scope, pipe) for a in e.args]
        fn = e.fn
        if isinstance(fn, LibFnRef):
            name = fn.qualified
            out = self.library(name, args, e.id)
        else:
            user_fn = self.unit.program.function(fn)
            if user_fn is None:
                return self.const(ErrorValue(
                    f"unknown function (function #{fn.fn_id}, version {fn.version})", e.id))
            name = user_fn.qualified
            if len(args) != len(user_fn.params):  # call_ wrappers have the arity built in
                out = self.const(ErrorValue(
                    f"{name} takes {len(user_fn.params)} argument(s) but was given {len(args)}",
                    e.id))
            else:
                wrapper = self.unit.function(user_fn)
                self.flush()
                out = self.assign(f"{wrapper}(R{''.join(', ' + a for a in args)}, {e.id})")
                self.rail_check(out)
        if e.on_rail:
            out = self.assign(f"onto_rail({out}, {self.const(name)}, {e.id})")
            self.rail_check(out)
        return out

    def library(self, name: str, args: list[str], node_id: int) -> str:
        lib = LIBRARY.get(name)
        if lib is None:
            return self.const(ErrorValue(f"unknown function {name}", node_id))
        if len(args) != len(lib.params):
            return self.const(ErrorValue(
                f"{name} takes {len(lib.params)} argument(s) but was given {len(args)}",
                node_id))
        inline = _INLINE_INT_OPS.get(name)
        if inline is not None and all(isinstance(p.type, TInt) for p in lib.params):
            return self.int_op(lib, inline, args, node_id)
        self.flush()
        out = self.assign(self.slow_library(lib, args, node_id))
        self.rail_check(out)
        return out

    def slow_library(self, lib: LibFunction, args: list[str], node_id: int) -> str:
        fits = tuple(None if isinstance(p.type, TUnknown | TVar)
                     else (p.type, type_phrase(p.type, self.unit.program)) for p in lib.params)
        arg_tuple = "(" + "".join(a + ", " for a in args) + ")"
        return f"R.call_library({self.const(lib)}, {arg_tuple}, {node_id}, {self.const(fits)})"

    def int_op(self, lib: LibFunction, inline: tuple[str, bool], args: list[str],
               node_id: int) -> str:
        # Pure and calls nothing back: its slow path needs no flush of the steps.
        op, checked = inline
        a, b = args
        out = self.tmp()
        # A literal Int needs no test (`const` spells Ints as digits, an optional minus first).
        tests = [f"type({v}) is int" for v in args
                 if not v.lstrip("-").isdigit() and v not in self.ints]
        if op == "%":
            tests.append(f"{b} > 0")  # the modulus must be positive: the slow path says so
        if tests:
            self.emit(f"if {' and '.join(tests)}:")
            self.indent += 1
        self.emit(f"{out} = {a} {op} {b}")
        if checked:
            with self.block(f"if not ({INT_MIN} <= {out} <= {INT_MAX}):"):
                self.emit(f"{out} = {self.slow_library(lib, args, node_id)}")
        if tests:
            self.indent -= 1
            with self.block("else:"):
                self.emit(f"{out} = {self.slow_library(lib, args, node_id)}")
        return out

    def infix(self, e: EInfix, scope: Scope, pipe: str | None) -> str:
        if e.op in ("&&", "||"):
            return self.short_circuit(e, scope, pipe)
        left = self.expr(e.left, scope, pipe)
        right = self.expr(e.right, scope, pipe)
        op = OPERATORS.get(e.op)
        if op is None:
            return self.const(ErrorValue(f"unknown operator {e.op}", e.id))
        if op.lib_fn is not None:
            return self.library(op.lib_fn, [left, right], e.id)
        if e.op not in ("==", "!="):
            return self.assign(f"first_special(({left}, {right})) or "
                               f"EV({self.const(f'the operator {e.op} has no meaning yet')}, "
                               f"{e.id})")
        out = self.tmp()
        fast = f"type({left}) is type({right}) and type({left}) in (int, str, bool)"
        if right.lstrip("-").isdigit():  # an Int literal: only an Int can equal it
            fast = f"type({left}) is int"
        with self.block(f"if {fast}:"):
            self.emit(f"{out} = {left} {e.op} {right}")
        with self.block("else:"):
            self.emit(f"{out} = R.equality({self.const(e.op)}, {left}, {right}, {e.id})")
        return out

    def short_circuit(self, e: EInfix, scope: Scope, pipe: str | None) -> str:
        decisive = e.op == "||"
        left = self.named(self.expr(e.left, scope, pipe))
        out = self.tmp()
        on_right = self.const(f"{e.op} needs a Bool on its right, got ")
        on_left = self.const(f"{e.op} needs a Bool on its left, got ")

        def right() -> str:
            value = self.expr(e.right, scope, pipe)
            checked = self.tmp()
            with self.block(f"if type({value}) is bool or type({value}) in SPECIALS:"):
                self.emit(f"{checked} = {value}")
            with self.block("else:"):
                self.emit(f"{checked} = EV({on_right} + describe_value({value}), {e.id})")
            return checked

        return self.branches(out, [
            (f"if {left} is {decisive}:", lambda: left),
            (f"elif type({left}) is bool:", right),
            (f"elif type({left}) in SPECIALS:", lambda: left),
            ("else:", lambda: f"EV({on_left} + describe_value({left}), {e.id})"),
        ])

    def pipe(self, e: EPipe, scope: Scope, pipe: str | None) -> str:
        value = self.expr(e.head, scope, pipe)
        for step in e.steps:
            if isinstance(step, EHole):
                continue  # a step still to be written passes its input on, unevaluated
            result = self.expr(step, scope, value)
            if not self.unit.machine.step_uses_target(step):
                self.flush()
                applied = self.tmp()
                with self.block(f"if type({result}) is Closure:"):
                    self.emit(f"{applied} = R.apply_function({result}, ({value},), {step.id})")
                    self.rail_check(applied)
                with self.block("else:"):
                    self.emit(f"{applied} = {result}")
                result = applied
            value = result
        return value

    def match(self, e: EMatch, scope: Scope, pipe: str | None) -> str:
        scrutinee = self.expr(e.scrutinee, scope, pipe)
        out = self.tmp()
        self.flush(check=False)
        with self.block(f"if type({scrutinee}) in SPECIALS:"):
            self.emit(f"{out} = {scrutinee}")
        depth = 0
        for arm in e.arms:
            pattern = arm.pattern
            inner = dict(scope)
            if isinstance(pattern, PVariable | PWildcard):
                header = "else:"
                if isinstance(pattern, PVariable):
                    inner[pattern.name] = scrutinee
            else:
                self.emit("else:")
                self.indent += 1
                depth += 1
                found = self.assign(f"match_pattern({self.const(pattern)}, {scrutinee})")
                header = f"if {found} is not None:"
                for i, var in enumerate(pattern_variables(pattern)):
                    inner[var.name] = f"{found}[{i}][1]"
            with self.block(header):
                self.emit(f"{out} = {self.expr(arm.body, inner, pipe)}")
                self.flush(check=False)
            if header == "else:":
                break
        else:
            with self.block("else:"):
                self.emit(f"{out} = {self.const(Incomplete(e.id))}")
        self.indent -= depth
        return out

    def constructor(self, e: EConstructor, scope: Scope, pipe: str | None) -> str:
        args = [self.expr(a, scope, pipe) for a in e.args]
        type_name = None
        if e.type_ref is None and e.name in _BUILTIN_CASES:
            arity = _BUILTIN_CASES[e.name]
        else:
            resolved = self.unit.machine.enum_case(e)
            if isinstance(resolved, ErrorValue):
                return self.const(resolved)
            type_name, arity = resolved
        if len(args) != arity:
            return self.const(ErrorValue(
                f"{e.name} takes {arity} argument(s) but was given {len(args)}", e.id))
        if not args:
            return self.const(Variant(e.name, (), type_name))
        arg_tuple = "(" + "".join(a + ", " for a in args) + ")"
        return self.assign(f"first_special({arg_tuple}) or Variant({self.const(e.name)}, "
                           f"{arg_tuple}, {self.const(type_name)})")

    def flag(self, e: EFlag, scope: Scope, pipe: str | None) -> str:
        name = self.const(e.name)
        cond = self.tmp()
        self.flush()
        self.emit(f"R.flags.append({name})")
        with self.block("try:"):
            self.emit(f"{cond} = {self.expr(e.cond, scope, pipe)}")
            self.flush(check=False)
        with self.block("except RailExit as x:"):
            self.emit(f"{cond} = x.value")
        self.emit("R.flags.pop()")
        self.emit(f"R.decided.append(({e.id}, {name}, {cond} is True))")
        return self.branches(self.tmp(), [
            (f"if {cond} is True:", lambda: self.expr(e.new, scope, pipe)),
            ("else:", lambda: self.expr(e.old, scope, pipe)),
        ])


class _Block:
    """`with body.block("if x:"):` emits the header and indents what is emitted inside."""

    def __init__(self, body: _Body, header: str) -> None:
        self.body = body
        self.header = header

    def __enter__(self) -> None:
        self.body.emit(self.header)
        self.body.indent += 1
        if self.body.indent > MAX_INDENT:
            raise CompileError("blocks nested too deeply for Python")

    def __exit__(self, *exc: object) -> None:
        self.body.indent -= 1
