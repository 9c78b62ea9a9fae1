"""The live table: what code each canvas runs right now.

A `CanvasState` is an immutable snapshot (toplevels, the program index the
evaluator resolves calls through, the route table) at one sequence number.
A deploy builds the next snapshot beside the current one and swaps the
reference in one assignment; a request takes the reference once, when it
starts, so it finishes on the code it started with and never sees half an
edit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping

import attrs

from runtime.store.protocol import Store
from shared_ast import wire
from shared_ast.apply import OpError, apply_to_canvas
from shared_ast.compiler import Compiled, compile_toplevel
from shared_ast.program import Program
from shared_ast.routes import RouteTable
from shared_ast.toplevels import (
    CronSpec,
    Datastore,
    Handler,
    Toplevel,
    UserFunction,
    UserType,
    WorkerSpec,
)

log = logging.getLogger("gloam.live")


@attrs.frozen
class CanvasState:
    name: str
    seq: int
    toplevels: Mapping[int, Toplevel]
    program: Program
    routes: RouteTable
    workers: Mapping[str, tuple[Handler, ...]]
    crons: tuple[Handler, ...]
    #: tlid → the handler compiled against `program` (issue 6's fast path). A deploy
    #: compiles the handlers it touched; a handler it did not touch but whose program
    #: changed (a function edit) is compiled when traffic first reaches it, so a
    #: function edit on a big canvas does not compile every handler before its ack.
    compiled: dict[int, Compiled | None] = attrs.field(factory=dict, eq=False)

    def compiled_for(self, handler: Handler) -> Compiled | None:
        """The compiled code of exactly this handler in this snapshot (compiled now if
        it has not been yet), or None: not this snapshot's handler, or not compilable."""
        if self.toplevels.get(handler.tlid) is not handler:
            return None
        found = self.compiled.get(handler.tlid, _MISSING)
        if found is None or (isinstance(found, Compiled) and found.toplevel is handler
                             and found.program is self.program):
            return found
        fresh = self.compiled[handler.tlid] = _compile(self.name, handler, self.program)
        return fresh

    @classmethod
    def build(
        cls,
        name: str,
        seq: int,
        toplevels: Mapping[int, Toplevel],
        *,
        program: Program | None = None,
        reuse: Mapping[int, Compiled | None] | None = None,
        compile_now: Iterable[int] | None = None,
    ) -> CanvasState:
        """A snapshot. Handlers in `compile_now` (all of them when it is None) are
        compiled here; compiled code in `reuse` is kept where still valid; the rest
        is compiled on first use."""
        handlers = [t for t in toplevels.values() if isinstance(t, Handler)]
        program = program if program is not None else Program.from_toplevels(toplevels.values())
        eager = None if compile_now is None else set(compile_now)
        compiled: dict[int, Compiled | None] = {}
        for h in handlers:
            old = (reuse or {}).get(h.tlid)
            if old is not None and old.toplevel is h and old.program is program:
                compiled[h.tlid] = old  # unchanged handler, same program: still valid
            elif eager is None or h.tlid in eager:
                compiled[h.tlid] = _compile(name, h, program)
        workers: dict[str, list[Handler]] = {}
        for h in handlers:
            if isinstance(h.spec, WorkerSpec):
                workers.setdefault(h.spec.queue, []).append(h)
        return cls(
            name=name,
            seq=seq,
            toplevels=dict(toplevels),
            program=program,
            routes=RouteTable.build(handlers),
            workers={q: tuple(hs) for q, hs in workers.items()},
            crons=tuple(h for h in handlers if isinstance(h.spec, CronSpec)),
            compiled=compiled,
        )

    def next(
        self, seq: int, toplevels: Mapping[int, Toplevel], changed: Iterable[int],
        *, compile_changed: bool = True,
    ) -> CanvasState:
        """The snapshot after a deploy that changed `changed`; reuses what did not change
        and compiles the changed handlers (the others, if the program changed, on first use).
        The control process serves no traffic, so it compiles nothing (`compile_changed`)."""
        changed = set(changed)
        eager = changed if compile_changed else set()
        code_changed = any(
            isinstance(t, UserFunction | UserType | Datastore)
            for tlid in changed
            for t in (self.toplevels.get(tlid), toplevels.get(tlid))
        )
        if not code_changed:
            # Functions, types and datastores are untouched: keep the same Program object,
            # so anything cached against it stays valid (compiled handlers included).
            return CanvasState.build(self.name, seq, toplevels, program=self.program,
                                     reuse=self.compiled, compile_now=eager)
        return CanvasState.build(self.name, seq, toplevels, compile_now=eager)


_MISSING = object()


def _compile(canvas: str, handler: Handler, program: Program) -> Compiled | None:
    try:
        return compile_toplevel(handler, program)
    except Exception:  # compile_toplevel should not raise; a deploy must never fail
        log.exception("canvas %s: handler %s not compiled, runs interpreted", canvas, handler.tlid)
        return None


def load_canvas(store: Store, name: str, *, compile_all: bool = True) -> CanvasState:
    """The canvas as the store holds it; its handlers compiled now, or on first use."""
    snap = store.snapshot(name)
    toplevels: dict[int, Toplevel] = {}
    for tlid, text in snap.toplevels.items():
        try:
            toplevels[tlid] = wire.decode_toplevel(wire.json_load(text))
        except (ValueError, wire.WireError) as e:
            # Kept in the store untouched; only this toplevel is not served.
            log.error("canvas %s: toplevel %s does not decode and is not served: %s", name, tlid, e)
    return CanvasState.build(name, snap.seq, toplevels, compile_now=None if compile_all else ())


def apply_batch(state: CanvasState | None, seq: int, ops_json: str,
                load: Callable[[], CanvasState], *, compile_changed: bool = True
                ) -> CanvasState:
    """The canvas after the committed batch numbered `seq`. A process that missed a
    batch, or cannot apply one (it never should: the deploy path validated it), loads
    the canvas from the store, which already holds it."""
    if state is None or seq != state.seq + 1:
        return load()
    try:
        ops = wire.decode_ops(wire.json_load(ops_json))
        toplevels = apply_to_canvas(ops, state.toplevels)
    except (ValueError, wire.WireError, OpError) as e:
        log.warning("canvas %s: batch %s does not apply here (%s); loading it", state.name,
                    seq, e)
        return load()
    return state.next(seq, toplevels, {op.target_tlid for op in ops},
                      compile_changed=compile_changed)


class LiveTable:
    """Canvas name → current `CanvasState`. Swaps are single assignments."""

    def __init__(self) -> None:
        self._states: dict[str, CanvasState] = {}

    def get(self, canvas: str) -> CanvasState | None:
        return self._states.get(canvas)

    def swap(self, state: CanvasState) -> None:
        self._states[state.name] = state

    def names(self) -> list[str]:
        return sorted(self._states)

    def states(self) -> list[CanvasState]:
        return list(self._states.values())
