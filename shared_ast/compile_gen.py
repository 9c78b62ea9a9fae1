"""The code generator of the fast path: one Gloam body to the source of one Python `def`.

`Body` generates each node kind to do exactly what the reference
evaluator's rule for it does when no live values are recorded; the rules
are repeated here in the order the reference applies them, so read the two
side by side. `compile_unit` decides which bodies to generate and compiles
them; `compile_loops` generates list loops over lambdas in place.
Conventions of the generated code:

- every body function takes the run (`R`, a `compile_run.CompiledRun`)
  first, then `r`, how many calls may still nest inside it (a call passes
  `r - 1`; below 0 the reference's depth limit may apply: `Fallback`);
- each node's value is a local temporary, a constant of the namespace, or
  pure Int arithmetic written where it is used (`compile_ints`);
- steps: `Body.pending` counts the nodes generated since the last flush,
  and a flush (`R.steps += n`, then the limit test) is emitted before every
  effect, return and rail exit, so the count is exact where observed (a
  quiet call is not observed: see `compile_calls`); past `R.ms` the test
  calls `R.over(node)`, which stops the run at the step limit or deadline;
- what is known of a temporary (`IntFacts`: it surely holds an Int, a Bool)
  drops the tests that value would need; a user function's result is known
  when its body's is (`compile_unit` checks the guess);
- an `if` in tail position returns from each arm;
- an `ErrorRail` raises `RailExit`, caught at the end of its body (its value)
  or of a flag condition (an unfinished condition: old code runs).

A construct it cannot generate raises `CompileError`; the caller then runs
the reference evaluator for the whole toplevel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared_ast.compile_calls import FAST_FITS, CallCode
from shared_ast.compile_loops import inline_loop
from shared_ast.evaluator import BUILTIN_CASES, literal_rules
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
    PVariable,
    PWildcard,
)
from shared_ast.operators import OPERATORS
from shared_ast.patterns import pattern_variables
from shared_ast.values import (
    ErrorValue,
    Incomplete,
    Variant,
)

if TYPE_CHECKING:
    from shared_ast.compile_unit import UnitBuilder

__all__ = ["ENTER", "FAST_FITS", "MAX_HEIGHT", "Body", "CompileError", "Scope"]

#: Deeper trees are left to the reference evaluator (its nesting limit would apply).
MAX_HEIGHT = 1000
#: Python refuses blocks nested much deeper than this.
MAX_INDENT = 90

#: Entering a call: past the depth limit the reference evaluator decides (see compiler).
ENTER = ["if r < 0:", "    raise FB()"]


class CompileError(Exception):
    """The toplevel holds something the generator does not handle."""


Scope = dict[str, str]


class Body(CallCode):
    """The source of one Python function: a toplevel body, a user function's, or a lambda's."""

    def __init__(self, unit: UnitBuilder, version: int) -> None:
        super().__init__()
        self.unit = unit
        self.version = version
        self.lines: list[str] = []
        self.indent = 1
        self.pending = 0
        #: Loops generated in place (compile_loops) around what is being generated.
        self.loops = 0
        #: Whether this body may raise `RailExit` (then its value may be a rail exit).
        self.may_rail = False
        #: The variable holding how many calls may still nest here (see the module doc).
        self.depth = "r"
        #: Whether this body calls the library (but for inlined Int operations) or what may.
        self.effects = False
        #: A quiet call was made since the last test of the budget (see `user_call`).
        self.unchecked = False
        #: The node being generated gives the function's value (see `branches`).
        self.tail = False
        #: Steps its callers add for a call of this (fast) function, before it runs; its
        #: returns add what they counted less that (see `user_call`).
        self.precharged = 0
        #: The fewest steps a return counted (callers may add that many for a call).
        self.least: int | None = None
        #: Every path returned in place (tail position), none reaches the end of the body.
        self.ended = False
        #: The node last generated: where a stop found by a test of the steps points.
        self.at: int | None = None
        rules = literal_rules(version)
        self.list_items = unit.const(rules.list_items)
        self.record_fields = unit.const(rules.record_fields)
        self.plain_literals = rules.plain_literals

    # ------------------------------------------------------------- emitting

    def snapshot(self) -> tuple[Any, ...]:
        """What generating code changes here, to `restore` if that code is thrown away."""
        return (len(self.lines), self.indent, self.pending, self.loops, self.depth,
                self.may_rail, self.effects, self.unchecked, set(self.ints), set(self.bools),
                dict(self.bounds), dict(self.compares), dict(self.int_lists))

    def restore(self, saved: tuple[Any, ...]) -> None:
        (length, self.indent, self.pending, self.loops, self.depth, self.may_rail,
         self.effects, self.unchecked, self.ints, self.bools, self.bounds, self.compares,
         self.int_lists) = saved
        del self.lines[length:]

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def block(self, header: str) -> _Block:
        return _Block(self, header)

    def flush(self, check: bool = True) -> None:
        """Add the steps counted since the last flush to the budget, and test the limit.

        The test may be left out where nothing but pure computation follows until the
        next test: before an effect the limit is always tested, and a run is tested once
        more at its end (compiler.Compiled), so a spent budget is never missed. After a
        quiet call (`unchecked`) it is always made, so that a runaway stops in time.
        """
        if self.pending > 0:
            self.emit(f"R.steps += {self.pending}")
        elif self.pending < 0:
            self.emit(f"R.steps -= {-self.pending}")
        if (check and self.pending) or self.unchecked:
            self.check()
            self.unchecked = False
        self.pending = 0

    def check(self) -> None:
        """Test the steps: past `R.ms`, `R.over` stops at a limit or looks at the clock."""
        self.emit("if R.steps > R.ms:")
        self.emit(f"    R.over({self.at})")

    def flush_return(self) -> None:
        """The flush before a return: what the callers added (`precharged`) is not added again."""
        self.least = self.pending if self.least is None else min(self.least, self.pending)
        self.pending -= self.precharged
        self.flush(check=False)

    def rail_check(self, var: str) -> None:
        """A value from a call may be a rail exit: raise it (with the steps so far)."""
        self.may_rail = True
        with self.block(f"if type({var}) is ER:"):
            if self.pending:
                self.emit(f"R.steps += {self.pending}")
            self.emit(f"raise RailExit({var})")

    def tmp(self) -> str:
        return self.unit.fresh("t")

    def named(self, value: str) -> str:
        """`value` as a variable, so that `is` tests never compare with a literal."""
        if value.isidentifier() and value != "None":
            return value
        var = self.assign(value)
        self.know(var, value)
        return var

    def const(self, value: Any) -> str:
        if type(value) is int or type(value) is bool or value is None:
            return repr(value)
        return self.unit.const(value)

    def emit_def(self, name: str, params: list[str], body: Expr, scope: Scope,
                 prologue: list[str] | None = None, nid: str = "") -> str:
        """`def name(params)`: the body's value, a rail exit's value if it leaves.

        Returns what the function surely gives (`kind`): "any" if a rail exit may leave.
        """
        for line in prologue or []:
            self.emit(line)
        self.emit("try:")
        self.indent += 1
        self.tail = True
        result = self.expr(body, scope, None)
        if not self.ended:
            self.flush_return()
            self.emit(f"return {result}")
        self.indent -= 1
        self.emit("except RailExit as x:")
        self.emit("    return x.value")
        self.unit.source += [f"def {name}({', '.join(params)}{nid}):", *self.lines, ""]
        return "any" if self.may_rail else self.kind(result)

    def quiet(self) -> bool:
        """No effect can happen in this body: no library call (see `user_call`)."""
        return not self.effects

    # ------------------------------------------------------------ expressions

    def expr(self, e: Expr, scope: Scope, pipe: str | None) -> str:
        """Generate `e`; the Python expression (a name, or pure arithmetic) of its value."""
        self.pending += 1
        self.at = e.id
        tail, self.tail = self.tail, False
        match e:
            case EHole():
                return self.const(Incomplete(e.id))
            case EInt() | EFloat() | EString() | EBool():
                return self.const(e.value)
            case ENull():
                return "None"
            case EPartial():
                self.tail = tail
                return self.expr(e.old, scope, pipe)
            case ERightPartial():
                self.tail = tail
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
                self.tail = tail
                return self.expr(e.body, {**scope, e.name: rhs}, pipe)
            case EList():
                items = [self.expr(item, scope, pipe) for item in e.items]
                slow = f"{self.list_items}([{', '.join(items)}])"
                return self.assign(self.plain(f"({''.join(i + ', ' for i in items)})",
                                              items, slow))
            case ERecord():
                values = [self.expr(f.value, scope, pipe) for f in e.fields]
                entries = ", ".join(f"({self.const(f.name)}, {v})"
                                    for f, v in zip(e.fields, values, strict=True))
                slow = f"{self.record_fields}([{entries}])"
                if not all(f.name for f in e.fields):
                    return self.assign(slow)
                fields = ", ".join(f"{self.const(f.name)}: {v}"
                                   for f, v in zip(e.fields, values, strict=True))
                return self.assign(self.plain(f"FD.owning({{{fields}}})", values, slow))
            case EField():
                return self.field(e, scope, pipe)
            case EIf():
                return self.if_(e, scope, pipe, tail)
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

    def plain(self, built: str, parts: list[str], slow: str) -> str:
        """A literal's code: `built` (its parts as they are) when none of them is a special
        value (`LiteralRules.plain_literals`), else what the version's rule makes of it."""
        if not self.plain_literals:
            return slow
        tests = [f"type({p}) not in SPECIALS" for p in parts if self.kind(p) == "any"]
        return built if not tests else f"{built} if {' and '.join(tests)} else {slow}"

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

    def branches(self, out: str, arms: list[tuple[str, Callable[[], str]]],
                 tail: bool = False) -> str:
        """An if/elif chain, each arm assigning `out` with its own steps flushed at its end.

        The steps counted before the chain are carried into every arm (their tests are
        pure), so an arm flushes them with its own: one addition fewer on each path.
        In `tail` position (the value of the function) each arm returns its value instead.
        """
        before, unchecked = self.pending, self.unchecked
        kinds = set()
        for header, arm in arms:
            self.pending, self.unchecked = before, unchecked
            with self.block(header):
                self.tail = tail
                value = arm()
                kinds.add(self.kind(value))
                if tail:
                    self.flush_return()
                    self.emit(f"return {value}")
                else:
                    self.emit(f"{out} = {value}")
                    self.flush(check=False)
        self.pending, self.tail = 0, False
        self.ended = tail
        if kinds == {"int"}:
            self.ints.add(out)
        elif kinds == {"bool"}:
            self.bools.add(out)
        return out

    def if_(self, e: EIf, scope: Scope, pipe: str | None, tail: bool) -> str:
        cond = self.expr(e.cond, scope, pipe)
        if self.is_bool(cond):
            return self.branches(self.tmp(), [
                (f"if {cond}:", lambda: self.knowing(cond, True, e.then, scope, pipe)),
                ("else:", lambda: self.knowing(cond, False, e.else_, scope, pipe)),
            ], tail)
        cond = self.named(cond)
        message = self.const("an if needs a Bool condition, got ")
        return self.branches(self.tmp(), [
            (f"if {cond} is True:", lambda: self.expr(e.then, scope, pipe)),
            (f"elif {cond} is False:", lambda: self.expr(e.else_, scope, pipe)),
            (f"elif type({cond}) in SPECIALS:", lambda: cond),
            ("else:", lambda: f"EV({message} + describe_value({cond}), {e.id})"),
        ], tail)

    def knowing(self, cond: str, holds: bool, e: Expr, scope: Scope, pipe: str | None) -> str:
        """Generate `e` where `cond` is `holds` (see `IntFacts.refine`)."""
        saved = dict(self.bounds)
        self.refine(cond, holds)
        try:
            return self.expr(e, scope, pipe)
        finally:
            self.bounds = saved

    def lambda_(self, e: ELambda, scope: Scope) -> str:
        name = self.unit.fresh("lam")
        params = [f"a{i}" for i in range(len(e.params))]
        inner: Scope = {n: f"D[{self.unit.const(n)}]" for n in scope}
        inner.update((p.name, var) for p, var in zip(e.params, params, strict=True))
        Body(self.unit, self.version).emit_def(name, ["R", "r", "D", *params], e.body, inner,
                                                ENTER)
        self.unit.lambdas.append((e.body, self.version, name))
        names = self.const(tuple(p.name for p in e.params))
        env = ", ".join(f"{self.const(n)}: {v}" for n, v in scope.items())
        return self.assign(f"Closure({names}, {self.const(e.body)}, FD({{{env}}}), "
                           f"{self.version})")

    # ------------------------------------------------------------------ calls

    def loop(self, e: ECall, scope: Scope, pipe: str | None) -> str | None:
        return inline_loop(self, e, scope, pipe)

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
        if self.is_int(left) and self.is_int(right):
            self.bools.add(out)
            self.emit(f"{out} = {left} {e.op} {right}")
            return out
        fast = f"type({left}) is type({right}) and type({left}) in (int, str, bool)"
        if self.is_int(right):  # only an Int can equal an Int
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
                self.effects = True
                with self.block(f"if type({result}) is Closure:"):
                    self.emit(f"R.rem = {self.depth}")
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
        if e.type_ref is None and e.name in BUILTIN_CASES:
            arity = BUILTIN_CASES[e.name]
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
        # The reference decides once the condition's steps are spent: a budget spent in
        # the condition must stop the run here, before a decision it never made.
        self.at = e.id
        self.check()
        self.emit(f"R.decided.append(({e.id}, {name}, {cond} is True))")
        return self.branches(self.tmp(), [
            (f"if {cond} is True:", lambda: self.expr(e.new, scope, pipe)),
            ("else:", lambda: self.expr(e.old, scope, pipe)),
        ])


class _Block:
    """`with body.block("if x:"):` emits the header and indents what is emitted inside."""

    def __init__(self, body: Body, header: str) -> None:
        self.body = body
        self.header = header

    def __enter__(self) -> None:
        self.body.emit(self.header)
        self.body.indent += 1
        if self.body.indent > MAX_INDENT:
            raise CompileError("blocks nested too deeply for Python")

    def __exit__(self, *exc: object) -> None:
        self.body.indent -= 1
