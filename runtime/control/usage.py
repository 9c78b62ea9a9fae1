"""Which code is in use: what recent traffic reached, directly or through calls.

A handler is in use when a request reached it (or a worker or cron ran it)
within the lock window; a function when in-use code calls it, directly or
through other functions; a datastore when in-use code names it; a type when
in-use code or an in-use datastore's schema names it. In-use code is locked
(`shared_ast.locking`): the deploy path refuses ops that change it outside the
safe paths.

Counts live in memory, seeded at start from the stored traces and bumped as
each trace is recorded, so the deploy path never queries the trace file.
A window of 0 turns locking off.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping

from runtime.store.protocol import Store
from shared_ast.locking import InUse, describe_toplevel
from shared_ast.reach import Reach
from shared_ast.toplevels import Handler, Toplevel

DEFAULT_WINDOW_SECONDS = 7 * 86400

#: The toplevels a spread was computed for, the handlers traffic reached, the result.
_Spread = tuple[Mapping[int, Toplevel], frozenset[int], dict[int, InUse]]


class Usage:
    def __init__(self, window_seconds: float = DEFAULT_WINDOW_SECONDS) -> None:
        self.window_seconds = window_seconds
        #: canvas → handler tlid → [requests, last_at]
        self._seen: dict[str, dict[int, list[float]]] = {}
        #: canvas → (the toplevels it was computed for, the handlers traffic reached, result):
        #: the deploy path asks on every batch, and the answer only changes when the canvas
        #: or the set of reached handlers does.
        self._spread: dict[str, _Spread] = {}

    @property
    def enabled(self) -> bool:
        return self.window_seconds > 0

    def seed(self, store: Store, canvas: str, now: float | None = None) -> None:
        since = (now if now is not None else time.time()) - self.window_seconds
        table = self._seen.setdefault(canvas, {})
        for tlid, (count, last_at) in store.traffic_since(canvas, since).items():
            table[tlid] = [float(count), last_at]

    def merge(self, store: Store, canvas: str, now: float | None = None) -> None:
        """Take in the traffic the store has seen on every node (the shared traces),
        keeping what this node counted itself when it is more (traces are written a
        moment after their request)."""
        since = (now if now is not None else time.time()) - self.window_seconds
        table = self._seen.setdefault(canvas, {})
        for tlid, (count, last_at) in store.traffic_since(canvas, since).items():
            entry = table.get(tlid)
            if entry is None:
                table[tlid] = [float(count), last_at]
            else:
                entry[0] = max(entry[0], float(count))
                entry[1] = max(entry[1], last_at)

    def saw(self, canvas: str, tlid: int, at: float) -> None:
        entry = self._seen.setdefault(canvas, {}).setdefault(tlid, [0.0, at])
        entry[0] += 1
        entry[1] = max(entry[1], at)

    def in_use(self, canvas: str, toplevels: Mapping[int, Toplevel],
               now: float | None = None) -> dict[int, InUse]:
        """Every locked toplevel of the canvas, with why."""
        if not self.enabled:
            return {}
        cutoff = (now if now is not None else time.time()) - self.window_seconds
        found: dict[int, InUse] = {}
        for tlid, (count, last_at) in self._seen.get(canvas, {}).items():
            tl = toplevels.get(tlid)
            if isinstance(tl, Handler) and last_at >= cutoff:
                found[tlid] = InUse(tlid, int(count), last_at, "", self.window_seconds)
        key = frozenset(found)
        cached = self._spread.get(canvas)
        if cached is not None and cached[0] is toplevels and cached[1] == key:
            # Same code, same handlers in use: only the counts moved; keep the spread.
            return {t: found.get(t, u) for t, u in cached[2].items()}
        result = _spread(found, toplevels, self.window_seconds)
        self._spread[canvas] = (toplevels, key, result)
        return result


def _spread(direct: dict[int, InUse], toplevels: Mapping[int, Toplevel],
            window: float) -> dict[int, InUse]:
    """From the handlers traffic reached to the functions, datastores and types they use."""
    indexes = Reach(toplevels)
    found = dict(direct)
    queue = [toplevels[t] for t in direct]
    while queue:
        tl = queue.pop()
        reason = found[tl.tlid]
        via = f"used by {describe_toplevel(tl)}"
        for dep in indexes.dependencies(tl):
            if dep.tlid not in found:
                found[dep.tlid] = InUse(dep.tlid, reason.requests, reason.last_at, via, window)
                queue.append(dep)
    return found


def handlers_reaching(target: int, toplevels: Mapping[int, Toplevel],
                      in_use: Mapping[int, InUse]) -> list[Handler]:
    """The handlers traffic reached directly whose code reaches toplevel `target`
    (calls it, or calls what calls it): whose answers a change to it can change."""
    indexes = Reach(toplevels)
    reaching = []
    for tlid, why in in_use.items():
        handler = toplevels.get(tlid)
        if why.via or not isinstance(handler, Handler):
            continue
        seen = {tlid}
        queue: list[Toplevel] = [handler]
        while queue and target not in seen:
            for dep in indexes.dependencies(queue.pop()):
                if dep.tlid not in seen:
                    seen.add(dep.tlid)
                    queue.append(dep)
        if target in seen:
            reaching.append(handler)
    return reaching


#: How many recent decisions each flag remembers.
RECENT_DECISIONS = 1000


class FlagCounts:
    """How recent live traffic went through each feature flag: old branch or new."""

    def __init__(self) -> None:
        #: canvas → flag node id → (tlid, name, recent decisions as booleans: True = new)
        self._seen: dict[str, dict[int, tuple[int, str, deque[bool]]]] = {}

    def saw(self, canvas: str, tlid: int, flag_id: int, name: str, took_new: bool) -> None:
        table = self._seen.setdefault(canvas, {})
        entry = table.get(flag_id)
        if entry is None or entry[0] != tlid or entry[1] != name:
            entry = table[flag_id] = (tlid, name, deque(maxlen=RECENT_DECISIONS))
        entry[2].append(took_new)

    def report(self, canvas: str) -> list[dict[str, object]]:
        return [{"tlid": tlid, "flag_id": flag_id, "name": name,
                 "old": sum(1 for d in decisions if not d),
                 "new": sum(1 for d in decisions if d)}
                for flag_id, (tlid, name, decisions) in self._seen.get(canvas, {}).items()]
