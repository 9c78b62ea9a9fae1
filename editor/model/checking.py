"""Checking as the canvas changes: re-check only what an edit can affect.

The checker works a toplevel at a time against the canvas's program. After an
edit, the toplevels whose tree did not change keep their results, unless the
edit changed what they can see of others: a function's or type's signature, a
datastore's schema, or which of them exist. A body edit in one handler re-checks
that handler alone, so the editor stays fast on a large canvas.

`infos_of` gives the results for a canvas to commands that need them (going to
the next problem): the last canvas `recheck` saw is remembered, so asking for
the canvas on screen costs nothing, and another one re-checks what differs.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared_ast.checker import NodeInfo, check_toplevel
from shared_ast.program import Program
from shared_ast.toplevels import Datastore, Handler, Test, Toplevel, UserFunction, UserType

Infos = dict[int, dict[int, NodeInfo]]

#: The last canvas checked and its results: `infos_of` starts from them.
_last: tuple[Mapping[int, Toplevel], Infos] = ({}, {})


def _surface(tl: Toplevel | None) -> object:
    """What other toplevels see of this one; None for handlers, which nobody names."""
    match tl:
        case UserFunction():
            return ("fn", tl.fn_id, tl.name, tl.version, tuple((p.name, p.type) for p in tl.params),
                    tl.return_type)
        case UserType():
            return ("type", tl.type_id, tl.name, tl.version, tl.definition)
        case Datastore():
            return ("datastore", tl.name, tl.version, tl.schema)
    return None


def recheck(before: Mapping[int, Toplevel], after: Mapping[int, Toplevel],
            infos: Infos) -> Infos:
    """The checker's results for `after`, reusing `infos` (for `before`) where they still hold."""
    changed = {t for t, tl in after.items() if before.get(t) is not tl}
    removed = set(before) - set(after)
    surface_moved = any(_surface(before.get(t)) != _surface(after.get(t))
                        for t in changed | removed)
    program = Program.from_toplevels(after.values())
    out: Infos = {}
    for tlid, tl in after.items():
        if not isinstance(tl, (Handler, UserFunction, Test)):
            continue
        if tlid in infos and tlid not in changed and not surface_moved:
            out[tlid] = infos[tlid]
        else:
            out[tlid] = check_toplevel(tl, program)
    global _last
    _last = (after, out)
    return out


def infos_of(canvas: Mapping[int, Toplevel]) -> Infos:
    """The checker's results for `canvas`, re-checking only what differs from the last one."""
    before, infos = _last
    if before is canvas:
        return infos
    return recheck(before, canvas, infos)
