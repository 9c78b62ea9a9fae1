"""Datastore migrations, the runtime's side: which versions are in use, the background
conversion, and what the deploy path refuses.

A chain of datastore versions (`Users_v0`, `Users_v1` made from it, ...) keeps its rows in
one storage (`shared_ast.migration.storage_name`), each row in the version that wrote it.
The versions IN USE of a chain are those code names (a handler or function naming
`Users_vN`; both branches of a flag count) and those that stopped being named less than a
lock window ago (`RuntimeConfig.lock_window_seconds`): traffic reaches a version only
through code naming it. When exactly one version is in use, it is the TARGET, and every
row written in another version is converted to it, forward through rollforwards or back
through rollbacks (abandoning a migration is moving code back to the older version).

The conversion runs in a thread of the control process (`MigrationRunner`), never on the
event loop, in batches (`convert_batch`): up to BATCH_ROWS rows not at the target after a
cursor, each converted within a fresh run-limit budget, the successes rewritten in one
transaction by compare-and-set (`Store.ds_convert`: a row written meanwhile stays as it
was written). A row that fails is recorded with the reason and left exactly as it was;
a pass that ends with failures leaves the migration BLOCKED until a deploy changes the
program (it is retried then) or the rows change (an explicit deletion). Everything the
conversion knows is in the migration state in the store (`Store.migration_state`): a
kill -9 loses at most the batch in flight, and the next pass reads rows still not at the
target, so no row converts twice. One process converts a storage at a time
(`Store.claim_migration`, a lease); the others read its progress from the state.

The state (a JSON object per storage): name, storage, target (the version rows convert
to; while waiting, the one they will convert to), state ("idle" | "waiting" |
"converting" | "blocked" | "done"), waiting_until, unnamed_since (version → when code
stopped naming it), in_use, versions (rows per version when last counted), done (rows at
the target), left (rows not at it), rate (rows per second of the running pass), failures
(the first FAILURES_LISTED of the pass: key, version, kind, reason), failed (how many),
holder, updated_at; and the converter's own: cursor, pass_seq, pass_started_at,
pass_done, seq, checked_at.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from runtime.services import RuntimeServices
from runtime.store.protocol import Store, StoreError
from runtime.traffic.live import CanvasState
from shared_ast import traverse, wire
from shared_ast.limits import Budget
from shared_ast.locking import describe_toplevel, show_duration
from shared_ast.migration import ERROR, ConversionFailed, chain, convert, storage_name
from shared_ast.nodes import EVariable, UserFnRef
from shared_ast.ops import CreateToplevel, DeleteToplevel, Op, SetName, SetType
from shared_ast.program import Program
from shared_ast.toplevels import (
    Datastore,
    Handler,
    RecordDef,
    Toplevel,
    UserFunction,
    UserType,
)
from shared_ast.type_ast import Type
from shared_ast.unify import user_types_in

log = logging.getLogger("gloam.migrations")

#: Rows one batch reads (and converts in one transaction), and how long it may take
#: before it commits what it has (a conversion that loops spends its whole time limit).
BATCH_ROWS = 1000
BATCH_SECONDS = 2.0
#: How often the converter looks at every chain when there is nothing to convert.
TICK_SECONDS = 1.0
#: How often a finished or blocked migration counts its rows again (a row written
#: through another version, a failing row deleted on another node).
RECHECK_SECONDS = 10.0
#: Failing rows listed in the state (all are counted in "failed").
FAILURES_LISTED = 1000
#: The converter's lease on a storage, renewed before every batch.
LEASE_SECONDS = 30.0

STATES = ("idle", "waiting", "converting", "blocked", "done")

#: Keys of the state that say something to a person (a write that changes none of them
#: and is not a batch's progress is skipped).
_MATERIAL = ("target", "state", "waiting_until", "unnamed_since", "in_use", "versions",
             "done", "left", "failed", "holder")


# ------------------------------------------------------------------ chains


@attrs.frozen
class Chain:
    """The versions of a datastore that share one storage (at least one migration)."""

    name: str
    storage: str
    versions: tuple[int, ...]


def chains(program: Program) -> list[Chain]:
    """Every chain of the program: datastores sharing a storage, one of them migrating."""
    groups: dict[str, list[Datastore]] = {}
    for ds in program.datastores.values():
        groups.setdefault(storage_name(ds), []).append(ds)
    found = []
    for storage, members in sorted(groups.items()):
        if len(members) > 1 or any(d.migration is not None for d in members):
            found.append(Chain(members[0].name, storage,
                               tuple(sorted(d.version for d in members))))
    return found


def chain_of(program: Program, storage: str) -> Chain | None:
    return next((c for c in chains(program) if c.storage == storage), None)


def named_datastores(toplevels: Iterable[Toplevel], program: Program) -> frozenset[str]:
    """The datastore versions (`Name_vN`) that some handler or function names."""
    variables = program.datastore_variables()
    named = set()
    for tl in toplevels:
        if isinstance(tl, Handler | UserFunction):
            for node in traverse.walk(tl):
                if isinstance(node, EVariable) and node.name in variables:
                    named.add(node.name)
    return frozenset(named)


def naming(toplevels: Iterable[Toplevel], qualified: str) -> list[Toplevel]:
    """The handlers and functions that name the datastore version `qualified`."""
    found: list[Toplevel] = []
    for tl in toplevels:
        if isinstance(tl, Handler | UserFunction) and any(
                isinstance(n, EVariable) and n.name == qualified for n in traverse.walk(tl)):
            found.append(tl)
    return found


@attrs.frozen
class InUse:
    """Which versions of a chain are in use now, and what follows for the conversion."""

    in_use: tuple[int, ...]
    #: version (as text) → when code stopped naming it, for versions not named now.
    unnamed_since: dict[str, float]
    #: The version rows convert to, when exactly one is in use.
    target: int | None
    #: When one version is named and others are still in their lock window: that
    #: version, and when the last window ends.
    waiting_for: int | None
    waiting_until: float | None


def versions_in_use(chain_: Chain, named: frozenset[str], unnamed_since: Mapping[str, Any],
                    window_seconds: float, now: float) -> InUse:
    """Versions named by code, plus those unnamed for less than the lock window.

    `unnamed_since` is the record so far (from the migration state): a version seen
    unnamed for the first time starts its clock now; one named again loses it."""
    named_here = {v for v in chain_.versions if f"{chain_.name}_v{v}" in named}
    since: dict[str, float] = {}
    for v in chain_.versions:
        if v in named_here:
            continue
        seen = unnamed_since.get(str(v))
        since[str(v)] = float(seen) if isinstance(seen, int | float) else now
    recent = {int(v): at for v, at in since.items() if now - at < window_seconds}
    in_use = tuple(sorted(named_here | set(recent)))
    target = in_use[0] if len(in_use) == 1 else None
    waiting_for = waiting_until = None
    if target is None and len(named_here) == 1 and recent:
        waiting_for = next(iter(named_here))
        waiting_until = max(at + window_seconds for at in recent.values())
    return InUse(in_use, since, target, waiting_for, waiting_until)


# ------------------------------------------------------------- one batch


@attrs.frozen
class BatchResult:
    """What one batch did."""

    #: Rows read (not at the target, after the cursor).
    read: int
    #: Rows rewritten in the target version.
    converted: int
    #: Rows converted but left as they were: written (or deleted) meanwhile.
    changed_meanwhile: int
    #: Rows whose conversion failed: {"key", "version", "kind", "reason"}; left as they were.
    failures: list[dict[str, Any]]
    #: The last key looked at: the next batch starts after it.
    cursor: str | None
    #: No rows not at the target after the cursor: the pass is over.
    finished: bool


def convert_batch(store: Store, canvas: str, program: Program, storage: str, target: int,
                  cursor: str | None, limit: int, budget: Callable[[], Budget], *,
                  deadline: float | None = None) -> BatchResult:
    """Convert up to `limit` rows of `storage` not at version `target`, with keys after
    `cursor`, and rewrite those that converted in one transaction (compare-and-set).

    `budget()` gives each row its own run limits. With `deadline` (a `time.monotonic()`
    value), the batch stops early once it has passed it, keeping what it converted. A
    failing row is reported and never written. Raises StoreError when the store fails
    (nothing of the batch is then written), ValueError when no chain has `storage`."""
    found = chain_of(program, storage)
    if found is None:
        raise ValueError(f"no datastore of this program keeps its rows in {storage!r}")
    rows = store.ds_rows_not_at(canvas, storage, target, cursor, limit)
    converted: list[tuple[str, int, str, str]] = []
    failures: list[dict[str, Any]] = []
    last = cursor
    looked = 0
    for key, version, text in rows:
        if deadline is not None and looked and time.monotonic() > deadline:
            break
        looked += 1
        last = key
        try:
            value = convert(program, found.name, wire.decode_value(wire.json_load(text)),
                            version, target, budget())
            converted.append((key, version, text, wire.value_text(value)))
        except ConversionFailed as failed:
            failures.append(failure(key, version, failed.kind, failed.reason))
        except (wire.WireError, ValueError) as e:
            failures.append(failure(key, version, ERROR,
                                    f"the stored row (or what it converts to) is not a value "
                                    f"the wire format holds: {e}"))
        except Exception as e:  # a bug in Gloam, never the row's fault: keep the row, say so
            log.exception("converting row %r of %s on canvas %s failed", key, storage, canvas)
            failures.append(failure(key, version, ERROR,
                                    f"the conversion crashed ({type(e).__name__}: {e}); this "
                                    "is a bug in Gloam, and it is in the runtime's log"))
    written = store.ds_convert(canvas, storage, target, converted) if converted else 0
    finished = looked == len(rows) and len(rows) < limit
    return BatchResult(len(rows), written, len(converted) - written, failures, last, finished)


def failure(key: str, version: int, kind: str, reason: str) -> dict[str, Any]:
    return {"key": key, "version": version, "kind": kind, "reason": reason}


def counts_left(counts: Mapping[int, int], target: int | None) -> tuple[int, int]:
    """(rows at `target`, rows not at it)."""
    done = counts.get(target, 0) if target is not None else 0
    return done, sum(counts.values()) - done


# --------------------------------------------------------- the converter


def default_holder(services: RuntimeServices) -> str:
    """This node's name as a lease holder: the same after a restart of the same data
    folder (so a node killed with -9 resumes its own conversion at once), and apart from
    every other node's (two runtimes never share a data folder)."""
    return f"{socket.gethostname()}:{services.config.data_dir}"


class MigrationRunner:
    """The background converter of one control process: a thread that looks at every
    chain of every canvas each TICK_SECONDS (or when woken), and converts while it
    holds the storage's lease."""

    def __init__(self, services: RuntimeServices, *, holder: str | None = None,
                 on_change: Callable[[str], None] | None = None,
                 tick_seconds: float = TICK_SECONDS) -> None:
        self.services = services
        self.store = services.store
        self.holder = holder or default_holder(services)
        #: Called (from the converter's thread) with a canvas whose states changed.
        self.on_change = on_change
        self.tick_seconds = tick_seconds
        #: canvas → storage → the latest state seen (written here or read from the store);
        #: read by the event loop (`states`), so changed under `_latest_lock`.
        self.latest: dict[str, dict[str, dict[str, Any]]] = {}
        self._latest_lock = threading.Lock()
        self._named: dict[str, tuple[Mapping[int, Toplevel], frozenset[str]]] = {}
        self._retry: set[tuple[str, str]] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: The last store failure logged: a database away for a while is said once.
        self._last_warning = ""

    # ------------------------------------------------------------ running

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gloam-migrations",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the batch in flight (it commits or is lost whole)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def wake(self, canvas: str | None = None, storage: str | None = None) -> None:
        """Look again now (after a deploy); with a storage, count its rows again even if
        its migration is finished or blocked (after a row was deleted)."""
        if canvas is not None and storage is not None:
            self._retry.add((canvas, storage))
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.tick()
            except StoreError as e:
                self._warn(f"the background conversion waits for the store: {e}")
                busy = False
            except Exception:
                log.exception("the background conversion failed; it tries again shortly")
                busy = False
            if not busy:
                self._wake.wait(self.tick_seconds)
                self._wake.clear()

    def tick(self) -> bool:
        """Look at every chain once (one batch each where converting); whether there is
        more to do at once."""
        busy = False
        for state in self.services.live.states():
            if self._stop.is_set():
                return False
            present = set()
            for found in chains(state.program):
                present.add(found.storage)
                try:
                    busy |= self.tick_chain(state, found)
                except StoreError as e:
                    self._warn(f"migration of {found.storage} on canvas {state.name} waits "
                               f"for the store: {e}")
            with self._latest_lock:
                cached = self.latest.get(state.name, {})
                for gone in set(cached) - present:
                    del cached[gone]
        return busy

    def _warn(self, message: str) -> None:
        if message != self._last_warning:
            log.warning("%s", message)
            self._last_warning = message

    def named(self, state: CanvasState) -> frozenset[str]:
        cached = self._named.get(state.name)
        if cached is not None and cached[0] is state.toplevels:
            return cached[1]
        found = named_datastores(state.toplevels.values(), state.program)
        self._named[state.name] = (state.toplevels, found)
        return found

    def budget(self, canvas: str) -> Callable[[], Budget]:
        return lambda: self.services.budget(canvas)

    def tick_chain(self, state: CanvasState, found: Chain) -> bool:
        """One step of one chain: claim it, work out its target, and convert one batch
        (or just read its state when another process holds it). Whether to go on."""
        canvas, storage, store = state.name, found.storage, self.store
        now = time.time()
        lease = LEASE_SECONDS + self.services.limit(canvas, "time_limit_seconds")
        if not store.claim_migration(canvas, storage, self.holder, now, lease):
            self._observe(canvas, storage, store.migration_state(canvas, storage))
            return False
        old = store.migration_state(canvas, storage) or {}
        use = versions_in_use(found, self.named(state), old.get("unnamed_since") or {},
                              self.services.config.lock_window_seconds, now)
        retry = (canvas, storage) in self._retry
        self._retry.discard((canvas, storage))
        base = {**old, "name": found.name, "storage": storage, "holder": self.holder,
                "unnamed_since": use.unnamed_since, "in_use": list(use.in_use)}
        if use.target is None:
            return self._no_target(state, storage, old, base, use, now)
        target = use.target
        phase = old.get("state")
        if old.get("target") != target or phase not in ("converting", "blocked", "done"):
            return self._start_pass(state, storage, base, target, now)
        if phase in ("done", "blocked"):
            due = (retry or old.get("seq") != state.seq
                   or now - float(old.get("checked_at") or 0) >= RECHECK_SECONDS)
            if not due:
                return False
            counts = store.ds_version_counts(canvas, storage)
            _, left = counts_left(counts, target)
            if left == 0:
                self._write(canvas, storage, {**base, **_finished(counts, target, now),
                                              "seq": state.seq})
                return False
            if phase == "blocked" and old.get("seq") == state.seq and left == old.get("left"):
                self._write(canvas, storage, {**base, "checked_at": now}, quiet=True)
                return False
            return self._start_pass(state, storage, base, target, now)
        return self._batch(state, found, base, target, now)

    def _no_target(self, state: CanvasState, storage: str, old: dict[str, Any],
                   base: dict[str, Any], use: InUse, now: float) -> bool:
        phase = "waiting" if use.waiting_until is not None else "idle"
        new = {**base, "target": use.waiting_for, "state": phase,
               "waiting_until": use.waiting_until, "rate": 0.0, "cursor": None}
        if (old.get("state") != phase or old.get("target") != use.waiting_for
                or old.get("seq") != state.seq
                or now - float(old.get("checked_at") or 0) >= RECHECK_SECONDS):
            # The row counts, when the state changes and now and then while it stays.
            counts = self.store.ds_version_counts(state.name, storage)
            done, left = counts_left(counts, use.waiting_for)
            new.update(versions=_versions(counts), done=done, left=left, failures=[],
                       failed=0, seq=state.seq, checked_at=now)
        self._write(state.name, storage, new)
        return False

    def _start_pass(self, state: CanvasState, storage: str, base: dict[str, Any],
                    target: int, now: float) -> bool:
        counts = self.store.ds_version_counts(state.name, storage)
        done, left = counts_left(counts, target)
        if left == 0:
            self._write(state.name, storage, {**base, **_finished(counts, target, now),
                                              "seq": state.seq})
            return False
        self._write(state.name, storage, {
            **base, "target": target, "state": "converting", "waiting_until": None,
            "versions": _versions(counts), "done": done, "left": left, "rate": 0.0,
            "failures": [], "failed": 0, "cursor": None, "pass_seq": state.seq,
            "pass_started_at": now, "pass_done": 0, "seq": state.seq})
        return True

    def _batch(self, state: CanvasState, found: Chain, base: dict[str, Any], target: int,
               now: float) -> bool:
        canvas, storage = state.name, found.storage
        result = convert_batch(self.store, canvas, state.program, storage, target,
                               base.get("cursor"), BATCH_ROWS, self.budget(canvas),
                               deadline=time.monotonic() + BATCH_SECONDS)
        failures = list(base.get("failures") or [])
        failures.extend(result.failures[:max(0, FAILURES_LISTED - len(failures))])
        failed = int(base.get("failed") or 0) + len(result.failures)
        pass_done = int(base.get("pass_done") or 0) + result.converted
        after = time.time()
        new = {**base, "state": "converting", "target": target, "failures": failures,
               "failed": failed, "pass_done": pass_done, "cursor": result.cursor,
               "done": int(base.get("done") or 0) + result.converted,
               "left": max(0, int(base.get("left") or 0) - result.converted),
               "rate": round(pass_done / max(after - float(base.get("pass_started_at")
                                                            or after), 1e-3), 1)}
        if not result.finished:
            self._write(canvas, storage, new)
            return True
        counts = self.store.ds_version_counts(canvas, storage)
        done, left = counts_left(counts, target)
        new.update(versions=_versions(counts), done=done, left=left, cursor=None)
        if left == 0:
            self._write(canvas, storage, {**new, **_finished(counts, target, after),
                                          "seq": state.seq})
            return False
        if failed and left <= failed and new.get("pass_seq") == self._seq(canvas, state):
            # Every row left failed in this pass, and the program it ran is still the live
            # one: blocked until it changes (a deploy) or the rows do (a deletion, a write
            # through another version). More rows left than failed were written behind
            # the cursor during the pass, never tried: they get another pass first.
            self._write(canvas, storage, {**new, "state": "blocked", "rate": 0.0,
                                          "seq": new.get("pass_seq"), "checked_at": after})
            log.warning("migration of %s on canvas %s is blocked: %d row(s) fail to convert "
                        "to v%d (first: %s)", storage, canvas, failed, target,
                        failures[0]["reason"] if failures else "?")
            return False
        # Rows written behind the cursor, or the program changed during the pass: again.
        self._write(canvas, storage, new)
        return self._start_pass(self._current(state), storage, new, target, after)

    def _current(self, state: CanvasState) -> CanvasState:
        return self.services.live.get(state.name) or state

    def _seq(self, canvas: str, state: CanvasState) -> int:
        return self._current(state).seq

    # ------------------------------------------------------------- states

    def _write(self, canvas: str, storage: str, new: dict[str, Any],
               quiet: bool = False) -> None:
        old = self.latest.get(canvas, {}).get(storage)
        material = (old is None or new.get("state") == "converting"
                    or any(old.get(k) != new.get(k) for k in _MATERIAL))
        if not material and not quiet:
            return
        new["updated_at"] = time.time()
        self.store.set_migration_state(canvas, storage, new)
        self._remember(canvas, storage, new)
        if material and self.on_change is not None:
            self.on_change(canvas)

    def _observe(self, canvas: str, storage: str, state: dict[str, Any] | None) -> None:
        """Another process converts this storage: show its progress."""
        if state is None:
            return
        old = self.latest.get(canvas, {}).get(storage)
        if old is not None and old.get("updated_at") == state.get("updated_at"):
            return
        self._remember(canvas, storage, state)
        if self.on_change is not None:
            self.on_change(canvas)

    def _remember(self, canvas: str, storage: str, state: dict[str, Any]) -> None:
        with self._latest_lock:
            self.latest.setdefault(canvas, {})[storage] = state

    def states(self, canvas: str) -> list[dict[str, Any]]:
        """The latest state of each chain of the canvas (for pushes: no store read)."""
        with self._latest_lock:
            found = sorted(self.latest.get(canvas, {}).items())
        return [public_state(s) for _, s in found]


def _versions(counts: Mapping[int, int]) -> dict[str, int]:
    return {str(v): n for v, n in sorted(counts.items()) if n}


def _finished(counts: Mapping[int, int], target: int, now: float) -> dict[str, Any]:
    done, _ = counts_left(counts, target)
    return {"target": target, "state": "done", "waiting_until": None,
            "versions": _versions(counts), "done": done, "left": 0, "rate": 0.0,
            "failures": [], "failed": 0, "cursor": None, "checked_at": now}


#: The converter's own keys, not shown to editors.
_PRIVATE = ("cursor", "pass_seq", "pass_started_at", "pass_done", "seq", "checked_at")


def public_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """A migration state as editors and `gloam runtime status` see it."""
    return {k: v for k, v in state.items() if k not in _PRIVATE}


def migration_states(store: Store, canvas: str, program: Program) -> list[dict[str, Any]]:
    """The stored state of every chain of the canvas (a store read per chain)."""
    found = []
    for c in chains(program):
        state = store.migration_state(canvas, c.storage)
        if state is not None:
            found.append(public_state(state))
    return found


def status_line(canvas: str, state: Mapping[str, Any]) -> str:
    """One line of `gloam runtime status` for a chain."""
    target = state.get("target")
    to = f" to v{target}" if target is not None else ""
    rate = float(state.get("rate") or 0.0)
    line = (f"  migration {canvas}/{state.get('name')} ({state.get('storage')}): "
            f"{state.get('state')}{to}, {state.get('done', 0)} rows done, "
            f"{state.get('left', 0)} left, {rate:.0f} rows/s, {state.get('failed', 0)} failed")
    if state.get("state") == "waiting" and isinstance(state.get("waiting_until"), int | float):
        wait = max(0.0, float(state["waiting_until"]) - time.time())
        line += f", starts in {show_duration(wait)}"
    if state.get("holder"):
        line += f" (on {state['holder']})"
    return line


# ------------------------------------------------------ deploy refusals


def touches_datastores(before: Mapping[int, Toplevel], ops: Sequence[Op]) -> bool:
    """Whether the batch deletes, renames, makes or changes the schema of a datastore,
    deletes a function (a conversion, maybe) or changes a type (part of a schema, maybe):
    only those need the store's row counts."""
    for op in ops:
        if isinstance(op, DeleteToplevel) and isinstance(op.toplevel, Datastore | UserFunction):
            return True
        if isinstance(op, CreateToplevel) and isinstance(op.toplevel, Datastore):
            return True
        if isinstance(before.get(op.target_tlid), UserType):
            return True  # maybe part of a datastore's schema
        if isinstance(op, SetType | SetName) and op.node_id == op.tlid and isinstance(
                before.get(op.tlid), Datastore):
            return True
    return False


def datastore_change_problem(store: Store, canvas: str, before: Mapping[int, Toplevel],
                             after: Mapping[int, Toplevel], ops: Sequence[Op]
                             ) -> tuple[int, str] | None:
    """Why the batch may not delete, rename or change the schema of a datastore version
    (op index, message), or None. Rows are never stranded: a version goes while no code
    names it and no row is stored in it (nor needs it to reach the others), and a schema
    stays as the rows stored in it were written."""
    after_program = Program.from_toplevels(after.values())
    for index, op in enumerate(ops):
        made = op.toplevel if isinstance(op, CreateToplevel) else None
        if isinstance(made, Datastore) and made.migration is not None:
            source = after_program.datastore(made.name, made.migration.from_version)
            if source is not None and storage_name(source) != storage_name(made):
                return index, (
                    f"{op.KIND}: {made.qualified} migrates from {source.qualified}, whose rows "
                    f"are kept in {storage_name(source)}, but it would keep its own in "
                    f"{storage_name(made)}: the two would not share rows. Make the new version "
                    f"from {source.qualified} (Ctrl+K, New datastore version).")
        ds = before.get(op.target_tlid)
        if isinstance(op, DeleteToplevel) and isinstance(ds, UserFunction):
            needed = conversion_needed(store, canvas, after_program, ds)
            if needed is not None:
                return index, needed
        if not isinstance(ds, Datastore):
            continue
        if isinstance(op, SetType) and op.node_id == op.tlid:
            counts = store.ds_version_counts(canvas, storage_name(ds))
            stored = counts.get(ds.version, 0)
            if stored:
                return index, (
                    f"set_type: datastore {ds.qualified} has {stored} row(s) stored in it, "
                    "written in its schema, so its schema cannot change under them. Make a "
                    "new version instead (Ctrl+K, New datastore version), with a rollforward "
                    "and a rollback: the rows convert to it, and code moves over when ready.")
        gone = (isinstance(op, DeleteToplevel)
                or (isinstance(op, SetName) and op.node_id == op.tlid))
        if not gone or after_program.datastore(ds.name, ds.version) is not None:
            continue
        verb = "delete" if isinstance(op, DeleteToplevel) else "rename"
        users = naming(after.values(), ds.qualified)
        if users:
            names = ", ".join(describe_toplevel(t) for t in users[:3])
            more = f" and {len(users) - 3} more" if len(users) > 3 else ""
            return index, (
                f"{op.KIND}: datastore {ds.qualified} is still named by code ({names}{more}), "
                f"so the runtime will not {verb} it. Move that code to another version first "
                "(Use newest datastore version at each reference), then delete it.")
        storage = storage_name(ds)
        counts = store.ds_version_counts(canvas, storage)
        stored = counts.get(ds.version, 0)
        if stored:
            newer = [d for d in after_program.datastores.values()
                     if d.name == ds.name and storage_name(d) == storage]
            how = ("Move the code to the newer version and let the background conversion "
                   "finish (gloam runtime status and the migration view show its progress)"
                   if newer else "Delete the rows first (DB::delete from a REPL, or Delete "
                                 "row in the migration view)")
            return index, (
                f"{op.KIND}: datastore {ds.qualified} has {stored} row(s) stored in it, so "
                f"the runtime will not {verb} it: they would be stranded. {how}, then "
                f"{verb} it.")
        for version, n in sorted(counts.items()):
            if not n:
                continue
            for other in after_program.datastores.values():
                if other.name != ds.name or storage_name(other) != storage:
                    continue
                try:
                    chain(after_program, ds.name, version, other.version)
                except ConversionFailed:
                    return index, (
                        f"{op.KIND}: {n} row(s) of {storage} are stored in {ds.name}_v"
                        f"{version}, and without {ds.qualified} they could not be read "
                        f"through {other.qualified}: the chain of conversions goes through "
                        f"it. Let the rows convert past it first, then {verb} it.")
    return _remade(store, canvas, before, after_program, ops)


def _remade(store: Store, canvas: str, before: Mapping[int, Toplevel], after_program: Program,
            ops: Sequence[Op]) -> tuple[int, str] | None:
    """A datastore version that stays (same name and version) but whose schema or storage
    the batch changes some other way than set_type (deleted and made again, or a second
    one of that name made): refused while rows are stored in it, as set_type is."""
    before_program = Program.from_toplevels(before.values())
    for (name, version), old in sorted(before_program.datastores.items()):
        new = after_program.datastore(name, version)
        if new is None:
            continue
        new_types = _schema_types(after_program, new.schema)
        changed_types = [t for key, t in _schema_types(before_program, old.schema).items()
                         if t is not None and new_types.get(key) != t]
        if (new.schema == old.schema and storage_name(new) == storage_name(old)
                and not changed_types):
            continue
        stored = store.ds_version_counts(canvas, storage_name(old)).get(version, 0)
        if not stored:
            continue
        touched = {old.tlid, new.tlid, *(t.tlid for t in changed_types)}
        index = next((i for i, op in enumerate(ops) if op.target_tlid in touched), 0)
        if new.schema == old.schema and storage_name(new) == storage_name(old):
            shown = describe_toplevel(changed_types[0])
            return index, (
                f"{ops[index].KIND}: {shown} is part of the schema of datastore "
                f"{old.qualified}, which has {stored} row(s) stored in it written in that "
                f"schema, so the runtime will not change {shown} under them. Make a new "
                "version of the type, and a new version of the datastore (Ctrl+K, New "
                "datastore version) whose schema uses it, with a rollforward and a rollback.")
        what = "schema" if new.schema != old.schema else "storage"
        return index, (
            f"{ops[index].KIND}: datastore {old.qualified} has {stored} row(s) stored in it, "
            f"written in its schema, and this batch gives {old.qualified} another {what} "
            "(a datastore of that name and version deleted and made again, or a second one "
            "made), so those rows would be read as what they are not. Make a new version "
            "instead (Ctrl+K, New datastore version), with a rollforward and a rollback.")
    return None


def _schema_types(program: Program, schema: Type) -> dict[tuple[int, int], UserType | None]:
    """The user types a schema names, however deep (through other types too)."""
    found: dict[tuple[int, int], UserType | None] = {}
    todo = list(user_types_in(schema))
    while todo:
        ref = todo.pop()
        key = (ref.type_id, ref.version)
        if key in found:
            continue
        found[key] = tl = program.type(ref.type_id, ref.version)
        if tl is None:
            continue
        fields = (tl.definition.fields if isinstance(tl.definition, RecordDef)
                  else tuple(f for case in tl.definition.cases for f in case.fields))
        for f in fields:
            todo.extend(user_types_in(f.type))
    return found


def conversion_needed(store: Store, canvas: str, program: Program, fn: UserFunction
                      ) -> str | None:
    """Why `fn` may not be deleted: it is the rollforward or rollback of a datastore
    version of `program`, and rows stored in the chain are read through it (or None)."""
    if program.function(UserFnRef(fn.fn_id, fn.version)) is not None:
        return None  # made again in the same batch
    for ds in sorted(program.datastores.values(), key=lambda d: (d.name, d.version)):
        m = ds.migration
        if m is None:
            continue
        for forward, ref in ((True, m.rollforward), (False, m.rollback)):
            if (ref.fn_id, ref.version) != (fn.fn_id, fn.version):
                continue
            storage = storage_name(ds)
            members = [d for d in program.datastores.values()
                       if d.name == ds.name and storage_name(d) == storage]
            for version, n in sorted(store.ds_version_counts(canvas, storage).items()):
                for other in members if n else ():
                    try:
                        steps = chain(program, ds.name, version, other.version)
                    except ConversionFailed:
                        continue
                    if any(s.ds.tlid == ds.tlid and s.forward == forward for s in steps):
                        label = "rollforward" if forward else "rollback"
                        return (
                            f"delete_toplevel: {fn.shown} is {ds.qualified}'s {label}, and "
                            f"{n} row(s) stored in {ds.name}_v{version} are read through "
                            f"{other.qualified} with it, so the runtime will not delete it. "
                            "Fix it in place instead, or let the rows convert past it (move "
                            "the code, let the background conversion finish) and delete the "
                            "datastore version it converts to or from first.")
    return None


__all__ = [
    "BATCH_ROWS",
    "BATCH_SECONDS",
    "STATES",
    "BatchResult",
    "Chain",
    "InUse",
    "MigrationRunner",
    "chains",
    "conversion_needed",
    "convert_batch",
    "datastore_change_problem",
    "migration_states",
    "named_datastores",
    "public_state",
    "status_line",
    "touches_datastores",
    "versions_in_use",
]
