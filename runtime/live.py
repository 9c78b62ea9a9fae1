"""The live table: what code each canvas runs right now.

A `CanvasState` is an immutable snapshot (toplevels, the program index the
evaluator resolves calls through, the route table) at one sequence number.
A deploy builds the next snapshot beside the current one and swaps the
reference in one assignment; a request takes the reference once, when it
starts, so it finishes on the code it started with and never sees half an
edit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping

import attrs

from runtime.store import Store
from shared_ast import wire
from shared_ast.program import Program
from shared_ast.toplevels import (
    CronSpec,
    Datastore,
    Handler,
    HttpSpec,
    Toplevel,
    UserFunction,
    UserType,
    WorkerSpec,
)

log = logging.getLogger("gloam.live")


@attrs.frozen
class Route:
    method: str
    segments: tuple[str, ...]
    handler: Handler

    @property
    def specificity(self) -> tuple[int, int]:
        """More literal segments win over `:params`: `/users/me` beats `/users/:id`."""
        literal = sum(1 for s in self.segments if not s.startswith(":"))
        return (literal, len(self.segments))

    def match(self, parts: tuple[str, ...]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for seg, part in zip(self.segments, parts, strict=True):
            if seg.startswith(":"):
                params[seg[1:]] = part
            elif seg != part:
                return None
        return params


def split_path(path: str) -> tuple[str, ...]:
    return tuple(p for p in path.split("/") if p)


@attrs.frozen
class RouteTable:
    by_method: Mapping[str, tuple[Route, ...]] = attrs.field(factory=dict)

    @classmethod
    def build(cls, handlers: Iterable[Handler]) -> RouteTable:
        table: dict[str, list[Route]] = {}
        for h in handlers:
            if isinstance(h.spec, HttpSpec):
                route = Route(h.spec.method, split_path(h.spec.route), h)
                table.setdefault(h.spec.method, []).append(route)
        return cls(
            {
                m: tuple(sorted(rs, key=lambda r: (r.specificity, -r.handler.tlid), reverse=True))
                for m, rs in table.items()
            }
        )

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        parts = split_path(path)
        routes = self.by_method.get(method)
        if routes is None and method == "HEAD":
            routes = self.by_method.get("GET")
        for route in routes or ():
            params = route.match(parts)
            if params is not None:
                return route.handler, params
        return None


@attrs.frozen
class CanvasState:
    name: str
    seq: int
    toplevels: Mapping[int, Toplevel]
    program: Program
    routes: RouteTable
    workers: Mapping[str, tuple[Handler, ...]]
    crons: tuple[Handler, ...]

    @classmethod
    def build(cls, name: str, seq: int, toplevels: Mapping[int, Toplevel]) -> CanvasState:
        handlers = [t for t in toplevels.values() if isinstance(t, Handler)]
        workers: dict[str, list[Handler]] = {}
        for h in handlers:
            if isinstance(h.spec, WorkerSpec):
                workers.setdefault(h.spec.queue, []).append(h)
        return cls(
            name=name,
            seq=seq,
            toplevels=dict(toplevels),
            program=Program.from_toplevels(toplevels.values()),
            routes=RouteTable.build(handlers),
            workers={q: tuple(hs) for q, hs in workers.items()},
            crons=tuple(h for h in handlers if isinstance(h.spec, CronSpec)),
        )

    def next(
        self, seq: int, toplevels: Mapping[int, Toplevel], changed: Iterable[int]
    ) -> CanvasState:
        """The snapshot after a deploy that changed `changed`; reuses what did not change."""
        changed = set(changed)
        code_changed = any(
            isinstance(t, UserFunction | UserType | Datastore)
            for tlid in changed
            for t in (self.toplevels.get(tlid), toplevels.get(tlid))
        )
        rebuilt = CanvasState.build(self.name, seq, toplevels)
        if not code_changed:
            # Functions, types and datastores are untouched: keep the same Program object,
            # so anything cached against it stays valid.
            rebuilt = attrs.evolve(rebuilt, program=self.program)
        return rebuilt


def load_canvas(store: Store, name: str) -> CanvasState:
    snap = store.snapshot(name)
    toplevels: dict[int, Toplevel] = {}
    for tlid, text in snap.toplevels.items():
        try:
            toplevels[tlid] = wire.decode_toplevel(json.loads(text))
        except (ValueError, wire.WireError) as e:
            # Kept in the store untouched; only this toplevel is not served.
            log.error("canvas %s: toplevel %s does not decode and is not served: %s", name, tlid, e)
    return CanvasState.build(name, snap.seq, toplevels)


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
