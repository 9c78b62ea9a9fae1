"""The controller: the one place where the editor's state changes.

Widgets send it command names and typed text; it runs them on the model
(`editor.model`), sends the ops the model emits through the session
(`editor.client`), applies other editors' ops as they arrive, and tells the
widgets to repaint. It knows no widget: the views listen to its signals.

Signals:
    changed(): the state changed; views re-read `state`.
    message(str): a line for the status bar (a refusal says why and what to do).
    completions_changed(object): the list of `Completion`s for the caret's partial or hole
        (empty when there is nothing to complete).
    traces_changed(object): the selected handler's traces (list of dicts, newest first).
    live_changed(): live values of the selected trace arrived, or another iteration was chosen.
    not_found_changed(object): requests that hit no route (list of dicts).
    run_result(str): the shown result of the play button.
    replay_report(object): a replay's rows (dicts) and a summary line, as (summary, rows).
    migrations_changed(object): the datastore migrations' states, a dict storage name
        ("Users_v0") → the runtime's state dict (docs/protocol.md, "get_migrations").
    change_report(object): a guarded change's `change_checks.ChangeReport`, once its tests
        ran and its handlers' requests were replayed (whether it went on or asks).
    change_question(object): a `ChangeReport` whose change would break something: the
        window asks, then calls `confirm_change` or `cancel_change`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs
from PySide6.QtCore import QObject, Signal

from editor.client.session import SessionError
from editor.model import (
    actions,
    canvas_actions,
    change_checks,
    checking,
    committing,
    completion,
    datastore_versions,
    declarations,
    motion,
    placement,
    refactor_commands,
    trace_test,
    typing,
    versions,
)
from editor.model.state import EditorState, Outcome, commit, refuse
from editor.projection import layout_expr
from shared_ast import traverse, wire
from shared_ast.apply import LATEST_LANGUAGE_VERSION, OpError, apply_to_canvas
from shared_ast.checker import NodeInfo
from shared_ast.live import LiveValues, Stepper, resolve
from shared_ast.locking import InUse
from shared_ast.nodes import EFlag, EHole, ELambda, EPartial
from shared_ast.ops import Op
from shared_ast.program import Program
from shared_ast.stdlib.json_fns import from_json
from shared_ast.toplevels import Datastore, Handler, Pos, Test, Toplevel, UserFunction
from shared_ast.values import show

#: Commands the window handles itself (not model commands); the keymap may name them.
UI_COMMANDS = ("open-palette", "run", "complete", "new-http-handler", "refresh-traces",
               "check-flag-commit", "check-language-upgrade", "list-deprecated",
               "go-to-toplevel", "next-toplevel", "previous-toplevel", "show-messages",
               "new-function", "new-worker", "new-cron", "next-iteration",
               "previous-iteration", "show-migration", "test-from-trace",
               "fuzz-function", "new-test", "next-failing-test")


#: Seconds without typing after which the next key is a new undo step.
TYPING_PAUSE = 1.0


class EditorController(QObject):
    changed = Signal()
    message = Signal(str)
    completions_changed = Signal(object)
    traces_changed = Signal(object)
    live_changed = Signal()
    not_found_changed = Signal(object)
    run_result = Signal(str)
    replay_report = Signal(object)
    migrations_changed = Signal(object)
    change_report = Signal(object)
    change_question = Signal(object)
    #: (the check, its `TestsRun`): from the worker thread that ran the tests.
    _tests_ran = Signal(object, object)

    def __init__(self, session: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.state = EditorState()
        self.completions: list[completion.Completion] = []
        self.completion_index = 0
        self.infos: dict[int, dict[int, NodeInfo]] = {}
        #: The canvas `infos` describe, to re-check only what changed since.
        self._checked_canvas: Mapping[int, Toplevel] = {}
        self.traces: dict[int, list[dict[str, Any]]] = {}
        self.selected_trace: dict[int, str] = {}
        #: Per toplevel, the live values of its selected trace or last run, every iteration.
        self.live: dict[int, LiveValues] = {}
        #: Per toplevel, lambda node id → the iteration chosen with the stepper (0-based).
        self.iterations: dict[int, dict[int, int]] = {}
        self.not_found: list[dict[str, Any]] = []
        #: Flag node id → how recent live traffic went through it ({"old": n, "new": m}).
        self.flag_counts: dict[int, dict[str, Any]] = {}
        #: Datastore storage name ("Users_v0") → its migration's state, as the runtime said.
        self.migrations: dict[str, dict[str, Any]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Each frame's size on screen (tlid → (width, height)), kept by the window, so new
        #: toplevels go where they fit (`free_position`).
        self.frame_sizes: dict[int, tuple[int, int]] = {}
        #: Whether the last change was this editor's own (an edit here), not another editor's
        #: or a reload: only this editor's own changes make it push frames apart.
        self.local_change = False
        #: Requests asked for while the session was still connecting, sent once it is online.
        self._after_connect: set[str] = set()
        #: When the last key was typed (`clock` is replaceable in tests).
        self.clock = time.monotonic
        self._last_typed = float("-inf")
        #: The guarded change being checked (its tests and replays not all back yet).
        self._checking: _Check | None = None
        self._tests_ran.connect(self._on_tests_ran)
        if session is not None:
            session.loaded.connect(self.on_loaded)
            session.remote_ops.connect(self.on_remote_ops)
            session.rejected.connect(self.on_rejected)
            session.acked.connect(self.on_acked)
            if hasattr(session, "connection_changed"):
                session.connection_changed.connect(self._on_connection)
            if hasattr(session, "migrations_pushed"):
                session.migrations_pushed.connect(self.set_migrations)

    # ------------------------------------------------------------ model

    def load(self, toplevels: list[Toplevel]) -> None:
        self.on_loaded(toplevels)

    def run(self, name: str, argument: str | None = None) -> Outcome:
        """Run a command by name (from a key, the palette or a button)."""
        if name == "complete":
            self.refresh_completions(force=True)
            return Outcome(self.state)
        if name in change_checks.GUARDED:
            return self.run_checked(name, argument)
        return self.apply(change_checks.run_command(self.state, name, argument))

    def type_text(self, text: str) -> Outcome:
        now = self.clock()
        if now - self._last_typed > TYPING_PAUSE:
            # After a pause the next key starts a new undo step, as in VS Code.
            self.state = attrs.evolve(self.state, history=self.state.history.sealed())
        self._last_typed = now
        return self.apply(typing.insert_text(self.state, text))

    def click(self, tlid: int, line: int, column: int) -> Outcome:
        return self.apply(actions.leaving(
            self.state, lambda s: motion.place(s, tlid, line, column)))

    def focus(self, tlid: int) -> Outcome:
        if self.state.caret is not None and self.state.caret.tlid == tlid:
            return Outcome(self.state)
        out = self.apply(motion.focus(self.state, tlid))
        self.request_traces(tlid)
        return out

    def create(self, kind: str, pos: Pos | None = None, **kw: str) -> Outcome:
        pos = pos or self.free_position()
        return self.apply(canvas_actions.create_toplevel(self.state, kind, pos, **kw))

    def create_from_404(self, description: str) -> Outcome:
        return self.apply(canvas_actions.handler_for_404(self.state, description,
                                                         self.free_position()))

    def delete(self, tlid: int) -> Outcome:
        return self.apply(canvas_actions.delete_toplevel(self.state, tlid))

    def move(self, tlid: int, pos: Pos) -> Outcome:
        return self.apply(canvas_actions.move_toplevel(self.state, tlid, pos))

    def set_spec(self, tlid: int, spec: Any) -> Outcome:
        return self.apply(canvas_actions.set_spec(self.state, tlid, spec))

    def rename_toplevel(self, tlid: int, name: str) -> Outcome:
        return self.apply(canvas_actions.rename_toplevel(self.state, tlid, name))

    def new_version(self, tlid: int) -> Outcome:
        tl = self.state.canvas.get(tlid)
        if isinstance(tl, Datastore):
            return self.new_datastore_version(tlid)
        if isinstance(tl, UserFunction):
            return self.apply(versions.new_function_version(self.state, tlid))
        return self.apply(versions.new_type_version(self.state, tlid))

    def new_datastore_version(self, tlid: int | None = None) -> Outcome:
        """The next version of `tlid`'s datastore (else the caret's), placed by real sizes."""
        return self.apply(datastore_versions.new_datastore_version(self.state, tlid,
                                                                   self.frame_sizes))

    def edit_declarations(self, tlid: int, rows: Any, return_type: str | None = None) -> Outcome:
        return self.apply(declarations.edit_declarations(self.state, tlid, rows, return_type))

    def choose_completion(self, index: int | None = None) -> Outcome:
        if not self.completions or self.state.caret is None:
            return Outcome(self.state)
        chosen = self.completions[self.completion_index if index is None else index]
        return self.apply(committing.commit_completion(self.state, self.state.caret.node_id,
                                                   chosen))

    def enter_completion(self) -> Outcome:
        """Enter on the popup: take the highlighted completion; when it is exactly what was
        typed and leaves nothing to fill, Enter also ends the line (`actions`)."""
        if not self.completions or self.state.caret is None:
            return Outcome(self.state)
        chosen = self.completions[self.completion_index]
        return self.apply(actions.enter_on_completion(self.state, chosen))

    def choose_completion_and_move(self) -> Outcome:
        """Tab on the popup: take the highlighted completion, then go on to the next hole
        unless the caret already is in one (a call's first argument, a let's name)."""
        out = self.choose_completion()
        if out.refused:
            return out
        proj, caret = self.state.projection(), self.state.caret
        found = proj.placed_at(caret) if proj is not None and caret is not None else None
        if found is not None and found[0].token.blank:
            return out
        return self.run("next-hole")

    def free_position(self) -> Pos:
        """Free space for a new frame, from the frames' real sizes (an estimate if not shown)."""
        boxes = [placement.Box(tl.pos.x, tl.pos.y, *self.frame_sizes.get(tlid, (420, 200)))
                 for tlid, tl in self.state.canvas.items()]
        return placement.free_position(boxes)

    def arrange(self, moves: dict[int, Pos]) -> Outcome:
        """Push frames apart (`placement.push_apart`'s moves), sent as one batch."""
        return self.apply(canvas_actions.arrange(self.state, moves))

    def apply(self, out: Outcome) -> Outcome:
        if out.ops and self.session is not None:
            try:  # sent before the editor's copy moves ahead, so a refusal leaves it as it was
                self.session.send_ops(list(out.ops))
            except SessionError as e:
                out = refuse(self.state, f"Not done: {e}.")
        before = self.state
        self.state = out.state
        # Only this editor's own edits push frames apart: not a caret move, a live value
        # arriving, or another editor's change.
        self.local_change = bool(out.ops) and before.canvas is not self.state.canvas
        if out.message:
            self.message.emit(out.message)
        if before.canvas is not self.state.canvas:
            self._recheck()
        self.refresh_completions()
        self.changed.emit()
        return out

    def _recheck(self) -> None:
        self.infos = checking.recheck(self._checked_canvas, self.state.canvas, self.infos)
        self._checked_canvas = self.state.canvas

    # ------------------------------------------------------- completions

    def refresh_completions(self, force: bool = False) -> None:
        found: list[completion.Completion] = []
        caret = self.state.caret
        tl = self.state.toplevel
        node = self.state.node(caret.node_id) if caret is not None else None
        if tl is not None and (isinstance(node, EPartial) or (force and isinstance(node, EHole))):
            query = node.text if isinstance(node, EPartial) else ""
            program = Program.from_toplevels(self.state.canvas.values())
            try:
                found = completion.completions(program, tl, node.id, query,
                                               self.infos.get(tl.tlid), limit=40,
                                               canvas=list(self.state.canvas.values()))
            except ValueError as e:
                self.message.emit(str(e))
        if found != self.completions:
            self.completions = found
            self.completion_index = 0
            self.completions_changed.emit(found)

    def move_completion(self, delta: int) -> None:
        if self.completions:
            self.completion_index = (self.completion_index + delta) % len(self.completions)
            self.completions_changed.emit(self.completions)

    def dismiss_completions(self) -> None:
        if self.completions:
            self.completions = []
            self.completions_changed.emit([])

    # ----------------------------------------------------------- session

    def on_loaded(self, toplevels: list[Toplevel]) -> None:
        canvas: dict[int, Toplevel] = {tl.tlid: tl for tl in toplevels}
        # Our edits the runtime has not acked yet are still ours: keep showing them.
        for batch in getattr(self.session, "pending_batches", ()):
            with contextlib.suppress(OpError):
                canvas = apply_to_canvas(batch.ops, canvas)
        self.state = self.state.with_canvas(canvas)
        self.local_change = False
        self._recheck()
        self.changed.emit()

    def on_remote_ops(self, ops: list[Op], author: str) -> None:
        try:
            canvas = apply_to_canvas(ops, self.state.canvas)
        except OpError as e:
            self.message.emit(f"An edit by {author} clashed with yours ({e}); "
                              "reloading the canvas.")
            if self.session is not None:
                self.session.resync()
            return
        self.state = self.state.with_canvas(canvas)
        self.local_change = False
        self._recheck()
        self.refresh_completions()
        self.changed.emit()

    def on_rejected(self, _number: int, message: str, _op_index: object) -> None:
        self.message.emit(f"The runtime refused an edit: {message} Reloading the canvas.")
        if self.session is not None:
            self.session.resync()

    def on_acked(self, _number: int, _seq: int) -> None:
        pass

    async def close(self) -> None:
        """Stop what is in flight (trace fetches, runs) and the session."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.session is not None:
            await self.session.close()

    # ----------------------------------------------------- live values

    def spawn(self, coro: Any) -> None:
        try:
            task = asyncio.ensure_future(coro)
        except RuntimeError:
            coro.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def request_traces(self, tlid: int) -> None:
        tl = self.state.canvas.get(tlid)
        if self.session is None or not isinstance(tl, Handler) or self._connecting(
                f"traces {tlid}"):
            return
        self.spawn(self._fetch_traces(tlid))

    async def _fetch_traces(self, tlid: int) -> None:
        try:
            reply = await self.session.request({"type": "get_traces", "tlid": tlid, "limit": 50})
        except Exception as e:
            self.message.emit(f"Traces unavailable: {e}")
            return
        self.traces[tlid] = list(reply.get("traces", []))
        self.traces_changed.emit(self.traces[tlid])
        if self.traces[tlid] and tlid not in self.selected_trace:
            # None chosen yet: show the newest. A chosen trace stays chosen, even once newer
            # ones push it off this list: running a trace again repeats its writes.
            self.select_trace(tlid, self.traces[tlid][0]["trace_id"])

    def test_from_trace(self) -> None:
        """Ask the runtime for the test the caret handler's trace stands for, and create it
        beside the handler (`trace_test`)."""
        chosen = trace_test.chosen_trace(self.state, self.traces, self.selected_trace)
        if isinstance(chosen, str) or self.session is None:
            self.message.emit(chosen if isinstance(chosen, str) else
                              "Connect to a runtime to make a test from a trace.")
            return
        self.spawn(self._test_from_trace(*chosen))

    async def _test_from_trace(self, tlid: int, trace_id: str) -> None:
        try:
            reply = await self.session.request(
                {"type": "trace_to_test", "tlid": tlid, "trace_id": trace_id}, timeout=60)
            test = wire.decode_toplevel(reply.get("toplevel"), "$.toplevel")
        except (SessionError, wire.WireError) as e:
            self.message.emit(f"No test made from the trace: {e}")
            return
        if not isinstance(test, Test):
            self.message.emit("No test made: the runtime sent something else than a test.")
            return
        self.apply(trace_test.add_test(self.state, test, tlid, self.frame_sizes,
                                       reply.get("result")))

    def select_trace(self, tlid: int, trace_id: str) -> None:
        self.selected_trace[tlid] = trace_id
        if self.session is not None:
            self.spawn(self._run({"type": "run", "tlid": tlid, "trace_id": trace_id}, tlid,
                                  show_result=False))

    def run_toplevel(self, arguments: Mapping[str, str] | None = None) -> None:
        """The play button: run the caret's REPL, function or handler on the runtime.

        `arguments` gives a function's parameters as JSON text (`3`, `"hi"`, `[1, 2]`).
        """
        tl = self.state.toplevel
        if tl is None or self.session is None:
            self.message.emit("Put the caret in a REPL or function to run it "
                              "(and connect to a runtime).")
            return
        inputs: dict[str, Any] = {}
        for name, text in (arguments or {}).items():
            try:
                inputs[name] = wire.encode_value(from_json(text))
            except Exception as e:
                self.message.emit(f"The argument {name} is not JSON ({e}): write 3, \"text\", "
                                  "[1, 2] or {\"a\": 1}.")
                return
        message: dict[str, Any] = {"type": "run", "tlid": tl.tlid, "inputs": inputs}
        trace = self.selected_trace.get(tl.tlid)
        if isinstance(tl, Handler) and trace is not None:
            message = {"type": "run", "tlid": tl.tlid, "trace_id": trace}
        self.spawn(self._run(message, tl.tlid, show_result=True))

    async def _run(self, message: dict[str, Any], tlid: int, *, show_result: bool) -> None:
        try:
            reply = await self.session.request(message)
        except Exception as e:
            self.message.emit(f"Run failed: {e}")
            if show_result:
                self.run_result.emit(f"error: {e}")
            return
        try:
            live = wire.decode_live_iterations(reply.get("live", {}))
            value = wire.decode_value(reply.get("value"))
        except wire.WireError as e:
            self.message.emit(f"The runtime sent a result this editor cannot read: {e}")
            return
        self.live[tlid] = live
        self.live_changed.emit()
        if show_result:
            self.run_result.emit(show(value))

    def _caret_lambdas(self) -> tuple[list[int], list[int]] | None:
        """The lambdas around the caret's node, outermost first: those its value depends
        on, and those the stepper steps (with the caret on a lambda, that lambda too)."""
        caret = self.state.caret
        tl = self.state.canvas.get(caret.tlid) if caret is not None else None
        if caret is None or tl is None:
            return None
        path = traverse.path_to(tl, caret.node_id) or []
        around = [p.id for p in path[:-1] if isinstance(p, ELambda)]
        stepped = [*around, caret.node_id] if path and isinstance(path[-1], ELambda) else around
        return around, stepped

    def iterations_at_caret(self) -> list[Stepper]:
        """A stepper per lambda around the caret that ran, outermost first (empty outside
        lambdas, or before live values arrive)."""
        caret = self.state.caret
        live = self.live.get(caret.tlid) if caret is not None else None
        lambdas = self._caret_lambdas() if live is not None else None  # only with values
        if caret is None or lambdas is None or live is None:
            return []
        return resolve(live, lambdas[1], self.iterations.get(caret.tlid, {}))[1]

    def step_iteration(self, delta: int) -> None:
        """Show the next (+1) or previous (-1) call of the innermost lambda around the caret
        that ran more than once; the lambdas inside it go back to their first call."""
        caret = self.state.caret
        steppers = [s for s in self.iterations_at_caret() if s.kept > 1]
        if caret is None or not steppers:
            self.message.emit("Put the caret inside a lambda that ran more than once (the "
                              "function of a List::map, say) in a handler with a trace, "
                              "then step its iterations with Ctrl+] and Ctrl+[.")
            return
        step = steppers[-1]
        index = step.index + delta
        if not 0 <= index < step.kept:
            self.message.emit(
                f"Already at the {'first' if index < 0 else 'last'} iteration kept "
                f"({step.label()}).")
            return
        tl = self.state.canvas[caret.tlid]
        chosen = self.iterations.setdefault(caret.tlid, {})
        chosen[step.lambda_id] = index
        lam = traverse.find(tl, step.lambda_id)
        if lam is not None:
            for inner in traverse.walk(lam):
                if isinstance(inner, ELambda) and inner.id != step.lambda_id:
                    chosen.pop(inner.id, None)
        self.live_changed.emit()

    def live_at_caret(self) -> tuple[str, bool] | None:
        caret = self.state.caret
        live = self.live.get(caret.tlid) if caret is not None else None
        lambdas = self._caret_lambdas() if live is not None else None  # only with values
        if caret is None or lambdas is None or live is None:
            return None
        at, _ = resolve(live, lambdas[0], self.iterations.get(caret.tlid, {}))
        entry = live.get(caret.node_id, at) if at is not None else None
        if entry is None:
            # Version 1 live values (an older runtime) have one value per node, at [].
            entry = live.get(caret.node_id, ())
        if entry is None:
            return None
        text = show(entry.value)
        return (text if len(text) < 80 else text[:79] + "…"), entry.taken

    def live_placeholder(self) -> str:
        """What the live-value pane says when the caret has no value to show."""
        caret = self.state.caret
        if caret is None:
            return "(put the caret in code)"
        if caret.tlid in self.live:
            lambdas = self._caret_lambdas()
            live = self.live[caret.tlid]
            if lambdas and resolve(live, lambdas[0], self.iterations.get(caret.tlid, {}))[0] \
                    is None:
                return "(this lambda was not called in this run)"
            return "(no value here: this code did not run)"
        if self.traces.get(caret.tlid):
            return "(loading the newest trace…)"
        if isinstance(self.state.canvas.get(caret.tlid), Handler):
            return "(no trace yet: send it a request, or run)"
        return "(run it to see live values)"

    def check_change(self, which: str) -> None:
        """Replay the caret handler's stored requests against a candidate: the flag at the
        caret committed (`which` = "flag") or the handler on the newest language version."""
        tl = self.state.toplevel
        if not isinstance(tl, Handler) or self.session is None:
            self.message.emit("Put the caret in a handler (connected to a runtime) to replay "
                              "its requests.")
            return
        if which == "flag":
            node = refactor_commands.target_node(self.state)
            flag = _enclosing_flag(tl, node.id if node is not None else None)
            if flag is None:
                self.message.emit("Put the caret in a feature flag to check committing it.")
                return
            candidate = traverse.replace(tl, flag.id, flag.new)
            what = f"committing flag {flag.name!r}"
        else:
            candidate = attrs.evolve(tl, language_version=LATEST_LANGUAGE_VERSION)
            what = f"language version {LATEST_LANGUAGE_VERSION}"
        self.spawn(self._replay(tl.tlid, candidate, what))

    async def _replay(self, tlid: int, candidate: Any, what: str) -> None:
        try:
            reply = await self.session.request({"type": "replay", "tlid": tlid,
                                                "toplevel": wire.encode_toplevel(candidate)},
                                               timeout=60)
        except Exception as e:
            self.message.emit(f"Replay failed: {e}")
            return
        rows = list(reply.get("rows", []))
        differ = int(reply.get("differ", 0))
        if not rows:
            summary = f"No stored requests to replay for {what}."
        elif differ == 0:
            summary = (f"Replayed {len(rows)} request(s) for {what}: every answer is the same. "
                       "It can be committed (Ctrl+K).")
        else:
            summary = (f"Replayed {len(rows)} request(s) for {what}: {differ} answer(s) "
                       "differently (listed below).")
        self.message.emit(summary)
        self.replay_report.emit((summary, rows))

    # ------------------------------------------------ checking a change

    def run_checked(self, name: str, argument: str | None = None) -> Outcome:
        """A command that changes code in use (committing a flag, a newer function,
        datastore or language version): first run the tests that reach what it changes on
        the candidate canvas, in a worker thread, and replay the affected handlers' stored
        requests on the runtime; go on at once when all pass, else ask (`change_question`).
        """
        planned = change_checks.plan(self.state, name, argument)
        if isinstance(planned, Outcome):
            return self.apply(planned)
        online = self.session is not None and getattr(self.session, "state",
                                                      "online") == "online"
        replaying = online and bool(planned.handlers)
        note = "" if replaying or not planned.handlers else change_checks.offline_note(
            "not connected to a runtime")
        if not planned.tests and not replaying:
            said = f"No test reaches this change{'; ' + note if note else ''}."
            return self.apply(attrs.evolve(planned.outcome,
                                           message=f"{planned.outcome.message} {said}".strip()))
        check = _Check(planned, replaying, note)
        self._checking = check  # a newer check supersedes this one
        self.message.emit(f"Checking {planned.what}: {planned.describe_work(replaying)}…")
        threading.Thread(target=lambda: self._tests_ran.emit(
            check, change_checks.run_tests(planned)), name="change-check", daemon=True).start()
        if replaying:
            self.spawn(self._replay_change(check))
        return Outcome(self.state)

    def _on_tests_ran(self, check: _Check, tests: change_checks.TestsRun) -> None:
        check.tests = tests
        self._finish_check(check)

    async def _replay_change(self, check: _Check) -> None:
        found = []
        for handler, message in zip(check.change.handlers,
                                    change_checks.replay_messages(check.change), strict=True):
            try:
                reply = await self.session.request(message, timeout=60)
                found.append(change_checks.replay_from_reply(handler, reply))
            except Exception as e:
                found.append(change_checks.Replay(handler.tlid, change_checks.label(handler),
                                                  problem=str(e) or type(e).__name__))
        check.replays = tuple(found)
        self._finish_check(check)

    def _finish_check(self, check: _Check) -> None:
        if check is not self._checking or check.tests is None or (
                check.replaying and check.replays is None):
            return
        self._checking = None
        report = change_checks.ChangeReport(check.change, check.tests, check.replays or (),
                                            check.note)
        self.change_report.emit(report)
        if report.needs_asking:
            self.message.emit(f"{report.summary()} Go ahead or cancel?")
            self.change_question.emit(report)
        else:
            self.confirm_change(report)

    def confirm_change(self, report: change_checks.ChangeReport) -> Outcome:
        """Go on with a checked change: its ops are sent now, if the code its checks depend
        on is still as it was checked (edits elsewhere meanwhile do not matter)."""
        change, out = report.change, report.change.outcome
        message = f"{report.summary()} {out.message}".strip()
        if self.state.canvas is change.before.canvas:
            state = attrs.evolve(out.state, locks=self.state.locks)
            return self.apply(attrs.evolve(out, state=state, message=message))
        stale = change_checks.stale_for(change, self.state.canvas)
        if stale is not None:
            return self.apply(refuse(self.state, (
                f"Not done: {change_checks.label(stale)} changed while {change.what} was "
                "being checked (an edit here or by another editor). Run the command again to "
                "check it against the code as it is now.")))
        return self.apply(commit(self.state, out.ops, out.state.caret, message))

    def cancel_change(self, report: change_checks.ChangeReport) -> None:
        self.message.emit(f"Cancelled {report.change.what}: the code stays as it is. "
                          f"{report.summary()}")

    def refresh_flags(self) -> None:
        if self.session is not None:
            self.spawn(self._fetch_flags())

    async def _fetch_flags(self) -> None:
        try:
            reply = await self.session.request({"type": "get_flags"})
        except Exception:
            return  # shown by the other polls; flag counts are a nicety
        counts = {int(f["flag_id"]): f for f in reply.get("flags", []) if "flag_id" in f}
        if counts != self.flag_counts:
            self.flag_counts = counts
            self.changed.emit()

    def flag_at_caret(self) -> str | None:
        """The flag around the caret: its name, condition and how traffic went through it."""
        tl = self.state.toplevel
        caret = self.state.caret
        if tl is None or caret is None:
            return None
        flag = _enclosing_flag(tl, caret.node_id)
        if flag is None:
            return None
        cond = " ".join(line.text.strip() for line in layout_expr(flag.cond))
        counts = self.flag_counts.get(flag.id)
        went = (f"recent live requests: {counts['old']} old, {counts['new']} new"
                if counts else "no live traffic through it yet")
        return (f"flag {flag.name!r} when {cond}\n{went}\nCtrl+K: Replay with it committed, "
                "Commit (keep new) or Discard (keep old)")

    async def send_as_me(self, line: str) -> None:
        """Send `METHOD /path [JSON body]` to the canvas as the editor (Flag::justMe_v0)."""
        method, _, rest = line.strip().partition(" ")
        path, _, body = rest.strip().partition(" ")
        if not path.startswith("/"):
            self.run_result.emit("Write a request like: GET /hello  or  POST /notes "
                                 '{"text": "hi"}')
            return
        try:
            info = await self.session.request({"type": "get_info"})
            headers = {info["editor_header"]: self.session.token}
            async with aiohttp.ClientSession() as http, http.request(
                    method.upper(), info["traffic_url"] + path, data=body.encode() or None,
                    headers={**headers, **({"Content-Type": "application/json"} if body
                                           else {})}) as response:
                text = await response.text()
                self.run_result.emit(f"{response.status}  {text[:2000]}")
        except Exception as e:
            self.run_result.emit(f"Could not send it: {e}")
            return
        caret = self.state.caret
        if caret is not None:
            self.selected_trace.pop(caret.tlid, None)  # show the request just sent
            self.request_traces(caret.tlid)

    def refresh_locks(self) -> None:
        if self.session is not None:
            self.spawn(self._fetch_locks())

    async def _fetch_locks(self) -> None:
        try:
            reply = await self.session.request({"type": "get_in_use"})
        except Exception as e:
            self.message.emit(f"Which code is in use is unknown: {e}")
            return
        window = float(reply.get("window_seconds", 0))
        locks: dict[int, InUse] = {}
        for entry in reply.get("locked", []):
            try:
                locks[int(entry["tlid"])] = InUse(int(entry["tlid"]), int(entry["requests"]),
                                                  float(entry["last_at"]),
                                                  str(entry.get("via", "")), window)
            except (KeyError, TypeError, ValueError):
                self.message.emit(f"The runtime described a lock this editor cannot read: "
                                  f"{entry!r}")
        self.set_locks(locks)

    def set_locks(self, locks: Mapping[int, InUse]) -> None:
        if dict(self.state.locks) != dict(locks):
            self.state = attrs.evolve(self.state, locks=dict(locks))
            self.changed.emit()

    def refresh_migrations(self) -> None:
        if self.session is not None:
            self.spawn(self._fetch_migrations())

    async def _fetch_migrations(self) -> None:
        try:
            reply = await self.session.request({"type": "get_migrations"})
        except Exception:
            return  # the runtime pushes each change too; the poll only fills in the start
        self.set_migrations(reply.get("migrations", []))

    def set_migrations(self, states: Any) -> None:
        """The runtime's migration states (from get_migrations, or pushed)."""
        found = {str(s["storage"]): dict(s) for s in states
                 if isinstance(s, dict) and isinstance(s.get("storage"), str)}
        if found != self.migrations:
            self.migrations = found
            self.migrations_changed.emit(found)

    async def fetch_migration(self, tlid: int, limit: int = 20) -> dict[str, Any]:
        """A datastore version's rows as it reads them, its failing rows and data loss
        (`get_migration`); raises `SessionError` with the runtime's reason."""
        if self.session is None:
            raise SessionError("not connected to a runtime")
        reply: dict[str, Any] = await self.session.request({"type": "get_migration", "tlid": tlid,
                                                            "limit": limit}, timeout=60)
        if isinstance(reply.get("progress"), dict):
            self.set_migrations({**self.migrations,
                                 str(reply["progress"].get("storage")): reply["progress"]
                                 }.values())
        return reply

    async def delete_row(self, datastore: str, key: str) -> dict[str, Any]:
        """Delete one stored row, explicitly (`delete_row`; `datastore` is a version's name,
        Users_v1: the row goes from the storage every version of the chain shares)."""
        if self.session is None:
            raise SessionError("not connected to a runtime")
        reply: dict[str, Any] = await self.session.request(
            {"type": "delete_row", "datastore": datastore, "key": key})
        self.message.emit(f"Deleted the row {key!r} of {datastore}.")
        return reply

    def refresh_404s(self) -> None:
        if self.session is not None and not self._connecting("404s"):
            self.spawn(self._fetch_404s())

    def _connecting(self, what: str) -> bool:
        """While the session is still connecting, remember `what` to fetch once online
        (asking now would only fail with "not connected"); True if it was put off."""
        if getattr(self.session, "state", "online") != "connecting":
            return False
        self._after_connect.add(what)
        return True

    def _on_connection(self, state: str, _detail: str) -> None:
        if state != "online":
            return
        waiting, self._after_connect = self._after_connect, set()
        for what in sorted(waiting):
            if what == "404s":
                self.refresh_404s()
            elif what.startswith("traces "):
                self.request_traces(int(what.removeprefix("traces ")))

    async def _fetch_404s(self) -> None:
        try:
            reply = await self.session.request({"type": "get_404s"})
        except Exception as e:
            self.message.emit(f"404s unavailable: {e}")
            return
        self.not_found = list(reply.get("requests", []))
        self.not_found_changed.emit(self.not_found)


class _Check:
    """A guarded change being checked: its tests' results and replays, as they come."""

    def __init__(self, change: change_checks.Change, replaying: bool, note: str) -> None:
        self.change = change
        self.replaying = replaying
        self.note = note
        self.tests: change_checks.TestsRun | None = None
        self.replays: tuple[change_checks.Replay, ...] | None = None


def _enclosing_flag(tl: Toplevel, node_id: int | None) -> EFlag | None:
    if node_id is None:
        return None
    path = traverse.path_to(tl, node_id) or []
    return next((n for n in reversed(path) if isinstance(n, EFlag)), None)


__all__ = ["UI_COMMANDS", "EditorController"]
