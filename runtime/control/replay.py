"""Replaying stored traces against a candidate version of a handler.

Before a change to code in use is committed (a feature flag's new branch, a
library function upgrade, a move to a newer language version), the runtime
runs the handler's stored requests twice, with the code as it is live and
with the candidate, and reports trace by trace where the answers differ. No
difference means the change can be committed with one command.

Replays never touch the world: impure calls the trace recorded (a random
UUID, a datastore read) return what they returned then, and anything the
candidate does that the trace never did (a new datastore write) runs without
a host, so it fails inside the replay instead of writing for real.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from runtime.services import impure_from_json
from runtime.store.protocol import TraceRecord
from runtime.traffic.responses import answer_for, handler_label
from runtime.traffic.trace_input import trace_bindings
from shared_ast import wire
from shared_ast.eval_context import Budget, ImpureLog
from shared_ast.evaluator import run_toplevel
from shared_ast.program import Program
from shared_ast.routes import Route, split_path
from shared_ast.toplevels import Handler, HttpSpec, Toplevel, UserFunction

#: How many traces a replay runs at most, newest first.
MAX_REPLAYED = 1000


@attrs.frozen
class ReplayRow:
    trace_id: str
    description: str
    #: What the live code answers to the trace, and what the candidate answers.
    old: dict[str, Any]
    new: dict[str, Any]

    @property
    def same(self) -> bool:
        return self.old == self.new

    def to_json(self) -> dict[str, Any]:
        return {"trace_id": self.trace_id, "description": self.description,
                "same": self.same, "old": self.old, "new": self.new}


def trace_inputs(tl: Handler | UserFunction, trace: TraceRecord) -> dict[str, Any]:
    """The variables a trace's run was given: `request` and the route's parameters for
    HTTP, a worker's `event`, nothing for a cron."""
    params = trace_bindings(trace.input_json)
    if isinstance(tl, Handler) and isinstance(tl.spec, HttpSpec):
        route = Route(tl.spec.method, split_path(tl.spec.route), tl)
        path = trace.description.split(" ", 1)[1] if " " in trace.description else ""
        params.update(route.match(split_path(path)) or {})
    return params


def answer(tl: Handler, inputs: dict[str, Any], program: Program, trace: TraceRecord
           ) -> dict[str, Any]:
    """What `tl` answers to the trace's request, with the trace's impure results."""
    impure = ImpureLog(impure_from_json(trace.impure_json))
    value = run_toplevel(tl, inputs, program, budget=Budget(), impure=impure, host=None)
    return answer_for(value, handler_label(tl)).summary()


def replay(live: Handler, candidate: Handler, live_program: Program,
           candidate_program: Program, traces: Sequence[TraceRecord]) -> list[ReplayRow]:
    rows = []
    for trace in traces[:MAX_REPLAYED]:
        inputs = trace_inputs(live, trace)
        rows.append(ReplayRow(trace.trace_id, trace.description,
                              answer(live, inputs, live_program, trace),
                              answer(candidate, trace_inputs(candidate, trace),
                                     candidate_program, trace)))
    return rows


def changed_toplevels(raw: Any, live: Mapping[int, Toplevel], handler_tlid: int
                      ) -> list[Toplevel]:
    """The `changed` toplevels of a replay message (wire format): other toplevels the
    candidate change touches, each in place of the live toplevel with its tlid (or new).
    Raises ValueError saying what is wrong."""
    if not isinstance(raw, list):
        raise ValueError('"changed" is a list of toplevels (the wire format), the other '
                         "toplevels the change touches")
    found = []
    for i, item in enumerate(raw):
        try:
            tl = wire.decode_toplevel(item, f"$.changed[{i}]")
        except wire.WireError as e:
            raise ValueError(f"a changed toplevel does not decode: {e}") from None
        if tl.tlid == handler_tlid:
            raise ValueError(f"$.changed[{i}] is the handler itself (tlid {handler_tlid}): "
                             'send the handler as "toplevel" only')
        was = live.get(tl.tlid)
        if was is not None and type(was) is not type(tl):
            raise ValueError(f"$.changed[{i}] (tlid {tl.tlid}) is a {tl.KIND}, but that "
                             f"toplevel is a {was.KIND}: send a version of the same toplevel")
        found.append(tl)
    return found


def program_with(program_of: Sequence[Toplevel], candidate: Toplevel,
                 *others: Toplevel) -> Program:
    """The canvas's program with the candidate (and `others`, toplevels the same change
    touched, such as a function whose flag is committed) in place of those they replace."""
    changed = {tl.tlid: tl for tl in (*others, candidate)}
    kept = [changed.pop(tl.tlid, tl) for tl in program_of]
    return Program.from_toplevels([*kept, *changed.values()])
