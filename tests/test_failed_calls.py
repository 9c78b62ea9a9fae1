"""A failing impure call never vanishes (issue 12, item 15; language version 2).

From language version 2, an impure library call (a datastore read or write, an
emit, a random number, the clock) that fails, or cannot run because an
argument is an error or unfinished, stops the run at that call with an error
naming the call and why, even where its value is thrown away (`let _ = ...`).
Version 1 code keeps its old meaning. The reference evaluator and the compiled
path agree (`test_compiler.agree`); the runtime's answers and traces are
tested in `test_runtime_failed_calls.py`.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import exprs
from test_compiler import RecordingHost, agree
from test_stdlib_db import DictHost

from shared_ast import build as b
from shared_ast.apply import LATEST_LANGUAGE_VERSION
from shared_ast.compiler import compile_toplevel
from shared_ast.eval_context import (
    FAILED_CALLS_STOP_FROM,
    Budget,
    ImpureLog,
    LiveValues,
    failed_call_stops,
)
from shared_ast.evaluator import run_toplevel
from shared_ast.ids import new_id
from shared_ast.nodes import ECall, Expr, LibFnRef
from shared_ast.program import Program
from shared_ast.toplevels import CURRENT_LANGUAGE_VERSION, Handler
from shared_ast.type_ast import INT, STRING
from shared_ast.values import ErrorValue, Response


class StoreHost(RecordingHost, DictHost):
    """The flag recorder of the agreement tests, with test_stdlib_db's datastores and queue."""

    def __init__(self) -> None:
        RecordingHost.__init__(self)
        DictHost.__init__(self)


USERS = b.datastore("Users", STRING)


def users_handler(version: int) -> tuple[Handler, ECall, ECall]:
    """The issue's handler: `let _ = DB::set name (Uuid::generate) Users_v0`, then a
    second write and a 201; the failing call and the second write."""
    write = b.call("DB::set_v1", "Ada", b.call("Uuid::generate_v0"), b.var("Users_v0"))
    after = b.call("DB::set_v1", "Bob", "bob", b.var("Users_v0"))
    body = b.let("_", write, b.let("_", after, b.call("Http::response_v0", "made", 201)))
    return b.http("POST", "/users", body, language_version=version), write, after


def test_new_toplevels_are_written_in_the_version_where_failed_calls_stop() -> None:
    assert failed_call_stops(CURRENT_LANGUAGE_VERSION)
    assert not failed_call_stops(1)


def test_a_failed_write_stops_the_handler_naming_the_call_and_the_key_type() -> None:
    handler, write, after = users_handler(2)
    program = Program.from_toplevels([USERS, handler])
    host, live = StoreHost(), LiveValues()
    value = run_toplevel(handler, {}, program, host=host, impure=ImpureLog(), live=live)
    assert isinstance(value, ErrorValue), value
    assert value.node_id == write.id
    assert "DB::set_v1" in value.message and "String for key" in value.message
    assert "nothing after the call ran" in value.message
    assert host.rows == {}  # neither the failed write nor the one after it
    # The live value of the failing call is the failure; the code after it never ran.
    shown = live.get(write.id)
    assert shown is not None and shown.value == value and shown.taken
    assert after.id not in live


def test_the_compiled_path_stops_at_the_failed_write_as_the_reference_does() -> None:
    handler, write, _ = users_handler(2)
    program = Program.from_toplevels([USERS, handler])
    got = agree(handler, {}, program, Budget(), StoreHost)
    assert isinstance(got, ErrorValue) and got.node_id == write.id
    compiled = compile_toplevel(handler, program)
    host = StoreHost()
    alone = compiled.run({}, impure=ImpureLog(), host=host)
    assert isinstance(alone, ErrorValue) and alone.node_id == write.id
    assert "String for key" in alone.message
    assert host.rows == {}


def test_version_1_code_keeps_discarding_the_failure() -> None:
    handler, write, _ = users_handler(1)
    program = Program.from_toplevels([USERS, handler])
    host, live = StoreHost(), LiveValues()
    value = run_toplevel(handler, {}, program, host=host, impure=ImpureLog(), live=live)
    assert value == Response(201, "made")
    assert host.rows == {"Users_v0": {"bob": "Bob"}}
    shown = live.get(write.id)
    assert shown is not None and isinstance(shown.value, ErrorValue)
    assert agree(handler, {}, program, Budget(), StoreHost) == Response(201, "made")


def test_a_write_that_cannot_run_stops_the_handler_too() -> None:
    # An unfinished argument and an error argument: the write is not made, and says so.
    unfinished = b.call("DB::set_v1", b.hole(), "k", b.var("Users_v0"))
    broken = b.call("DB::set_v1", b.call("Int::divide_v0", 1, 0), "k", b.var("Users_v0"))
    for call, why in ((unfinished, "argument value is unfinished"),
                      (broken, "argument value is an error")):
        handler = b.http("POST", "/x", b.let("_", call, 1), language_version=2)
        program = Program.from_toplevels([USERS, handler])
        host = StoreHost()
        value = run_toplevel(handler, {}, program, host=host, impure=ImpureLog())
        assert isinstance(value, ErrorValue) and value.node_id == call.id, value
        assert "DB::set_v1 did not run" in value.message and why in value.message
        assert host.rows == {}
        assert agree(handler, {}, program, Budget(), StoreHost) == value


def test_an_impure_call_with_the_wrong_number_of_arguments_stops_the_handler() -> None:
    call = ECall(new_id(), LibFnRef("DB", "count", 0), (), False)
    handler = b.http("GET", "/c", b.let("_", call, 5), language_version=2)
    program = Program.from_toplevels([USERS, handler])
    got = agree(handler, {}, program, Budget(), StoreHost)
    assert isinstance(got, ErrorValue) and got.node_id == call.id
    assert "DB::count_v0 failed" in got.message and "was given 0" in got.message


def test_a_failure_inside_a_function_or_a_lambda_stops_the_handler() -> None:
    # A write with no runtime to hold the data fails in the library (LibError) ...
    emit = b.call("Emit::emit_v0", 1, "")
    fn = b.function("enqueue", [], INT, b.let("_", emit, 0), language_version=2)
    via_fn = b.http("GET", "/f", b.let("_", b.user_call(fn), "done"), language_version=2)
    # ... and inside a lambda a library function calls back.
    inner = b.call("DB::delete_v1", b.var("x"), b.var("Users_v0"))
    via_lambda = b.http("GET", "/l", b.let("_", b.call(
        "List::map_v0", b.list_(1, 2), b.lam(["x"], inner)), "done"), language_version=2)
    for handler, failing in ((via_fn, emit), (via_lambda, inner)):
        program = Program.from_toplevels([USERS, fn, handler])
        value = run_toplevel(handler, {}, program, host=StoreHost(), impure=ImpureLog())
        assert isinstance(value, ErrorValue) and value.node_id == failing.id, value
        assert agree(handler, {}, program, Budget(), StoreHost) == value


def test_a_preview_of_a_branch_not_taken_never_stops_the_run() -> None:
    write = b.call("DB::set_v1", "Ada", 7, b.var("Users_v0"))
    after = b.int_(1)
    handler = b.http("GET", "/p", b.if_(False, b.let("_", write, after), 2), language_version=2)
    live = LiveValues()
    value = run_toplevel(handler, {}, Program.from_toplevels([USERS, handler]),
                         host=StoreHost(), impure=ImpureLog(), live=live)
    assert value == 2
    # The preview of the branch goes on past the call, as in version 1.
    shown = live.get(after.id)
    assert shown is not None and shown.value == 1 and not shown.taken


def test_pure_and_unknown_calls_keep_their_error_values_in_version_2() -> None:
    # Only impure calls stop: a pure call's error (and an unknown function's) is a value.
    unknown = ECall(new_id(), LibFnRef("Nope", "zzz", 0), (), False)
    for call, says in ((unknown, "unknown function Nope::zzz_v0"),
                       (b.call("Int::divide_v0", 1, 0), "zero")):
        handler = b.http("GET", "/u", b.let("_", call, 5), language_version=2)
        program = Program.from_toplevels([handler])
        assert agree(handler, {}, program, Budget(), StoreHost) == 5
        alone = run_toplevel(b.http("GET", "/v", call, language_version=2), {}, program)
        assert isinstance(alone, ErrorValue) and alone.node_id == call.id
        assert says in alone.message and "stopped" not in alone.message


# ------------------------------------------------------------------ property

def _failing_calls(draw: st.DrawFn) -> ECall:
    """An impure call that fails: a key of the wrong type, an unfinished or broken
    argument, a queue with no name, a write with no runtime to hold it."""
    key = draw(st.sampled_from([7, 2.5, True, b.call("Uuid::generate_v0")]))
    kind = draw(st.sampled_from(["key", "hole", "error", "queue", "delete"]))
    table = b.var("Users_v0")
    if kind == "key":
        return b.call("DB::set_v1", "v", key, table)
    if kind == "hole":
        return b.call("DB::set_v1", b.hole(), "k", table)
    if kind == "error":
        return b.call("DB::get_v2", b.call("Int::divide_v0", 1, 0), table)
    if kind == "queue":
        return b.call("Emit::emit_v0", 1, "")
    return b.call("DB::delete_v1", key, table)


@st.composite
def discarding(draw: st.DrawFn) -> tuple[Expr, ECall]:
    """A body that runs a failing impure call and throws its value away, in one of the
    ways code can: a `_` binding, an unused name, a list item, a pipe's head."""
    call = _failing_calls(draw)
    rest = draw(exprs(max_leaves=6))
    way = draw(st.sampled_from(["let _", "let unused", "list", "pipe", "record"]))
    if way == "let _":
        body: Expr = b.let("_", call, rest)
    elif way == "let unused":
        body = b.let("zz_unused", call, rest)
    elif way == "list":
        body = b.let("_", b.list_(call, 1), rest)
    elif way == "record":
        body = b.let("_", b.record(a=call, b=2), rest)
    else:
        body = b.let("_", b.pipe(call, b.call("List::singleton_v0", b.target())), rest)
    return body, call


@settings(max_examples=100, deadline=None)
@given(case=discarding(),
       version=st.integers(FAILED_CALLS_STOP_FROM, LATEST_LANGUAGE_VERSION))
def test_a_discarded_failing_impure_call_never_gives_a_normal_answer(
    case: tuple[Expr, ECall], version: int
) -> None:
    body, call = case
    handler = b.http("POST", "/p", body, language_version=version)
    program = Program.from_toplevels([USERS, handler])
    # Both paths, agreeing (`agree` asserts it); the value is the failure at the call.
    got = agree(handler, {}, program, Budget(), StoreHost)
    assert isinstance(got, ErrorValue), got
    assert got.node_id == call.id and call.fn.qualified in got.message


# ------------------------------------------------------------------- editor

def test_a_handler_made_with_the_keyboard_is_written_in_the_stopping_version(qapp: Any) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from editor.controller import EditorController
    from editor.widgets.main_window import MainWindow

    window = MainWindow(EditorController(None))
    window.show()
    try:
        before = set(window.controller.state.canvas)
        QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        made = [tl for tlid, tl in window.controller.state.canvas.items() if tlid not in before]
        assert len(made) == 1 and isinstance(made[0], Handler)
        assert made[0].language_version == LATEST_LANGUAGE_VERSION
        assert failed_call_stops(made[0].language_version)
    finally:
        window.close()
        window.deleteLater()
