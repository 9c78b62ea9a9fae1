"""Checker: re-check after one edit on a canvas of about 5,000 nodes (issue 6, target < 5 ms).

The canvas is 10 user functions and 40 handlers calling them, about 100 nodes
each. One edit replaces an Int literal in one handler's body. What is timed is
what the editor does after that edit: `editor.model.checking.recheck` (it
rebuilds the Program index and re-checks the edited toplevel, keeping the
others' results). The baseline is the same call with no kept results, i.e. a
full re-check of every toplevel on the canvas.
"""

from __future__ import annotations

import common
from programs import canvas_of, size_of

from editor.model.checking import recheck
from shared_ast.apply import apply
from shared_ast.checker import check_toplevel
from shared_ast.ids import new_id
from shared_ast.nodes import EInt
from shared_ast.ops import ReplaceNode
from shared_ast.program import Program
from shared_ast.toplevels import Handler
from shared_ast.traverse import walk

EDITS = 200


def main() -> dict[str, object]:
    toplevels = canvas_of(50, 100, 10)
    canvas = {t.tlid: t for t in toplevels}
    nodes = sum(size_of(t) for t in toplevels)
    target = next(t for t in reversed(toplevels) if isinstance(t, Handler))
    literal = next(n for n in walk(target.body) if isinstance(n, EInt))
    infos = recheck({}, canvas, {})

    # Alternate between two versions of the edited handler so every call sees a real change.
    versions = []
    current = target
    for value in (1000, 2000):
        new = EInt(new_id(), value)
        op = ReplaceNode(target.tlid, literal.id, literal, new)
        versions.append(apply(op, current))
    before = dict(canvas)
    incremental: list[float] = []
    single: list[float] = []
    for i in range(EDITS):
        edited = versions[i % 2]
        after = {**before, target.tlid: edited}
        start = common.now_ms()
        infos = recheck(before, after, infos)
        incremental.append(common.now_ms() - start)
        program = Program.from_toplevels(after.values())
        start = common.now_ms()
        check_toplevel(edited, program)
        single.append(common.now_ms() - start)
        before = after
    full = common.time_calls(lambda: recheck({}, before, {}), repeat=15)

    inc = common.spread(incremental)
    one = common.spread(single)
    whole = common.spread(full)
    figures = {
        "checker_canvas_nodes": nodes,
        "checker_canvas_toplevels": len(toplevels),
        "checker_edited_toplevel_nodes": size_of(target),
        "checker_recheck_ms": inc["p50"],
        "checker_recheck_p99_ms": inc["p99"],
        "checker_check_toplevel_ms": one["p50"],
        "checker_full_recheck_ms": whole["p50"],
        "checker_full_recheck_p99_ms": whole["p99"],
        "checker_speedup_vs_full": common.ratio(whole["p50"], inc["p50"]),
        "checker_target_met": inc["p50"] < 5.0,
    }
    common.report(
        "checker", figures,
        f"re-check after one edit on {nodes} nodes: p50 {inc['p50']} ms (p99 {inc['p99']} ms), "
        f"full-canvas re-check {whole['p50']} ms, {figures['checker_speedup_vs_full']}x faster; "
        "target < 5 ms " + ("met" if figures["checker_target_met"] else "NOT met"),
    )
    return figures


if __name__ == "__main__":
    main()
