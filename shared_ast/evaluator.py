"""The reference evaluator: what a Gloam expression means, one node kind at a time.

This tree-walking interpreter is the definition of the language at run time
(DESIGN.md "The language"); a faster compiled path must agree with it. It is
written for clarity first. It is *total*: `evaluate` returns a value for any
tree, however unfinished or wrong, and never raises.

- Unfinished code has a value: a hole is `Incomplete`, a call with an
  incomplete argument is incomplete, incompletes are dropped from list and
  record literals, a let binds an incomplete and runs its body.
- Errors are values (`ErrorValue`, pointing at the node that raised them);
  `ErrorRail` carries a `Nothing`/`Error` sent to the rail out of everything
  to the top, as an early exit of the handler.
- From language version 2, an impure library call that fails (or cannot run
  for an error or unfinished argument) stops the run at that call, so its
  error is never dropped with a discarded value (`Machine.call_library`,
  `eval_context.FAILED_CALLS_STOP_FROM`).
- Runaway code stops at its `Budget` (steps, call depth, time, the size of
  the values it builds: `shared_ast.limits`) with an error value.
- With `LiveValues`, every node's value is recorded (inside a lambda, per
  call: see `shared_ast.live`), and branches that did not run are previewed
  (`taken=False`) without any effect on the result:
  a preview runs no impure library function and enters no user function.

Language versions: each toplevel records the version it was written in, and
closures remember theirs. Rules that a later version may change are looked up
by version (`literal_rules`), so old code keeps its meaning.

Scoping of the pipe target: `EPipeTarget` is the value flowing into the pipe
step it is written in. It does not reach into a lambda's body (a closure does
not capture it); there, as outside any pipe, it is incomplete.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

import shared_ast.stdlib  # noqa: F401 - importing the package fills LIBRARY
from shared_ast.eval_context import (
    MAX_NESTING,
    NO_PIPE,
    Budget,
    Env,
    EvaluationStopped,
    ImpureLog,
    LiveValues,
    Machine,
)
from shared_ast.nodes import (
    EXPR_KINDS,
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
    MatchArm,
    NodeId,
)
from shared_ast.operators import OPERATORS
from shared_ast.patterns import match_pattern, pattern_values, pattern_variables
from shared_ast.program import Program
from shared_ast.toplevels import EnumDef, Handler, Toplevel, UserFunction, UserType
from shared_ast.traverse import children
from shared_ast.value_types import describe_value
from shared_ast.values import (
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

__all__ = [
    "BUILTIN_CASES",
    "MAX_NESTING",
    "Budget",
    "Evaluator",
    "ImpureLog",
    "LiteralRules",
    "LiveValues",
    "call_user_function",
    "evaluate",
    "literal_rules",
    "onto_rail",
    "run_toplevel",
]

# Built-in constructors and how many arguments each takes.
BUILTIN_CASES = {"Just": 1, "Nothing": 0, "Ok": 1, "Error": 1}


# ------------------------------------------------ rules keyed by language version


@attrs.frozen
class LiteralRules:
    """How list and record literals treat their parts, in one language version."""

    #: The element values → the list (a tuple), or the special value the literal is instead.
    list_items: Callable[[Sequence[Any]], Any]
    #: (field name, value) pairs → the record (a FrozenDict), or a special value.
    record_fields: Callable[[Sequence[tuple[str, Any]]], Any]
    #: A literal none of whose parts is a special value (and whose fields all have a
    #: name) is just its parts: the tuple of the items, the FrozenDict of the fields,
    #: the later of two fields with one name winning. The compiled code builds such a
    #: literal in place (`compile_gen`); a version whose rules differ there says False.
    plain_literals: bool = True


def _list_items_v0(values: Sequence[Any]) -> Any:
    # Version 0: an unfinished element is left out; an error or a rail exit is the list's value.
    kept = [v for v in values if not isinstance(v, Incomplete)]
    special = first_special(kept)
    return special if special is not None else tuple(kept)


def _record_fields_v0(entries: Sequence[tuple[str, Any]]) -> Any:
    # Version 0: as for lists; a field whose name is still blank is left out too,
    # and of two fields with one name the later wins.
    kept = [(name, v) for name, v in entries if name and not isinstance(v, Incomplete)]
    special = first_special([v for _, v in kept])
    return special if special is not None else FrozenDict.owning(dict(kept))


def _list_items_v1(values: Sequence[Any]) -> Any:
    # Version 1: an unfinished element makes the whole list unfinished, so a list
    # half typed is never sent with items silently missing.
    special = first_special(list(values))
    return special if special is not None else tuple(values)


_LITERAL_RULES: dict[int, LiteralRules] = {
    0: LiteralRules(_list_items_v0, _record_fields_v0),
    1: LiteralRules(_list_items_v1, _record_fields_v0),
}


def literal_rules(language_version: int) -> LiteralRules:
    """The rules of the newest version not newer than `language_version`."""
    rules = _LITERAL_RULES.get(language_version)
    if rules is not None:
        return rules
    known = [v for v in _LITERAL_RULES if v <= language_version]
    return _LITERAL_RULES[max(known) if known else min(_LITERAL_RULES)]


# --------------------------------------------------------------------- machine


class Evaluator(Machine):
    """The evaluation of one tree: the rule for each node kind, over `Machine`'s state and calls."""

    def __init__(
        self,
        program: Program | None,
        budget: Budget,
        live: LiveValues | None,
        impure: ImpureLog | None,
        language_version: int,
        host: Any = None,
    ) -> None:
        super().__init__(program, budget, live, impure, language_version, host)
        # id(step) → (step, whether it uses the pipe target); the node is kept to make the id safe.
        self._target_uses: dict[int, tuple[Expr, bool]] = {}

    def eval(self, e: Expr, env: Env, pipe: Any) -> Any:
        budget = self.budget
        budget.steps += 1
        if budget.steps > budget.check_at:  # the step limit, or time to look at the clock
            budget.checkpoint(e.id)
        if self.nesting >= MAX_NESTING:
            raise EvaluationStopped(ErrorValue(
                f"Stopped: expressions nested more than {MAX_NESTING} deep "
                "(counting the calls in between). Is there an infinite recursion?", e.id))
        kind = _DISPATCH.get(type(e))
        if kind is None:
            return ErrorValue(f"cannot evaluate a {type(e).__name__}", getattr(e, "id", None))
        self.nesting += 1
        try:
            value = kind(self, e, env, pipe)
        finally:
            self.nesting -= 1
        if self.recording and self.live is not None:
            self.live.record(e.id, value, not self.preview, self.at)
        return value

    def eval_all(self, exprs: Sequence[Expr], env: Env, pipe: Any) -> list[Any] | ErrorRail:
        """Evaluate in order; a rail exit stops at once (the rest is only previewed)."""
        values = []
        for i, e in enumerate(exprs):
            v = self.eval(e, env, pipe)
            if isinstance(v, ErrorRail):
                self.preview_all(exprs[i + 1:], env, pipe)
                return v
            values.append(v)
        return values

    def step_uses_target(self, step: Expr) -> bool:
        """Whether a pipe step uses this pipe's target (not a nested pipe's, nor in a lambda)."""
        cached = self._target_uses.get(id(step))
        if cached is not None and cached[0] is step:
            return cached[1]
        found = False
        stack: list[Any] = [step]
        while stack and not found:
            node = stack.pop()
            if isinstance(node, EPipeTarget):
                found = True
            elif isinstance(node, EPipe):
                stack.append(node.head)
            elif not isinstance(node, ELambda):
                stack.extend(children(node))
        self._target_uses[id(step)] = (step, found)
        return found

    # -------------------------------------------------------- node kinds

    def e_hole(self, e: EHole, env: Env, pipe: Any) -> Any:
        return Incomplete(e.id)

    def e_literal(self, e: EInt | EFloat | EString | EBool, env: Env, pipe: Any) -> Any:
        return e.value

    def e_null(self, e: ENull, env: Env, pipe: Any) -> Any:
        return None

    def e_list(self, e: EList, env: Env, pipe: Any) -> Any:
        values = self.eval_all(e.items, env, pipe)
        if isinstance(values, ErrorRail):
            return values
        return literal_rules(self.version).list_items(values)

    def e_record(self, e: ERecord, env: Env, pipe: Any) -> Any:
        values = self.eval_all([f.value for f in e.fields], env, pipe)
        if self.recording and self.live is not None:
            # A field node shows its value's value (taken or previewed, as that was).
            for f in e.fields:
                shown = self.live.get(f.value.id, self.at)
                if shown is not None:
                    self.live.record(f.id, shown.value, shown.taken, self.at)
        if isinstance(values, ErrorRail):
            return values
        entries = [(f.name, v) for f, v in zip(e.fields, values, strict=True)]
        return literal_rules(self.version).record_fields(entries)

    def e_variable(self, e: EVariable, env: Env, pipe: Any) -> Any:
        value = env.lookup(e.name)
        if value is not Env.MISSING:
            return value
        datastore = self.datastore_named(e.name)
        if datastore is None:
            return ErrorValue(f"unbound variable {e.name}", e.id)
        return datastore

    def e_let(self, e: ELet, env: Env, pipe: Any) -> Any:
        rhs = self.eval(e.rhs, env, pipe)
        if isinstance(rhs, ErrorRail):
            self.preview_eval(e.body, env.bind(e.name, Incomplete(e.rhs.id)), pipe)
            return rhs
        return self.eval(e.body, env.bind(e.name, rhs), pipe)

    def e_if(self, e: EIf, env: Env, pipe: Any) -> Any:
        cond = self.eval(e.cond, env, pipe)
        if cond is True:
            value = self.eval(e.then, env, pipe)
            self.preview_eval(e.else_, env, pipe)
            return value
        if cond is False:
            value = self.eval(e.else_, env, pipe)
            self.preview_eval(e.then, env, pipe)
            return value
        self.preview_all((e.then, e.else_), env, pipe)
        if is_special(cond):
            return cond
        return ErrorValue(f"an if needs a Bool condition, got {describe_value(cond)}", e.id)

    def e_lambda(self, e: ELambda, env: Env, pipe: Any) -> Any:
        closure = Closure(tuple(p.name for p in e.params), e.body, env.as_frozen(), self.version)
        self.made_closure(closure, e)
        return closure

    def e_call(self, e: ECall, env: Env, pipe: Any) -> Any:
        args = self.eval_all(e.args, env, pipe)
        if isinstance(args, ErrorRail):
            return args
        fn = e.fn
        if isinstance(fn, LibFnRef):
            name = fn.qualified
            result = self.call_library(name, args, e.id)
        else:
            user_fn = self.program.function(fn)
            if user_fn is None:
                return ErrorValue(
                    f"unknown function (function #{fn.fn_id}, version {fn.version})", e.id)
            name = user_fn.qualified
            result = self.call_function(user_fn, args, e.id, record_body=False)
        return onto_rail(result, name, e.id) if e.on_rail else result

    def e_infix(self, e: EInfix, env: Env, pipe: Any) -> Any:
        if e.op in ("&&", "||"):
            return self.short_circuit(e, env, pipe)
        left = self.eval(e.left, env, pipe)
        if isinstance(left, ErrorRail):
            self.preview_eval(e.right, env, pipe)
            return left
        right = self.eval(e.right, env, pipe)
        if isinstance(right, ErrorRail):
            return right
        op = OPERATORS.get(e.op)
        if op is None:
            return ErrorValue(f"unknown operator {e.op}", e.id)
        if op.lib_fn is not None:
            return self.call_library(op.lib_fn, [left, right], e.id)
        special = first_special([left, right])
        if special is not None:
            return special
        if e.op not in ("==", "!="):
            return ErrorValue(f"the operator {e.op} has no meaning yet", e.id)
        try:
            equal = values_equal(left, right)
        except RecursionError:
            return ErrorValue(f"cannot compare with {e.op}: the values are nested too deeply", e.id)
        return equal if e.op == "==" else not equal

    def short_circuit(self, e: EInfix, env: Env, pipe: Any) -> Any:
        # `false && x` and `true || x` are decided by the left side alone; x is only previewed.
        decisive = e.op == "||"
        left = self.eval(e.left, env, pipe)
        if isinstance(left, bool):
            if left is decisive:
                self.preview_eval(e.right, env, pipe)
                return left
            right = self.eval(e.right, env, pipe)
            if isinstance(right, bool) or is_special(right):
                return right
            return ErrorValue(f"{e.op} needs a Bool on its right, got {describe_value(right)}",
                              e.id)
        self.preview_eval(e.right, env, pipe)
        if is_special(left):
            return left
        return ErrorValue(f"{e.op} needs a Bool on its left, got {describe_value(left)}", e.id)

    def e_pipe_target(self, e: EPipeTarget, env: Env, pipe: Any) -> Any:
        return Incomplete(e.id) if pipe is NO_PIPE else pipe

    def e_pipe(self, e: EPipe, env: Env, pipe: Any) -> Any:
        value = self.eval(e.head, env, pipe)
        for i, step in enumerate(e.steps):
            if isinstance(value, ErrorRail):
                self.preview_all(e.steps[i:], env, Incomplete(step.id))
                return value
            if isinstance(step, EHole):
                # A step still to be written passes its input on; the editor shows that input.
                self.record(step.id, value)
                continue
            result = self.eval(step, env, value)
            if isinstance(result, Closure) and not self.step_uses_target(step):
                result = self.apply_function(result, (value,), step.id)
            value = result
        return value

    def e_field(self, e: EField, env: Env, pipe: Any) -> Any:
        record = self.eval(e.record, env, pipe)
        if is_special(record):
            return record
        if not isinstance(record, FrozenDict):
            return ErrorValue(f"cannot get the field {e.field} of {describe_value(record)}: "
                              "only records have fields", e.id)
        if e.field not in record:
            return ErrorValue(f"no field {e.field} in {show(record, limit=80)}", e.id)
        return record[e.field]

    def e_match(self, e: EMatch, env: Env, pipe: Any) -> Any:
        scrutinee = self.eval(e.scrutinee, env, pipe)
        chosen: MatchArm | None = None
        result: Any = scrutinee
        if not is_special(scrutinee):
            result = Incomplete(e.id)  # no arm matches
            for arm in e.arms:
                bindings = match_pattern(arm.pattern, scrutinee)
                if bindings is not None:
                    chosen = arm
                    result = self.eval(arm.body, env.bind_all(bindings), pipe)
                    self.record(arm.id, result)
                    for node_id, part in pattern_values(arm.pattern, scrutinee):
                        self.record(node_id, part)
                    break
        if self.recording:
            for arm in e.arms:
                if arm is not chosen:
                    self.preview_arm(arm, scrutinee, env, pipe)
        return result

    def preview_arm(self, arm: MatchArm, scrutinee: Any, env: Env, pipe: Any) -> None:
        unbound = [(p.name, Incomplete(p.id)) for p in pattern_variables(arm.pattern)]
        self.preview_eval(arm.body, env.bind_all(unbound), pipe)
        if self.live is None:
            return
        saved, self.preview = self.preview, True
        body = self.live.get(arm.body.id, self.at)
        self.record(arm.id, body.value if body is not None else Incomplete(arm.id))
        for node_id, part in pattern_values(arm.pattern, scrutinee):
            self.record(node_id, part)
        self.preview = saved

    def e_constructor(self, e: EConstructor, env: Env, pipe: Any) -> Any:
        args = self.eval_all(e.args, env, pipe)
        if isinstance(args, ErrorRail):
            return args
        type_name = None
        if e.type_ref is None and e.name in BUILTIN_CASES:
            arity = BUILTIN_CASES[e.name]
        else:
            resolved = self.enum_case(e)
            if isinstance(resolved, ErrorValue):
                return resolved
            type_name, arity = resolved
        if len(args) != arity:
            return ErrorValue(f"{e.name} takes {arity} argument(s) but was given {len(args)}",
                              e.id)
        special = first_special(args)
        if special is not None:
            return special
        return Variant(e.name, tuple(args), type_name)

    def enum_case(self, e: EConstructor) -> tuple[str, int] | ErrorValue:
        """The user enum a constructor builds (its `Name_vN`) and the case's arity."""
        if e.type_ref is not None:
            t = self.program.type(e.type_ref.type_id, e.type_ref.version)
            if t is None:
                return ErrorValue(f"the type of {e.name} (type #{e.type_ref.type_id}, "
                                  f"version {e.type_ref.version}) does not exist", e.id)
            if not isinstance(t.definition, EnumDef):
                return ErrorValue(f"{t.name}_v{t.version} is a record, it has no case {e.name}",
                                  e.id)
            cases = [(t, c) for c in t.definition.cases if c.name == e.name]
            if not cases:
                return ErrorValue(f"{t.name}_v{t.version} has no case {e.name}", e.id)
        else:
            cases = self.program.enums_with_case(e.name)
            if not cases:
                return ErrorValue(f"unknown constructor {e.name}", e.id)
            if len(cases) > 1:
                owners = ", ".join(sorted(f"{t.name}_v{t.version}" for t, _ in cases))
                return ErrorValue(f"{e.name} is a case of several types ({owners}); "
                                  "say which one", e.id)
        owner, case = cases[0]
        return f"{owner.name}_v{owner.version}", len(case.fields)

    def e_flag(self, e: EFlag, env: Env, pipe: Any) -> Any:
        self.flags.append(e.name)
        try:
            cond = self.eval(e.cond, env, pipe)
        finally:
            self.flags.pop()
        # Only exactly `true` turns a flag on: an unfinished or failing condition keeps old code.
        on = cond is True
        # A test runs once per state of the flags on its path: its host forces each branch.
        forced = getattr(self.host, "flag_forced", None)
        if forced is not None:
            state = forced(e.id)
            if state is not None:
                on = state
        decided = getattr(self.host, "flag_decided", None)
        if decided is not None and not self.preview:
            decided(e.id, e.name, on)
        if on:
            value = self.eval(e.new, env, pipe)
            self.preview_eval(e.old, env, pipe)
        else:
            value = self.eval(e.old, env, pipe)
            self.preview_eval(e.new, env, pipe)
        return value

    def e_partial(self, e: EPartial, env: Env, pipe: Any) -> Any:
        return self.eval(e.old, env, pipe)

    def e_right_partial(self, e: ERightPartial, env: Env, pipe: Any) -> Any:
        return self.eval(e.left, env, pipe)


def onto_rail(result: Any, fn_name: str, node_id: NodeId) -> Any:
    """A call on the error rail: `Just x`/`Ok x` unwrap, `Nothing`/`Error e` leave."""
    if is_special(result):
        return result
    if isinstance(result, Variant) and result.type_name is None:
        if result.name in ("Just", "Ok") and len(result.args) == 1:
            return result.args[0]
        if result.name in ("Nothing", "Error"):
            return ErrorRail(result, node_id)
    return ErrorValue(f"only an Option or a Result can go on the error rail, but {fn_name} "
                      f"returned {describe_value(result)}", node_id)


_DISPATCH: dict[type, Callable[[Evaluator, Any, Env, Any], Any]] = {
    EHole: Evaluator.e_hole,
    EInt: Evaluator.e_literal,
    EFloat: Evaluator.e_literal,
    EString: Evaluator.e_literal,
    EBool: Evaluator.e_literal,
    ENull: Evaluator.e_null,
    EList: Evaluator.e_list,
    ERecord: Evaluator.e_record,
    EVariable: Evaluator.e_variable,
    ELet: Evaluator.e_let,
    EIf: Evaluator.e_if,
    ELambda: Evaluator.e_lambda,
    ECall: Evaluator.e_call,
    EInfix: Evaluator.e_infix,
    EPipeTarget: Evaluator.e_pipe_target,
    EPipe: Evaluator.e_pipe,
    EField: Evaluator.e_field,
    EMatch: Evaluator.e_match,
    EConstructor: Evaluator.e_constructor,
    EFlag: Evaluator.e_flag,
    EPartial: Evaluator.e_partial,
    ERightPartial: Evaluator.e_right_partial,
}


def _check_dispatch() -> None:
    # Checked at import (a table is faster than a 22-way `match` on every node):
    # a new expression kind without a rule must fail loudly here, not at run time.
    missing = [k.__name__ for k in EXPR_KINDS if k not in _DISPATCH]
    if missing:
        raise AssertionError(f"the evaluator has no rule for: {missing}")


_check_dispatch()


# --------------------------------------------------------------------- public API


def evaluate(
    expr: Expr,
    env: Mapping[str, Any] | None = None,
    program: Program | None = None,
    *,
    live: LiveValues | None = None,
    budget: Budget | None = None,
    language_version: int = 0,
    impure: ImpureLog | None = None,
    host: Any = None,
) -> Any:
    """The value of `expr` with the variables `env` bound; never raises.

    `program` resolves user functions and types; `live` records node values
    (with previews); `budget` limits steps, call depth, time and what the
    run builds (a fresh default one when None); `impure` records or replays impure library calls;
    `host` is what library functions reach as `ctx.host` (the runtime's
    datastores and queues).
    """
    machine = Evaluator(program, budget if budget is not None else Budget(), live, impure,
                       language_version, host)
    scope = Env(env if env is not None else {})
    return machine.run(lambda: machine.eval(expr, scope, NO_PIPE), getattr(expr, "id", None))


def run_toplevel(
    tl: Toplevel,
    inputs: Mapping[str, Any],
    program: Program | None = None,
    *,
    live: LiveValues | None = None,
    budget: Budget | None = None,
    language_version: int | None = None,
    impure: ImpureLog | None = None,
    host: Any = None,
) -> Any:
    """Run a handler with its bound variables, or a user function with its parameters.

    A bound variable or parameter missing from `inputs` (no trace yet) is
    incomplete. The code runs in the toplevel's own language version unless
    `language_version` says otherwise. Its nodes are what `live` records.
    """
    version = tl.language_version if language_version is None else language_version
    if isinstance(tl, Handler):
        env = {name: inputs.get(name, Incomplete(None)) for name in tl.bound_names()}
        return evaluate(tl.body, env, program, live=live, budget=budget,
                        language_version=version, impure=impure, host=host)
    if isinstance(tl, UserFunction):
        fn = attrs.evolve(tl, language_version=version)
        args = tuple(inputs.get(p.name, Incomplete(p.id)) for p in tl.params)
        machine = Evaluator(program, budget if budget is not None else Budget(), live, impure,
                           version, host)
        return machine.run(lambda: machine.run_function(fn, args, None, record_body=True),
                           tl.body.id)
    kind = "type" if isinstance(tl, UserType) else tl.KIND  # a datastore, a test
    return ErrorValue(f"only handlers and functions run; this is a {kind}", tl.tlid)


def call_user_function(
    fn: UserFunction,
    args: tuple[Any, ...],
    program: Program | None = None,
    *,
    live: LiveValues | None = None,
    budget: Budget | None = None,
    impure: ImpureLog | None = None,
    host: Any = None,
) -> Any:
    """Call a user function as a call node would (arity and argument shapes checked)."""
    machine = Evaluator(program, budget if budget is not None else Budget(), live, impure,
                       fn.language_version, host)
    return machine.run(lambda: machine.call_function(fn, tuple(args), None, record_body=True),
                       fn.body.id)
