"""Re-checking after an edit reuses what still holds, and gives what a full check gives."""

from __future__ import annotations

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from editor.model.checking import recheck
from shared_ast import build as b
from shared_ast.checker import check_toplevel
from shared_ast.program import Program
from shared_ast.toplevels import Handler, Toplevel, UserFunction
from shared_ast.type_ast import INT, STRING
from tests.strategies import toplevels


def full(canvas: dict[int, Toplevel]) -> dict[int, object]:
    program = Program.from_toplevels(canvas.values())
    return {t: check_toplevel(tl, program) for t, tl in canvas.items()
            if isinstance(tl, (Handler, UserFunction))}


def test_a_body_edit_rechecks_that_toplevel_alone() -> None:
    fn = b.function("f", [("x", INT)], INT, b.var("x"))
    one = b.http("GET", "/1", b.user_call(fn, 1))
    two = b.http("GET", "/2", 2)
    before = {t.tlid: t for t in (fn, one, two)}
    infos = recheck({}, before, {})
    after = dict(before)
    after[two.tlid] = attrs.evolve(two, body=b.str_("x"))
    again = recheck(before, after, infos)
    assert again[one.tlid] is infos[one.tlid] and again[fn.tlid] is infos[fn.tlid]
    assert again[two.tlid] is not infos[two.tlid]
    assert again == full(after)


def test_a_signature_change_rechecks_the_callers() -> None:
    fn = b.function("f", [("x", INT)], INT, b.var("x"))
    caller = b.http("GET", "/1", b.user_call(fn, 1))
    before = {t.tlid: t for t in (fn, caller)}
    infos = recheck({}, before, {})
    after = dict(before)
    after[fn.tlid] = attrs.evolve(fn, params=(attrs.evolve(fn.params[0], type=STRING),))
    again = recheck(before, after, infos)
    assert again[caller.tlid] != infos[caller.tlid]      # 1 is no longer a String
    assert again == full(after)


@settings(max_examples=80, deadline=None)
@given(st.lists(toplevels(), min_size=1, max_size=4, unique_by=lambda t: t.tlid),
       st.data())
def test_rechecking_any_edit_equals_checking_from_scratch(tls: list[Toplevel],
                                                          data: st.DataObject) -> None:
    before = {t.tlid: t for t in tls}
    infos = recheck({}, before, {})
    replaced = data.draw(st.sampled_from(tls))
    other = data.draw(toplevels())
    after = dict(before)
    after[replaced.tlid] = attrs.evolve(other, tlid=replaced.tlid)
    assert recheck(before, after, infos) == full(after)
