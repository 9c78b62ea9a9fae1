"""Library and user function calls of compiled code agree with the reference, whatever
their arguments.

Compiled code calls a pure library function straight away (`CompiledRun.pure`) when
a test in the generated code (`compile_calls.shapes_guard`) sees that the checks of
`CompiledRun.call_library` would all pass: no special value, each argument of the
shape its parameter takes. These tests call every pure library function with
arguments of every shape, right and wrong (specials, other types, an Option that is
not one, a variant of a user type), passed as inputs and as literals the compiler
judges once, and compare with the reference evaluator in every observable way
(`test_compiler.agree`: value, error node and message, steps, impure calls).
A user function's checked entry (`call_...`) makes the same quick test of its
parameters (`compile_calls.FAST_FITS`) before its own checks: a function of each
parameter type is called with arguments of every shape too.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import ints, texts, values
from test_compiler import ROUTE, agree, as_handler

from shared_ast import build as b
from shared_ast.compiler import run_user_function
from shared_ast.eval_context import Budget
from shared_ast.evaluator import call_user_function
from shared_ast.nodes import Expr
from shared_ast.program import Program
from shared_ast.stdlib.registry import LIBRARY
from shared_ast.type_ast import (
    BOOL,
    FLOAT,
    INT,
    STRING,
    UNKNOWN,
    TDict,
    TList,
    TOption,
    TRecord,
    TRecordField,
    TVar,
)
from shared_ast.values import (
    NOTHING,
    Char,
    ErrorValue,
    FrozenDict,
    Incomplete,
    Variant,
    just,
    values_equal,
)

#: The handler's inputs the arguments are passed in (the route binds two, and `request`).
INPUTS = (ROUTE.split(":")[1].rstrip("/"), ROUTE.split(":")[2], "request")

PURE = sorted(q for q, lib in LIBRARY.items()
              if lib.pure and not lib.accepts_special and len(lib.params) <= len(INPUTS))

#: Values of the shapes library functions take, so that the quick path is taken often,
#: and near misses of those shapes.
shaped = st.one_of(
    texts, ints, st.floats(allow_nan=False), st.booleans(), st.none(),
    st.lists(texts, max_size=3).map(tuple), st.lists(ints, max_size=3).map(tuple),
    st.dictionaries(texts, ints, max_size=2).map(FrozenDict),
    texts.map(just), ints.map(just), st.just(NOTHING),
    st.just(Variant("Just", (), None)), st.just(Variant("Nothing", (1,), None)),
    st.just(Variant("Just", (1,), "Maybe_v0")), st.just(Variant("Ok", (1,), None)),
    st.just(Char("a")), st.just(Incomplete(7)), st.just(ErrorValue("boom", 8)),
)

args_ = st.lists(st.one_of(shaped, values(max_leaves=3)), min_size=len(INPUTS),
                 max_size=len(INPUTS))


def literal(value: Any) -> Expr | None:
    """The value as a literal of the language, when it has one."""
    if type(value) is str:
        return b.str_(value)
    if type(value) is int:
        return b.int_(value)
    if type(value) is bool:
        return b.bool_(value)
    if type(value) is float:
        return b.float_(value)
    return None


@settings(max_examples=1500, deadline=None)
@given(name=st.sampled_from(PURE), args=args_, as_literal=st.lists(st.booleans(),
       min_size=len(INPUTS), max_size=len(INPUTS)),
       budget=st.sampled_from([Budget(), Budget(max_steps=3), Budget(time_limit=5.0)]))
def test_library_calls_agree_with_the_reference(name: str, args: list[Any],
                                                as_literal: list[bool], budget: Budget) -> None:
    lib = LIBRARY[name]
    call_args: list[Expr] = []
    inputs = {}
    for i, _param in enumerate(lib.params):
        spelt = literal(args[i]) if as_literal[i] else None
        if spelt is not None:
            call_args.append(spelt)
        else:
            call_args.append(b.var(INPUTS[i]))
            inputs[INPUTS[i]] = args[i]
    agree(as_handler(b.call(name, *call_args), 1), inputs, Program(), budget)


def test_a_call_of_every_shape_agrees() -> None:
    """Pinned cases of each quick test, passing and failing it."""
    cases: list[tuple[str, tuple[Any, ...]]] = [
        ("String::toLowercase_v1", ("AbC",)), ("String::toLowercase_v1", (3,)),
        ("String::split_v1", ("a b", " ")), ("String::split_v1", ("a b", Incomplete(3))),
        ("List::head_v1", (("x",),)), ("List::head_v1", (FrozenDict(a=1),)),
        ("List::drop_v0", (("x", "y"), 1)), ("List::drop_v0", (("x", "y"), True)),
        ("Option::withDefault_v0", (just(1), 2)), ("Option::withDefault_v0", (NOTHING, 2)),
        ("Option::withDefault_v0", (Variant("Just", (), None), 2)),
        ("Option::withDefault_v0", (Variant("Nothing", (1,), None), 2)),
        ("Option::withDefault_v0", (Variant("Just", (1,), "Maybe_v0"), 2)),
        ("Option::withDefault_v0", (just(1), ErrorValue("no", 4))),
        ("String::join_v0", (("a", 1), ",")), ("Float::add_v0", (1.5, 2)),
        ("Dict::size_v0", (FrozenDict(a=1),)), ("Dict::size_v0", (("a",),)),
    ]
    for name, args in cases:
        assert name in LIBRARY, name
        inputs = dict(zip(INPUTS, args, strict=False))
        body = b.call(name, *(b.var(k) for k in inputs))
        agree(as_handler(body, 1), inputs, Program(), Budget())
        # And each argument as a literal where it has one.
        spelt = [literal(a) for a in args]
        if all(s is not None for s in spelt):
            agree(as_handler(b.call(name, *spelt), 1), {}, Program(), Budget())


def test_an_int_known_to_the_compiler_needs_no_test() -> None:
    """`List::drop xs (1 + 1)`: the count is surely an Int, only the list is tested."""
    body = b.call("List::drop_v0", b.var(INPUTS[0]), b.infix("+", 1, 1))
    for xs in [(1, 2, 3), "abc", Incomplete(2), ErrorValue("no", 5)]:
        agree(as_handler(body, 1), {INPUTS[0]: xs}, Program(), Budget())


PARAMETER_TYPES = [STRING, INT, FLOAT, BOOL, TList(STRING), TDict(INT), UNKNOWN, TVar("a"),
                   TRecord((TRecordField("a", INT),)), TOption(INT)]


@settings(max_examples=1000, deadline=None)
@given(t=st.sampled_from(PARAMETER_TYPES), arg=st.one_of(shaped, values(max_leaves=3)),
       more=shaped)
def test_user_function_calls_agree_with_the_reference(t: Any, arg: Any, more: Any) -> None:
    fn = b.function("f", [("x", t), ("y", UNKNOWN)], UNKNOWN,
                    b.call("List::push_v0", b.list_(b.var("y")), b.var("x")))
    program = Program.from_toplevels([fn])
    # Called from a handler (the `call_` entry with a call node's checks) ...
    agree(as_handler(b.user_call(fn, b.var(INPUTS[0]), b.var(INPUTS[1])), 1),
          {INPUTS[0]: arg, INPUTS[1]: more}, program, Budget())
    # ... and as the runtime calls a function (a conversion, a worker).
    expected = call_user_function(fn, (arg, more), program, budget=Budget())
    got = run_user_function(fn, (arg, more), program, budget=Budget())
    assert type(got) is type(expected) and (got == expected if isinstance(
        got, ErrorValue | Incomplete) else values_equal(got, expected)), (got, expected)
