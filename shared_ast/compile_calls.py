"""Calls in generated code: the library's functions and the user's, with what they may skip.

`CallCode` is the part of the code generator (`compile_gen.Body`) that
writes a call once its arguments are generated:

- which function a call names (an unknown one or a wrong arity is an error
  value, as the reference gives it), and a call on the rail (`onto_rail`);
- a library call: Int operations inlined (`compile_ints`), the rest through
  `CompiledRun.call_library` (the reference's checks), after the steps are
  added and tested (the call may be an effect), with `R.rem` left for the
  lambdas it may call back; an impure one, from language version 2, through
  `CompiledRun.call_impure`, which stops the run when the call fails;
- a user function call: its `fast_` version (no checks of the arguments)
  when they surely fit, whose result needs no test when the function surely
  gives an Int or a Bool (`compile_unit` guesses and checks that), and which
  is called without adding the steps first when it is quiet (no effect in it
  or in what it calls), its cheapest return's steps added by the caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared_ast.compile_ints import INLINE_INT_OPS, IntFacts
from shared_ast.eval_context import failed_call_stops, failed_impure_call
from shared_ast.limits import BUILDERS
from shared_ast.nodes import ECall, Expr, LibFnRef
from shared_ast.stdlib.registry import LIBRARY, LibFunction
from shared_ast.toplevels import UserFunction
from shared_ast.type_ast import (
    TBool,
    TDict,
    TFloat,
    TInt,
    TList,
    TOption,
    TRecord,
    TString,
    TUnknown,
    TVar,
)
from shared_ast.value_types import type_phrase, value_fits
from shared_ast.values import ErrorValue, is_special

if TYPE_CHECKING:
    from shared_ast.compile_unit import UnitBuilder

__all__ = ["FAST_FITS", "CallCode"]

_NOTHING: Any = object()

#: A test of the generated code that a value has the outermost shape of a parameter
#: type, as `value_fits(value, type, deep=False)` checks it, and is no special value
#: (none of these types is a special value's; `?` and a type variable take anything
#: but those). Each test may be narrower than `value_fits` (an exact type, not a
#: subclass), never wider: a value it does not pass gets the full checks
#: (`CompiledRun.call_library`, `CompiledRun.check_call`). The names are the unit's
#: namespace (`compile_unit.UnitBuilder`).
FAST_FITS: dict[type, str] = {
    TInt: "type({v}) is int",
    TFloat: "type({v}) is float",
    TBool: "type({v}) is bool",
    TString: "type({v}) is str",
    TList: "type({v}) is tuple",
    TDict: "type({v}) is FD",
    TRecord: "type({v}) is FD",
    TOption: "is_option({v})",
    TUnknown: "type({v}) not in SPECIALS",
    TVar: "type({v}) not in SPECIALS",
}


class CallCode(IntFacts):
    """Library and user function calls, for `compile_gen.Body` (see the module docstring)."""

    # The generator's own state and emitters, which calls use.
    unit: UnitBuilder
    pending: int
    effects: bool
    unchecked: bool
    depth: str
    version: int

    def expr(self, e: Expr, scope: dict[str, str], pipe: str | None) -> str:
        raise NotImplementedError

    def const(self, value: Any) -> str:
        raise NotImplementedError

    def assign(self, code: str) -> str:
        raise NotImplementedError

    def flush(self, check: bool = True) -> None:
        raise NotImplementedError

    def rail_check(self, var: str) -> None:
        raise NotImplementedError

    def loop(self, e: ECall, scope: dict[str, str], pipe: str | None) -> str | None:
        """The call as a loop over a lambda in place (`compile_loops`), if it is one."""
        raise NotImplementedError

    def call(self, e: ECall, scope: dict[str, str], pipe: str | None) -> str:
        looped = self.loop(e, scope, pipe)
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
                out = self.user_call(user_fn, args, e.id)
        if e.on_rail:
            out = self.assign(f"onto_rail({out}, {self.const(name)}, {e.id})")
            self.rail_check(out)
        return out

    def user_call(self, fn: UserFunction, args: list[str], node_id: int) -> str:
        """A call of `fn`: without its checks when the arguments surely fit its parameters.

        A quiet function (no effects in it or what it calls) is called without adding
        the steps counted so far: they are added after, with one test for the whole path.
        Until then its own tests see fewer steps than the reference's, which can only
        delay a stop, and the run's final test catches that (see `compiler`); only an
        effect must never happen past the budget.
        """
        rest = "".join(", " + a for a in args)
        if all(self.surely_fits(a, p.type) for a, p in zip(args, fn.params, strict=True)):
            name, kind, quiet, cost = self.unit.fast_function(fn)
            if quiet:
                self.unchecked = True
                self.pending += cost
            else:
                self.effects = True
                self.flush()
            out = self.assign(f"{name}(R, {self.depth} - 1{rest})")
            if kind == "any":
                self.rail_check(out)
            else:
                (self.ints if kind == "int" else self.bools).add(out)
            return out
        self.effects = True
        self.flush()
        out = self.assign(f"{self.unit.function(fn)}(R, {self.depth} - 1{rest}, {node_id})")
        self.rail_check(out)
        return out

    def surely_fits(self, value: str, param_type: Any) -> bool:
        """`value` is no special value and fits `param_type` (a call's checks would pass)."""
        kind = self.kind(value)
        if kind == "any":
            return False
        if isinstance(param_type, TUnknown | TVar):
            return True
        return isinstance(param_type, TInt if kind == "int" else TBool)

    def library(self, name: str, args: list[str], node_id: int) -> str:
        lib = LIBRARY.get(name)
        if lib is None:
            return self.const(ErrorValue(f"unknown function {name}", node_id))
        if len(args) != len(lib.params):
            wrong = ErrorValue(
                f"{name} takes {len(lib.params)} argument(s) but was given {len(args)}",
                node_id)
            if not lib.pure and failed_call_stops(self.version):
                # An impure call that cannot run stops the run, as the reference's does.
                self.effects = True
                self.flush()
                self.emit(f"R.stop({self.const(failed_impure_call(lib, (), wrong, node_id))})")
            return self.const(wrong)
        inline = INLINE_INT_OPS.get(name)
        if inline is not None and all(isinstance(p.type, TInt) for p in lib.params):
            return self.int_op(lib, inline, args, node_id)
        self.effects = True
        self.flush()
        self.emit(f"R.rem = {self.depth}")  # for the lambdas it may call back
        guard = self.shapes_guard(lib, args)
        if guard is None:
            out = self.assign(self.slow_library(lib, args, node_id))
        else:
            # The guard passes only where every check of `call_library` would: then the
            # function runs at once (`CompiledRun.pure`); else the checks say what is wrong.
            fast = (f"R.pure({self.const(lib)}, ({''.join(a + ', ' for a in args)}), "
                    f"{node_id}, {name in BUILDERS})")
            out = self.assign(fast if guard == "True" else
                              f"{fast} if {guard} else {self.slow_library(lib, args, node_id)}")
        self.rail_check(out)
        if name == "List::range_v0" and all(self.is_int(a) for a in args):
            # Its list holds the Ints from the first to the second.
            self.int_lists[out] = (self.bound(args[0])[0], self.bound(args[1])[1])
        return out

    def shapes_guard(self, lib: LibFunction, args: list[str]) -> str | None:
        """A Python test that holds only when none of `args` is a special value and each
        has the outermost shape `lib` declares (what `call_library` checks before it runs
        a function): "True" when that is known already, None when the call must always
        go through `call_library` (an impure function, one that takes special values, a
        parameter type with no quick test here, an argument surely of another type)."""
        if not lib.pure or lib.accepts_special:
            return None
        tests = []
        for arg, param in zip(args, lib.params, strict=True):
            t = param.type
            kind = self.kind(arg)
            if kind != "any":  # surely an Int or a Bool, so no special value
                if isinstance(t, TUnknown | TVar | (TInt if kind == "int" else TBool)):
                    continue
                return None
            known = self.unit.ns.get(arg, _NOTHING) if arg.startswith("K") else _NOTHING
            if known is not _NOTHING:  # a constant: judged now, once
                if is_special(known) or value_fits(known, t, self.unit.program,
                                                   deep=False) is not None:
                    return None
                continue
            shape = FAST_FITS.get(type(t))
            if shape is None:
                return None
            tests.append(shape.format(v=arg))
        return " and ".join(tests) if tests else "True"

    def slow_library(self, lib: LibFunction, args: list[str], node_id: int) -> str:
        fits = tuple(None if isinstance(p.type, TUnknown | TVar)
                     else (p.type, type_phrase(p.type, self.unit.program)) for p in lib.params)
        arg_tuple = "(" + "".join(a + ", " for a in args) + ")"
        # From language version 2 a failing impure call stops the run (`failed_call_stops`).
        method = ("call_impure" if not lib.pure and failed_call_stops(self.version)
                  else "call_library")
        return f"R.{method}({self.const(lib)}, {arg_tuple}, {node_id}, {self.const(fits)})"
