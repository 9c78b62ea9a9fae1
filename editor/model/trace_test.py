"""Making a test from a trace, the editor's half: which trace, and where the test goes.

The runtime writes the test (the editor API's `trace_to_test`, runtime/control/test_api.py):
the trace's input, the answer it gave as the expected value, its impure calls recorded.
The editor asks for the trace the inspector shows for the handler at the caret (the
newest when none is chosen), then creates the test with one `create_toplevel` op,
placed beside the handler (to its right, in the first free space from its top), and
says whether the test passes. Undo removes it, like any new toplevel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from editor.model import placement
from editor.model.state import EditorState, Outcome, commit, refuse
from shared_ast.ops import CreateToplevel
from shared_ast.toplevels import Handler, HttpSpec, ReplSpec, Test

__all__ = ["COMMAND", "TITLE", "add_test", "chosen_trace"]

#: The command (palette and key) and its title.
COMMAND = "test-from-trace"
TITLE = "Make a test from this trace (the selected request, event or cron run)"

#: The size assumed for a frame not shown yet.
DEFAULT_SIZE = (420, 200)


def chosen_trace(state: EditorState, traces: Mapping[int, Sequence[dict[str, Any]]],
                 selected: Mapping[int, str]) -> tuple[int, str] | str:
    """(handler tlid, trace id) to make a test from, or what to do first."""
    tl = state.toplevel
    if not isinstance(tl, Handler) or isinstance(tl.spec, ReplSpec):
        return ("Put the caret in an HTTP handler, worker or cron with a trace to make a "
                "test from it.")
    trace_id = selected.get(tl.tlid)
    if trace_id is None and traces.get(tl.tlid):
        trace_id = str(traces[tl.tlid][0]["trace_id"])
    if trace_id is None:
        what = "send it a request" if isinstance(tl.spec, HttpSpec) else "let it run"
        return f"This handler has no trace yet: {what}, then make a test from the trace."
    return tl.tlid, trace_id


def add_test(state: EditorState, test: Test, handler_tlid: int,
             sizes: Mapping[int, tuple[int, int]], result: Mapping[str, Any] | None = None
             ) -> Outcome:
    """Create `test` beside the handler it tests; the caret stays where it is."""
    if test.tlid in state.canvas:
        return refuse(state, "That test is on the canvas already.")
    boxes = {tlid: placement.Box(tl.pos.x, tl.pos.y, *sizes.get(tlid, DEFAULT_SIZE))
             for tlid, tl in state.canvas.items()}
    handler = boxes.get(handler_tlid)
    if handler is not None:
        pos = placement.free_position(boxes, DEFAULT_SIZE, left=handler.x + handler.w
                                      + placement.GAP, top=handler.y)
    else:
        pos = placement.free_position(boxes, DEFAULT_SIZE)
    test = attrs.evolve(test, pos=pos)
    result = result or {}
    said = ("it passes" if result.get("status") == "passed" else
            f"it does not pass yet: {result.get('summary')}" if result else "run it to see")
    out = commit(state, [CreateToplevel(test)], state.caret,
                 f"Test “{test.name}” made from the trace ({len(test.recording)} recorded "
                 f"call(s) replayed): {said}.", record=False)
    if out.refused:
        return out
    history = out.state.history.record(test.tlid, out.ops)
    return attrs.evolve(out, state=attrs.evolve(out.state, history=history))
