"""Routes: which HTTP handler a request reaches.

A route is a method and a path of segments, each a literal or a `:param`. A
request goes to the most specific route that matches it: more literal segments
first, then more segments, then the older handler (lower tlid). The runtime's
live table routes requests with this; locking uses it to tell whether a new or
changed route would take requests from a handler in use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from shared_ast.toplevels import Handler, HttpSpec


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


def overlap_witness(a: tuple[str, ...], b: tuple[str, ...],
                    taken: Iterable[tuple[str, ...]]) -> tuple[str, ...] | None:
    """A path both routes match, as general as can be: where both have a `:param`,
    a value no route in `taken` names literally there. None when no path matches both.

    It is the one path worth asking the router about: any other path both match is
    matched by every route this one is (and more), so if a route wins over another on
    some path of the overlap, it does on this one too.
    """
    if len(a) != len(b):
        return None
    literals: list[set[str]] = [set() for _ in a]
    for segments in taken:
        if len(segments) == len(a):
            for i, seg in enumerate(segments):
                if not seg.startswith(":"):
                    literals[i].add(seg)
    path = []
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if not x.startswith(":") and not y.startswith(":"):
            if x != y:
                return None
            path.append(x)
        elif not x.startswith(":"):
            path.append(x)
        elif not y.startswith(":"):
            path.append(y)
        else:
            fresh = "x"
            while fresh in literals[i]:
                fresh += "x"
            path.append(fresh)
    return tuple(path)


def requests_taken(before: RouteTable, after: RouteTable, old: Handler,
                   new: Handler) -> str | None:
    """A request (`METHOD /path`) that `old` answers under the routes `before` and `new`
    would answer under `after`; None when `new` takes no request from `old`."""
    if not isinstance(old.spec, HttpSpec) or not isinstance(new.spec, HttpSpec):
        return None
    routes = [r.segments for table in (before, after) for rs in table.by_method.values()
              for r in rs]
    path = overlap_witness(split_path(old.spec.route), split_path(new.spec.route), routes)
    if path is None:
        return None
    text = "/" + "/".join(path)
    # A HEAD request goes to GET's routes while no HEAD route exists.
    for method in dict.fromkeys((new.spec.method, old.spec.method, "HEAD")):
        was, now = before.match(method, text), after.match(method, text)
        if (was is not None and was[0].tlid == old.tlid
                and now is not None and now[0].tlid == new.tlid):
            return f"{method} {text}"
    return None
