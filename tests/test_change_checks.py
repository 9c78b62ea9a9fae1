"""Checking a change before it goes live (editor.model.change_checks): which tests and
handlers it affects, the tests run on the candidate canvas, and when to ask."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from editor.model import change_checks, motion
from editor.model.state import EditorState, Outcome
from editor.projection import Caret
from shared_ast import build as b
from shared_ast import wire
from shared_ast.apply import LATEST_LANGUAGE_VERSION
from shared_ast.nodes import EFlag
from shared_ast.toplevels import Toplevel
from shared_ast.type_ast import INT


def canvas_of(*tls: Toplevel) -> dict[int, Toplevel]:
    return {tl.tlid: tl for tl in tls}


def priced(old: int = 2, new: int = 3, expected: int = 4) -> dict[str, Any]:
    """`price n` = flag triple (off): n * old | n * new; a test expects price 2 == expected;
    GET /price/:n calls price; another test and handler reach nothing of it."""
    fn = b.function("price", [("n", INT)], INT,
                    b.flag("triple", False, b.infix("*", b.var("n"), old),
                           b.infix("*", b.var("n"), new)), pos=(500, 20))
    test = b.test("doubles two", b.expect(b.user_call(fn, 2), expected), pos=(20, 400))
    other = b.test("adds", b.expect(b.infix("+", 1, 1), 2), pos=(20, 600))
    handler = b.http("GET", "/price/:n",
                     b.user_call(fn, b.call("Int::parse_v0", b.var("n"), rail=True)),
                     pos=(20, 20))
    lone = b.http("GET", "/lone", 1, pos=(20, 200))
    return {"fn": fn, "test": test, "other": other, "handler": handler, "lone": lone,
            "canvas": canvas_of(fn, test, other, handler, lone)}


def on_flag(canvas: dict[int, Toplevel], fn: Toplevel) -> EditorState:
    state = EditorState().with_canvas(canvas)
    flag = fn.body  # type: ignore[attr-defined]
    assert isinstance(flag, EFlag)
    return attrs.evolve(motion.focus(state, fn.tlid).state, caret=Caret(fn.tlid, flag.id, 0))


def test_committing_a_flag_whose_new_branch_breaks_a_test_names_the_test_and_state() -> None:
    p = priced()
    change = change_checks.plan(on_flag(p["canvas"], p["fn"]), "commit-flag")
    assert isinstance(change, change_checks.Change)
    assert change.changed == (p["fn"].tlid,)
    assert [t.tlid for t in change.tests] == [p["test"].tlid]        # not "adds"
    assert [h.tlid for h in change.handlers] == [p["handler"].tlid]  # not /lone
    assert change.forced == "flag triple new"
    assert "committing flag 'triple'" in change.what
    # The candidate has the flag committed; the state it ran on is untouched.
    assert not isinstance(change.candidate[p["fn"].tlid].body, EFlag)  # type: ignore[attr-defined]
    assert isinstance(change.before.canvas[p["fn"].tlid].body, EFlag)  # type: ignore[attr-defined]
    ran = change_checks.run_tests(change)
    report = change_checks.ChangeReport(change, ran, ())
    assert report.needs_asking
    assert [r.name for r in report.failing_tests] == ["doubles two"]
    # It passed with the flag old before: this change breaks it, it was not already failing.
    assert ran.already_failing == frozenset()
    line = report.lines()[0]
    assert line == "test 'doubles two' failed with flag triple new: expected 4, got 6", line
    assert "1 test(s): 0 pass, 1 fail" in report.summary()


def test_a_commit_every_test_passes_with_does_not_ask() -> None:
    p = priced(old=2, new=2)
    change = change_checks.plan(on_flag(p["canvas"], p["fn"]), "commit-flag")
    assert isinstance(change, change_checks.Change)
    report = change_checks.ChangeReport(change, change_checks.run_tests(change), ())
    assert not report.needs_asking and report.lines() == []
    assert "1 test(s): 1 pass" in report.summary()


def test_a_test_that_failed_with_the_old_branch_too_is_said_to_fail_already() -> None:
    p = priced(old=2, new=3, expected=5)
    change = change_checks.plan(on_flag(p["canvas"], p["fn"]), "commit-flag")
    assert isinstance(change, change_checks.Change)
    ran = change_checks.run_tests(change)
    assert ran.already_failing == {p["test"].tlid}
    report = change_checks.ChangeReport(change, ran, ())
    assert report.needs_asking and "already failed before this change" in report.lines()[0]


def test_a_refused_command_is_its_refusal_and_nothing_is_checked() -> None:
    p = priced()
    state = motion.focus(EditorState().with_canvas(p["canvas"]), p["lone"].tlid).state
    out = change_checks.plan(state, "commit-flag")
    assert isinstance(out, Outcome) and out.refused and "feature flag" in out.message


def test_the_replay_sends_the_handler_and_the_changed_function_it_calls() -> None:
    p = priced()
    change = change_checks.plan(on_flag(p["canvas"], p["fn"]), "commit-flag")
    assert isinstance(change, change_checks.Change)
    [message] = change_checks.replay_messages(change)
    assert message["type"] == "replay" and message["tlid"] == p["handler"].tlid
    assert wire.decode_toplevel(message["toplevel"]) == p["handler"]
    [fn] = [wire.decode_toplevel(t) for t in message["changed"]]
    assert fn == change.candidate[p["fn"].tlid] and fn != p["fn"]


def test_replays_that_answer_differently_ask_and_are_listed() -> None:
    p = priced(old=2, new=2)
    change = change_checks.plan(on_flag(p["canvas"], p["fn"]), "commit-flag")
    assert isinstance(change, change_checks.Change)
    reply = {"replayed": 2, "differ": 1, "rows": [
        {"description": "GET /price/3", "same": False, "old": {"status": 200, "body": "6"},
         "new": {"status": 200, "body": "9"}},
        {"description": "GET /price/0", "same": True, "old": {"status": 200, "body": "0"},
         "new": {"status": 200, "body": "0"}}]}
    replay = change_checks.replay_from_reply(p["handler"], reply)
    report = change_checks.ChangeReport(change, change_checks.run_tests(change), (replay,))
    assert report.needs_asking
    assert report.lines() == ["HTTP GET /price/:n: GET /price/3 answers 200 '6' now, 200 '9' after"]
    assert "2 stored request(s) replayed, 1 answer differently" in report.summary()
    # A replay that could not run is said, and does not by itself ask.
    broken = change_checks.Replay(p["handler"].tlid, "GET /price/:n", problem="timed out")
    quiet = change_checks.ChangeReport(change, change_checks.run_tests(change), (broken,))
    assert not quiet.needs_asking
    assert "GET /price/:n: the replay could not run (timed out)" in quiet.summary()


def test_moving_a_call_to_the_newest_function_version_runs_the_tests_of_the_caller() -> None:
    fn = b.function("half", [("n", INT)], INT, b.infix("/", b.var("n"), 2), pos=(500, 20))
    v1 = b.function("half", [("n", INT)], INT, b.infix("*", b.var("n"), 2), pos=(500, 200),
                    fn_id=fn.fn_id, version=1)
    caller = b.function("quarter", [("n", INT)], INT, b.user_call(fn, b.user_call(fn,
                                                                                  b.var("n"))))
    test = b.test("quarter of 8", b.expect(b.user_call(caller, 8), 2))
    state = EditorState().with_canvas(canvas_of(fn, v1, caller, test))
    call = caller.body
    state = attrs.evolve(motion.focus(state, caller.tlid).state,
                         caret=Caret(caller.tlid, call.id, 0))
    change = change_checks.plan(state, "use-newest-version")
    assert isinstance(change, change_checks.Change)
    assert change.changed == (caller.tlid,) and [t.name for t in change.tests] == [
        "quarter of 8"]
    report = change_checks.ChangeReport(change, change_checks.run_tests(change), ())
    assert report.needs_asking and "expected 2, got" in report.lines()[0]


@given(old=st.integers(-50, 50), new=st.integers(-50, 50), other=st.integers(-100, 100),
       which=st.sampled_from(["old", "new", "other"]))
def test_it_asks_exactly_when_the_committed_branch_breaks_the_test(
        old: int, new: int, other: int, which: str) -> None:
    # The test expects what the old branch gives, what the new one gives, or anything.
    expected = {"old": 2 * old, "new": 2 * new, "other": other}[which]
    p = priced(old, new, expected)
    change = change_checks.plan(on_flag(p["canvas"], p["fn"]), "commit-flag")
    assert isinstance(change, change_checks.Change)
    ran = change_checks.run_tests(change)
    report = change_checks.ChangeReport(change, ran, ())
    assert report.needs_asking == (2 * new != expected)
    assert ran.already_failing == ({p["test"].tlid} if 2 * new != expected != 2 * old
                                   else set())


def test_moving_a_function_to_the_newest_language_version_runs_the_tests_reaching_it() -> None:
    # An unfinished list element: version 0 leaves it out, version 1 makes the list unfinished.
    fn = b.function("items", [], INT, b.list_(1, b.hole(), 3), language_version=0)
    test = b.test("two items", b.expect(b.call("List::length_v0", b.user_call(fn)), 2))
    state = motion.focus(EditorState().with_canvas(canvas_of(fn, test)), fn.tlid).state
    change = change_checks.plan(state, "upgrade-language")
    assert isinstance(change, change_checks.Change)
    assert change.changed == (fn.tlid,)
    assert change.candidate[fn.tlid].language_version == LATEST_LANGUAGE_VERSION
    assert "move this toplevel to the newest language version in fn items" in change.what
    report = change_checks.ChangeReport(change, change_checks.run_tests(change), ())
    assert report.needs_asking
    assert report.lines() == ["test 'two items' failed: expected 2, got <incomplete>"]


def test_a_change_that_leaves_the_code_unfinished_asks_and_a_test_being_written_is_not_listed(
        ) -> None:
    """Committing a flag whose new branch is still a hole: the test of the function passed
    (with the flag old, as traffic runs it) and now gets an unfinished value: it fails, so
    the change asks. A test still being written (its expected value a hole) is incomplete,
    not a failure the dialog lists."""
    fn = b.function("price", [("n", INT)], INT,
                    b.flag("triple", False, b.infix("*", b.var("n"), 2), b.hole()))
    test = b.test("doubles two", b.expect(b.user_call(fn, 2), 4))
    unfinished = b.test("not written yet", b.expect(b.user_call(fn, 2), b.hole()))
    change = change_checks.plan(on_flag(canvas_of(fn, test, unfinished), fn), "commit-flag")
    assert isinstance(change, change_checks.Change)
    report = change_checks.ChangeReport(change, change_checks.run_tests(change), ())
    assert report.needs_asking
    assert report.lines() == [
        "test 'doubles two' failed with flag triple new: expected 4, got <incomplete>"], \
        report.lines()
    assert "2 test(s): 0 pass, 1 fail, 1 incomplete" in report.summary()


def test_a_test_made_meanwhile_that_reaches_the_change_voids_the_check() -> None:
    """Another editor adds a test of the function while the commit is checked (or while
    its dialog waits): the check never ran that test, so it no longer holds. A new test of
    something else, or any other new toplevel, leaves it be."""
    p = priced(old=2, new=2)
    change = change_checks.plan(on_flag(p["canvas"], p["fn"]), "commit-flag")
    assert isinstance(change, change_checks.Change)
    canvas = change.before.canvas
    unrelated = b.test("elsewhere", b.expect(1, 1))
    handler = b.http("GET", "/new", b.user_call(p["fn"], 1))
    assert change_checks.stale_for(change, {**canvas, unrelated.tlid: unrelated,
                                            handler.tlid: handler}) is None
    new = b.test("triples three", b.expect(b.user_call(p["fn"], 3), 9))
    assert change_checks.stale_for(change, {**canvas, new.tlid: new}) == new
    # An existing test edited to reach it is new to the check too.
    edited = attrs.evolve(p["other"], body=b.expect(b.user_call(p["fn"], 1), 2))
    assert change_checks.stale_for(change, {**canvas, edited.tlid: edited}) == edited
