"""Tests from traces: a value written back as code, and a trace turned into a test.

`value_expr(value, program)` writes a runtime value as a literal expression
that evaluates to an equal value (`values_equal`): Ints, Floats (`NaN`,
`Infinity` and `-Infinity` are Float literals too: the wire format writes them
as those words), Strings, Bools, Null, Lists, records (a record literal when
every key is a name, else `Dict::fromListOverwritingDuplicates [[key, value],
...]`), `Just`/`Nothing`/`Ok`/`Error` and user enum cases (a constructor with
its type from the program), Dates (`Date::parse "..."` on the error rail) and
HTTP responses (`Http::response` or `Http::responseWithHeaders`). It gives None
for what code cannot write: closures, UUIDs, datastore references,
errors and unfinished values, values nested deeper than `MAX_DEPTH`. A Char is the
head of `String::toList` of its text, on the error rail.

`test_from_trace(handler, inputs, expected, recording, name, pos)` makes the
test a trace stands for: `Test::expect (Test::http "GET" "/users/7" <request>)
<expected>` (a worker's `Test::event queue <event>`, a cron's `Test::cron
name`), with the trace's impure calls as the test's recording, so the test
replays what the datastores, queues, clock and random numbers gave then: it is
deterministic and never writes. The runtime finds the inputs, the expected
value and the recording (runtime/control/test_api.py); this module only writes
the code, so the editor and tests can use it too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from shared_ast import build
from shared_ast.ids import new_id
from shared_ast.names import MAX_TEST_NAME, identifier_problem
from shared_ast.nodes import EConstructor, Expr, TypeRef
from shared_ast.program import Program
from shared_ast.routes import Route, split_path
from shared_ast.stdlib.date_fns import format_date
from shared_ast.stdlib.string_fns import graphemes
from shared_ast.toplevels import CronSpec, Handler, HttpSpec, Pos, Test, WorkerSpec
from shared_ast.values import (
    SPECIAL_TYPES,
    Char,
    FrozenDict,
    ImpureCall,
    Response,
    Variant,
    show,
    type_name_of,
)

__all__ = ["BUILTIN_CASES", "MAX_DEPTH", "TraceTestError", "test_from_trace", "value_expr"]

#: Deeper values give None (the wire format and the editor have nesting limits too).
MAX_DEPTH = 100

#: The constructors every program has, with their arity.
BUILTIN_CASES = {"Just": 1, "Nothing": 0, "Ok": 1, "Error": 1}


class TraceTestError(Exception):
    """A trace that cannot become a test; the message says why and what to do."""


def value_expr(value: Any, program: Program | None = None) -> Expr | None:
    """`value` as literal code that evaluates to an equal value, or None when code
    cannot write it (see the module docstring)."""
    return _expr(value, program or Program(), 0)


def _expr(v: Any, program: Program, depth: int) -> Expr | None:
    if depth > MAX_DEPTH:
        return None
    # bool before int: True is an int in Python.
    if isinstance(v, bool):
        return build.bool_(v)
    if isinstance(v, int):
        return build.int_(v)
    if isinstance(v, float):
        return build.float_(v)
    if isinstance(v, str):
        return build.str_(v)
    if v is None:
        return build.null()
    if isinstance(v, SPECIAL_TYPES):
        return None
    if isinstance(v, tuple):
        return _items(v, program, depth)
    if isinstance(v, FrozenDict):
        return _mapping(v, program, depth)
    if isinstance(v, Variant):
        return _variant(v, program, depth)
    if isinstance(v, Response):
        return _response(v, program, depth)
    if isinstance(v, dt.datetime):
        return _date(v)
    if isinstance(v, Char):
        return _char(v)
    return None  # closures, UUIDs, datastore references


def _items(xs: Sequence[Any], program: Program, depth: int) -> Expr | None:
    items = [_expr(x, program, depth + 1) for x in xs]
    if any(i is None for i in items):
        return None
    return build.list_(*[i for i in items if i is not None])


def _mapping(d: Mapping[str, Any], program: Program, depth: int) -> Expr | None:
    parts = {k: _expr(x, program, depth + 2) for k, x in d.items()}
    if any(p is None for p in parts.values()):
        return None
    if all(identifier_problem(k) is None for k in d):
        return build.record(*[(k, p) for k, p in parts.items() if p is not None])
    # Keys that are not names ("content-type", "", "a b"): a Dict built from pairs.
    pairs = [build.list_(build.str_(k), p) for k, p in parts.items() if p is not None]
    return build.call("Dict::fromListOverwritingDuplicates_v0", build.list_(*pairs))


def _variant(v: Variant, program: Program, depth: int) -> Expr | None:
    args = [_expr(a, program, depth + 1) for a in v.args]
    if any(a is None for a in args):
        return None
    written = [a for a in args if a is not None]
    if v.type_name is None:
        if BUILTIN_CASES.get(v.name) != len(v.args):
            return None
        return build.ctor(v.name, *written)
    for t in program.types.values():
        if f"{t.name}_v{t.version}" == v.type_name:
            return EConstructor(new_id(), v.name, tuple(written),
                                TypeRef(t.type_id, t.version))
    return None  # a type the program no longer has


def _response(r: Response, program: Program, depth: int) -> Expr | None:
    body = _expr(r.body, program, depth + 1)
    if body is None:
        return None
    if not r.headers:
        return build.call("Http::response_v0", body, build.int_(r.status))
    names = [k for k, _ in r.headers]
    if len(set(names)) != len(names):
        return None  # a header given twice: a Dict of headers cannot say it
    headers = _mapping(FrozenDict(dict(r.headers)), program, depth + 1)
    if headers is None:
        return None
    return build.call("Http::responseWithHeaders_v0", body, headers, build.int_(r.status))


def _char(c: Char) -> Expr | None:
    """`String::toList "é" |> List::head` on the rail: the one Char of a one-Char String."""
    if graphemes(c.text) != [c.text]:
        return None
    return build.call("List::head_v1", build.call("String::toList_v1", build.str_(c.text)),
                      rail=True)


def _date(d: dt.datetime) -> Expr | None:
    if d.tzinfo is None or d.microsecond or d.utcoffset() != dt.timedelta(0):
        return None
    text = format_date(d)
    if dt.datetime.fromisoformat(text.replace("Z", "+00:00")) != d:
        return None
    return build.call("Date::parse_v0", build.str_(text), rail=True)


# ------------------------------------------------------------------ tests from traces


def _what_runs(handler: Handler, inputs: Mapping[str, Any],
               program: Program) -> tuple[Expr, str]:
    """The call that runs `handler` on `inputs` inside a test, and what it is called."""
    spec = handler.spec
    if isinstance(spec, HttpSpec):
        request = inputs.get("request")
        method, path = spec.method, _path(spec.route, inputs)
        written = value_expr(request, program)
        if written is None:
            raise TraceTestError(f"the request of this trace cannot be written as code "
                                 f"({type(request).__name__}); make the test by hand")
        return (build.call("Test::http_v0", build.str_(method), build.str_(path), written),
                f"{method} {path}")
    if isinstance(spec, WorkerSpec):
        event = value_expr(inputs.get("event"), program)
        if event is None:
            raise TraceTestError("the event of this trace cannot be written as code (a "
                                 "closure, a UUID?); make the test by hand")
        return (build.call("Test::event_v0", build.str_(spec.queue), event),
                f"worker {spec.queue}")
    if isinstance(spec, CronSpec):
        return build.call("Test::cron_v0", build.str_(spec.name)), f"cron {spec.name}"
    raise TraceTestError("only HTTP handlers, workers and crons have traces that become "
                         "tests; a REPL's runs are not traffic")


def _path(route: str, inputs: Mapping[str, Any]) -> str:
    """The path that reaches `route` with the trace's route parameters (as the request's
    own path may carry a prefix the runtime strips, `/c/<canvas>`)."""
    segments = split_path(route)
    parts = [str(inputs.get(s[1:], "")) if s.startswith(":") else s for s in segments]
    path = "/" + "/".join(parts)
    params = {s[1:]: inputs.get(s[1:]) for s in segments if s.startswith(":")}
    if Route("GET", segments, None).match(split_path(path)) != params:  # type: ignore[arg-type]
        raise TraceTestError(f"the route parameters of this trace ({params}) cannot be "
                             f"written back into {route} (an empty one, or one with /); "
                             "make the test by hand")
    return path


def test_from_trace(handler: Handler, inputs: Mapping[str, Any], expected: Any,
                    recording: Sequence[ImpureCall], name: str | None = None,
                    pos: Pos | None = None, program: Program | None = None) -> Test:
    """The test of one trace: it runs `handler` on the trace's `inputs` and expects
    `expected`, replaying `recording` (the trace's impure calls). `TraceTestError`
    when the expected value or an input cannot be written as code."""
    program = program or Program()
    runs, what = _what_runs(handler, inputs, program)
    want = value_expr(expected, program)
    if want is None and isinstance(expected, SPECIAL_TYPES):
        raise TraceTestError(
            f"{what} ended with {show(expected, 200)}, not a value: a test expects the "
            "value a run gave. Fix the handler, run it again (send the request again), "
            "and make the test from that trace")
    if want is None:
        raise TraceTestError(
            f"the value {what} gave cannot be written as code (a {_unwritable(expected, program)} "
            "in it); a test expects a value it can write: make the handler give data (a "
            "record, a response, a list...), or write the test by hand")
    if name is None:
        name = f"{what} answers as traced"
    # One line without NULs (names.test_name_problem), whatever the client sent.
    name = " ".join(name.replace("\0", " ").split())[:MAX_TEST_NAME].strip() \
        or "made from a trace"
    return build.test(name, build.expect(runs, want), recording=tuple(recording),
                      pos=pos or Pos(handler.pos.x, handler.pos.y))



def _unwritable(v: Any, program: Program, depth: int = 0) -> str:
    """The kind of the first part of `v` that code cannot write."""
    if depth >= MAX_DEPTH:
        return f"value nested more than {MAX_DEPTH} levels deep"
    parts: tuple[Any, ...] = ()
    if isinstance(v, tuple):
        parts = v
    elif isinstance(v, FrozenDict):
        parts = tuple(v.values())
    elif isinstance(v, Variant):
        parts = v.args
    elif isinstance(v, Response):
        parts = (v.body,)
    for part in parts:
        if _expr(part, program, depth + 1) is None:
            return _unwritable(part, program, depth + 1)
    return type_name_of(v)


#: Not a pytest test, though its name starts with "test".
test_from_trace.__test__ = False  # type: ignore[attr-defined]
