"""Properties of ops over generated programs: valid ops apply and invert, junk never crashes.

The invariants DESIGN.md promises ("each op has an inverse, so undo is an op";
"a bad op gets a clear error message back and changes nothing") run 2,000
examples each in the default profile.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from op_strategies import canvas_ready, canvas_toplevels, junk_ops, valid_ops
from strategies import toplevels

from shared_ast import ops as o
from shared_ast.apply import OpError, apply, apply_to_canvas, invert, validate

MANY = settings(max_examples=1000, deadline=None)
# Built once: hypothesis validates each new strategy object, which is slow for big trees.
_ANY_TOPLEVEL = st.one_of(toplevels(), canvas_toplevels(), st.none())
_TOPLEVEL_OR_FREE_SLOT = st.one_of(canvas_toplevels(), canvas_toplevels(), canvas_toplevels(),
                                   st.none())


def _is_noop(op: o.Op) -> bool:
    """Ops whose new value equals the old one leave the toplevel as it was."""
    if isinstance(op, o.CreateToplevel | o.DeleteToplevel | o.InsertElement | o.RemoveElement):
        return False
    return bool(op.old == op.new)  # type: ignore[attr-defined]


@MANY
@given(st.data())
def test_every_valid_op_applies_and_its_inverse_restores_the_toplevel(data: st.DataObject) -> None:
    tl = data.draw(_TOPLEVEL_OR_FREE_SLOT)
    op = data.draw(valid_ops(tl))
    assert validate(op, tl) is None
    after = apply(op, tl)
    assert (after == tl) == _is_noop(op)
    undo = invert(op)
    assert validate(undo, after) is None
    assert apply(undo, after) == tl


@MANY
@given(st.data())
def test_invert_is_an_involution(data: st.DataObject) -> None:
    tl = data.draw(_TOPLEVEL_OR_FREE_SLOT)
    op = data.draw(valid_ops(tl))
    assert invert(invert(op)) == op


@MANY
@given(st.data())
def test_ops_then_their_inverses_in_reverse_order_restore_the_canvas(data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 3))
    canvas = {tl.tlid: tl for tl in
              (data.draw(canvas_toplevels(tlid_start=1 + 10_000 * k)) for k in range(count))}
    current = dict(canvas)
    ops: list[o.Op] = []
    for step in range(data.draw(st.integers(1, 6))):
        tlid = data.draw(st.sampled_from([*sorted(current), None]))
        new_tlid = 100_000 * (step + 1)
        op = data.draw(valid_ops(current.get(tlid) if tlid is not None else None,
                                 new_tlid=new_tlid))
        ops.append(op)
        current = apply_to_canvas([op], current)
    assert apply_to_canvas(ops, canvas) == current
    undo = [invert(op) for op in reversed(ops)]
    assert apply_to_canvas(undo, current) == canvas
    # And one op at a time, as an editor's undo stack would send them.
    for op in undo:
        tlid = op.target_tlid
        after = apply(op, current.get(tlid))
        current = {k: v for k, v in current.items() if k != tlid}
        if after is not None:
            current[tlid] = after
    assert current == canvas


@MANY
@given(st.data())
def test_junk_ops_are_refused_cleanly_and_never_crash(data: st.DataObject) -> None:
    tl = data.draw(_ANY_TOPLEVEL)
    op = data.draw(junk_ops(tl))
    reason = validate(op, tl)
    assert reason is None or (isinstance(reason, str) and reason)
    try:
        after = apply(op, tl)
    except OpError as refusal:
        assert reason == refusal.message
    else:
        assert reason is None
        # Whatever was accepted must be undoable, on a toplevel a canvas can hold (a raw
        # one may use `??` or a newer language version, so recreating it is refused).
        if tl is None or canvas_ready(tl) == tl:
            assert apply(invert(op), after) == tl
    # A batch finds the toplevel by the op's own tlid, so it may judge differently.
    canvas = {tl.tlid: tl} if tl is not None else {}
    try:
        result = apply_to_canvas([op], canvas)
    except OpError as refusal:
        assert refusal.op_index == 0 and refusal.reason
    else:
        tlid = op.target_tlid
        assert result.get(tlid) == apply(op, canvas.get(tlid))


@pytest.mark.parametrize("kind", o.OP_KINDS, ids=lambda k: k.KIND)
# Some kinds fit only some toplevels (a handler spec only a handler), so generation
# rejects many drawn toplevels by design; that is not a sign of a bad strategy.
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_each_kind_of_valid_op_is_generated_and_applies(kind: type[o.Op],
                                                       data: st.DataObject) -> None:
    tl = None if kind is o.CreateToplevel else data.draw(canvas_toplevels())
    op = data.draw(valid_ops(tl, kind=kind))
    assert type(op) is kind
    after = apply(op, tl)
    assert apply(invert(op), after) == tl


@settings(max_examples=500, deadline=None)
@given(st.data())
def test_an_op_sent_twice_is_refused_the_second_time_and_the_batch_changes_nothing(
    data: st.DataObject,
) -> None:
    tl = data.draw(canvas_toplevels())
    op = data.draw(valid_ops(tl))
    assume(not _is_noop(op))
    canvas = {tl.tlid: tl}
    snapshot = dict(canvas)
    assert validate(op, apply(op, tl)) is not None
    with pytest.raises(OpError) as refusal:
        apply_to_canvas([op, op], canvas)
    assert refusal.value.op_index == 1
    assert canvas == snapshot
