"""The main window: toolbar, toplevel list, canvas, inspector, status bar.

It wires widgets to the controller and keeps them in step with its state:
frames are created and dropped as toplevels come and go, and only the frames
whose toplevel or caret changed are repainted.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QScrollArea,
    QSplitter,
    QToolBar,
    QToolButton,
    QWidget,
)

from editor.controller import UI_COMMANDS, EditorController
from editor.model import (
    actions,
    inspecting,
    motion,
    problems,
    refactor_commands,
    test_runs,
    versions,
)
from editor.model.canvas_actions import TOPLEVEL_KINDS, toplevel_label
from editor.model.declarations import declarations_of
from editor.model.placement import push_apart
from editor.model.refactor_commands import REFACTORINGS
from editor.projection import Projection, fn_names
from editor.widgets import change_dialog
from editor.widgets import keymap as keymaps
from editor.widgets.canvas import Canvas, ToplevelFrame
from editor.widgets.code_view import LiveHint
from editor.widgets.declarations_dialog import DeclarationsDialog
from editor.widgets.fuzz_view import Fuzzing
from editor.widgets.messages import MessageBar, MessageLog
from editor.widgets.migration_view import NO_DATASTORE, MigrationView, datastore_at
from editor.widgets.panels import Inspector, Sidebar
from editor.widgets.popups import (
    POPUP_WIDTH,
    ArgumentsDialog,
    CompletionPopup,
    Palette,
    place_popup,
)
from editor.widgets.test_results import TestRunner, show_on_frames
from editor.widgets.theme import icon, restyle
from shared_ast import traverse
from shared_ast.migration import storage_name
from shared_ast.nodes import Node
from shared_ast.toplevels import Datastore, Pos, Test, UserFunction

#: How often the window asks the runtime for new 404s and traces.
POLL_MS = 5000
#: The commands the completion popup takes over while it is open.
_POPUP_KEYS = {"move-up": -1, "move-down": 1}
#: The window's commands that make a new toplevel, and its kind.
_NEW_KINDS = {"new-http-handler": "http", "new-function": "function", "new-worker": "worker",
              "new-cron": "cron", "new-test": "test"}


def known_commands() -> set[str]:
    return set(actions.COMMANDS) | set(REFACTORINGS) | set(UI_COMMANDS)


class MainWindow(QMainWindow):
    def __init__(self, controller: EditorController, title: str = "Gloam") -> None:
        super().__init__()
        self.controller = controller
        self.keymap = keymaps.load()
        problems = keymaps.check(self.keymap, known_commands())
        if problems:
            raise keymaps.KeymapError("; ".join(problems))
        self.setWindowTitle(title)
        self.resize(1280, 800)
        self._build_toolbar()
        self.sidebar = Sidebar(self)
        self.canvas = Canvas()
        self.canvas_scroll = QScrollArea(self)
        self.canvas_scroll.setObjectName("Canvas")
        self.canvas_scroll.setWidget(self.canvas)
        self.canvas_scroll.setWidgetResizable(True)
        self.inspector = Inspector(self)
        split = QSplitter(self)
        split.addWidget(self.sidebar)
        split.addWidget(self.canvas_scroll)
        split.addWidget(self.inspector)
        split.setStretchFactor(1, 1)
        split.setSizes([230, 780, 270])
        self.setCentralWidget(split)
        self.status = MessageBar(self)
        self.setStatusBar(self.status)
        self.message_log: MessageLog | None = None
        self.migration_view: MigrationView | None = None
        #: "Fuzz this function" and fuzzing on idle, in a worker thread.
        self.fuzzing = Fuzzing(controller, self.status.say, self)
        #: The frame last clicked or gone to: a datastore's frame has no caret to say so.
        self._focused_tlid: int | None = None
        self._connection_said: str | None = None
        self.popup = CompletionPopup(self)
        self.palette_ = Palette(self)
        self.palette_.chosen.connect(self._palette_chosen)
        self._shown: dict[int, tuple[object, ...]] = {}
        self._caret_tlid: int | None = None
        #: The caret (and its toplevel) the view last scrolled to, and a guard while pushing.
        self._scrolled_to: object = None
        self._arranging = False
        #: The arguments last given to each function's play button, as JSON text.
        self.arguments: dict[int, dict[str, str]] = {}
        #: The tests: run off the UI thread after each change, results on the frames.
        self.tests = TestRunner(self)
        self.tests.updated.connect(self.show_tests)
        self.tests.problem.connect(self._show_message)
        c = controller
        c.changed.connect(self.refresh)
        c.message.connect(self._show_message)
        c.completions_changed.connect(self._show_completions)
        c.traces_changed.connect(lambda _t: self._refresh_inspector())
        c.live_changed.connect(self.refresh)
        c.not_found_changed.connect(self.sidebar.show_404s)
        c.run_result.connect(self.inspector.result.setText)
        c.replay_report.connect(self.inspector.show_replay)
        c.migrations_changed.connect(self._show_migrations)
        c.change_report.connect(lambda r: self.inspector.result.setText(
            "\n".join([r.summary(), *r.lines()])))
        c.change_question.connect(self._ask_about_change)
        self.change_dialog: change_dialog.ChangeDialog | None = None
        self.sidebar.toplevel_chosen.connect(self._focus_toplevel)
        self.sidebar.create_from_404.connect(c.create_from_404)
        self.sidebar.refresh_requested.connect(c.refresh_404s)
        self.inspector.trace_chosen.connect(self._trace_chosen)
        self.inspector.iteration_step.connect(c.step_iteration)
        self.inspector.send_requested.connect(self._send_as_me)
        if c.session is not None:
            c.session.connection_changed.connect(self.show_connection)
            c.session.problem.connect(self._show_message)
            c.session.pending_changed.connect(lambda _n: self.show_connection(
                c.session.state, c.session.detail))
            # Before the session starts: the indicator only (it says "not started").
            self.show_connection(c.session.state, c.session.detail, announce=False)
        else:
            self.show_connection("offline", "not connected to a runtime")
        # Traffic keeps coming: the 404s and the selected handler's traces follow it.
        self.poll = QTimer(self)
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self.poll_runtime)
        self.poll.start()
        self.refresh()

    def poll_runtime(self) -> None:
        session = self.controller.session
        if session is None or session.state != "online":
            return
        self.controller.refresh_404s()
        self.controller.refresh_locks()
        self.controller.refresh_flags()
        self.controller.refresh_migrations()
        caret = self.controller.state.caret
        if caret is not None:
            self.controller.request_traces(caret.tlid)

    def _ask_about_change(self, report: Any) -> None:
        """A checked change would break tests or requests: ask (Go ahead / Cancel)."""
        self.change_dialog = change_dialog.ask(self, report, self._change_answered)

    def _change_answered(self, report: Any, went_ahead: bool) -> None:
        self.change_dialog = None
        if went_ahead:
            self.controller.confirm_change(report)
        else:
            self.controller.cancel_change(report)

    def _show_message(self, text: str) -> None:
        self.status.say(text)

    def show_messages(self) -> None:
        """The message log (Ctrl+Shift+U): every message with its time, newest last."""
        if self.message_log is None:
            self.message_log = MessageLog(self.status, self)
            self.status.log_view = self.message_log
        self.message_log.show()
        self.message_log.raise_()
        self.message_log.activateWindow()

    def show_migration(self) -> None:
        """The migration view (Ctrl+Alt+M) of the datastore at the caret or selected frame."""
        state = self.controller.state
        caret = state.caret
        focus = self.focusWidget()
        held = next((t for t, f in self.canvas.frames.items() if focus is not None
                     and f.isAncestorOf(focus) and isinstance(f.toplevel, Datastore)), None)
        ds = datastore_at(state.canvas, held) or (
            datastore_at(state.canvas, caret.tlid, caret.node_id) if caret is not None
            else None) or datastore_at(state.canvas, self._focused_tlid)
        if ds is None:
            self.status.say(NO_DATASTORE)
            return
        self.show_migration_of(ds.tlid)

    def show_migration_of(self, tlid: int) -> None:
        if self.migration_view is None:
            self.migration_view = MigrationView(self.controller, self)
        self.migration_view.show_datastore(tlid)

    def _show_migrations(self, states: dict[str, Any]) -> None:
        """Each datastore frame's progress line, from the runtime's migration states."""
        for tlid, frame in self.canvas.frames.items():
            tl = self.controller.state.canvas.get(tlid)
            if isinstance(tl, Datastore):
                frame.set_migration(states.get(storage_name(tl)))
        self.canvas.fit()

    # ---------------------------------------------------------- toolbar

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main", self)
        bar.setObjectName("Toolbar")
        bar.setMovable(False)
        self.addToolBar(bar)
        self.indicator = QLabel("connecting", bar)
        self.indicator.setObjectName("ConnectionIndicator")
        bar.addWidget(self.indicator)
        bar.addSeparator()
        new = QToolButton(bar)
        new.setText("New")
        new.setIcon(icon("add"))
        new.setObjectName("NewButton")
        new.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        new.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(new)
        self.new_actions: dict[str, QAction] = {}
        for kind, label in TOPLEVEL_KINDS.items():
            act = menu.addAction(icon(kind if kind != "http" else "http"), label)
            act.triggered.connect(lambda _c=False, k=kind: self.new_toplevel(k))
            self.new_actions[kind] = act
        new.setMenu(menu)
        bar.addWidget(new)
        self.undo_action = bar.addAction(icon("undo"), "Undo", lambda: self.controller.run("undo"))
        self.redo_action = bar.addAction(icon("redo"), "Redo", lambda: self.controller.run("redo"))
        self.play_action = bar.addAction(icon("play"), "Run", lambda: self.run_command("run"))
        self.palette_action = bar.addAction(icon("palette"), "Commands", self.open_palette)

    def show_connection(self, state: str, detail: str, announce: bool = True) -> None:
        pending = getattr(self.controller.session, "pending", 0)
        text = {"online": "● online", "offline": "● offline", "connecting": "● connecting"}.get(
            state, state)
        if pending:
            text += f" · {pending} queued"
        self.indicator.setText(text)
        self.indicator.setToolTip(detail)
        restyle(self.indicator, state=state)
        if not announce:
            return
        # The status bar (and the log) hear of changes, not of each retry: connecting (not a
        # failure yet, so nothing of "not connected"), a failure once, and being back.
        said = self._connection_said
        if state == "connecting" and said in (None, "online"):
            self.status.say(f"{detail[:1].upper()}{detail[1:]}…")
        elif state == "offline" and said != "offline":
            self.status.say(detail)
        elif state == "online" and said == "offline":
            self.status.say(f"Online again: {detail}")
        elif state != "online":
            return
        self._connection_said = state

    # ---------------------------------------------------------- syncing

    def refresh(self) -> None:
        state = self.controller.state
        self.tests.follow(state.canvas)  # the tests this change affects, in the background
        names = fn_names(state.canvas.values())
        caret_tlid = state.caret.tlid if state.caret else None
        for tlid in list(self.canvas.frames):
            if tlid not in state.canvas:
                self.canvas.frames.pop(tlid).deleteLater()
                self._shown.pop(tlid, None)
        for tlid, tl in state.canvas.items():
            frame = self.canvas.frames.get(tlid)
            if frame is None:
                frame = self._new_frame(tl)
            live = self.controller.live_at_caret() if tlid == caret_tlid else None
            key = (tl, state.locks.get(tlid), state.caret if tlid == caret_tlid else None,
                   state.selection if tlid == caret_tlid else None, live,
                   id(self.controller.infos.get(tlid)))
            if self._shown.get(tlid) == key:
                continue
            self._shown[tlid] = key
            frame.set_toplevel(tl)
            frame.set_lock(state.locks.get(tlid))
            if frame.pos() != QPoint(tl.pos.x, tl.pos.y):
                frame.move(tl.pos.x, tl.pos.y)
            frame.set_selected(tlid == caret_tlid)
            proj = Projection.of_toplevel(tl, names)
            caret = proj.position(state.caret) if (proj and state.caret and
                                                    tlid == caret_tlid) else None
            selection: set[int] = set()
            if tlid == caret_tlid and state.selection is not None:
                node = traverse.find(tl, state.selection)
                if isinstance(node, Node):
                    selection = set(traverse.node_ids(node))
                if refactor_commands.renaming_new_name(state):
                    # A new variable's name to type over: the let's line, not its body.
                    selection = {state.selection}
            hint = LiveHint(*live) if live else None
            gutter = problems.gutter_of(tl, proj, self.controller.infos.get(tlid),
                                        state.canvas.values())
            frame.code.show_code(proj, caret, selection, set(gutter.marked), hint, gutter=gutter)
            frame.set_problem_count(gutter.count)
            frame.adjustSize()
        self.canvas.fit()
        if self._arrange(caret_tlid):
            return  # the moves' own refresh showed everything
        self.sidebar.show_toplevels(list(state.canvas.values()), caret_tlid)
        self._refresh_inspector()
        frame = self.canvas.frames.get(caret_tlid) if caret_tlid is not None else None
        if frame is not None and caret_tlid is not None and caret_tlid != self._caret_tlid:
            # The caret moved to another toplevel (a new one, a click, an undo): show it
            # and let typing go there, unless the programmer is in a form or the palette.
            self._caret_tlid = caret_tlid
            self.controller.request_traces(caret_tlid)  # its newest trace's live values
            self.canvas_scroll.ensureWidgetVisible(frame.code if frame.code.isVisible() else frame)
            if frame.code.isVisible() and not self.palette_.isVisible() and not isinstance(
                    self.focusWidget(), QLineEdit):
                frame.code.setFocus()
        elif caret_tlid is None:
            self._caret_tlid = None
        self._follow_caret()
        self._place_popup()

    def _arrange(self, caret_tlid: int | None) -> bool:
        """Push frames that now overlap (a frame grew, or was dropped or made here) down out of
        the way, and send the moves: only this editor's own changes, only frames that move."""
        c = self.controller
        boxes = self.canvas.boxes()
        c.frame_sizes = {tlid: (box.w, box.h) for tlid, box in boxes.items()}
        if self._arranging or not c.local_change:
            return False
        moves = push_apart(boxes, caret_tlid)
        if not moves:
            return False
        self._arranging = True
        try:
            c.arrange(moves)
        finally:
            self._arranging = False
        return True

    def _follow_caret(self) -> None:
        """Scroll the canvas so the caret is in view when it moved or its code changed."""
        state = self.controller.state
        caret = state.caret
        if caret is None:
            self._scrolled_to = None
            return
        tl = state.canvas.get(caret.tlid)
        last = self._scrolled_to
        if isinstance(last, tuple) and last[0] == caret and last[1] is tl:
            return  # (`is`: comparing two big trees node by node would cost a keystroke)
        self._scrolled_to = (caret, tl)
        frame = self.canvas.frames.get(caret.tlid)
        rect = frame.code.caret_rect() if frame is not None and frame.code.isVisible() else None
        if frame is None or rect is None:
            return
        centre = frame.code.mapTo(self.canvas, rect.center())
        self.canvas_scroll.ensureVisible(centre.x(), centre.y(), 48, rect.height() // 2 + 24)

    def _new_frame(self, tl: Any) -> ToplevelFrame:
        frame = ToplevelFrame(tl, self.keymap, self.canvas)
        c = self.controller
        tlid = tl.tlid
        frame.code.command.connect(self._code_command)
        frame.code.typed.connect(c.type_text)
        frame.code.clicked.connect(lambda line, col, t=tlid: self._clicked(t, line, col))
        frame.spec_edited.connect(lambda t, spec: self._header_edit(t, c.set_spec(t, spec)))
        frame.renamed.connect(lambda t, name: self._header_edit(t, c.rename_toplevel(t, name)))
        frame.delete_requested.connect(c.delete)
        frame.run_requested.connect(self._run_clicked)
        frame.moved.connect(lambda t, x, y: c.move(t, Pos(max(0, x), max(0, y))))
        frame.focused.connect(self._focus_toplevel)
        frame.params_edited.connect(
            lambda t, rows, ret: self._header_edit(t, c.edit_declarations(t, rows, ret)))
        frame.code_requested.connect(self._header_to_code)
        frame.declarations = lambda t: declarations_of(t, list(c.state.canvas.values()))
        frame.declarations_requested.connect(self.edit_declarations)
        frame.version_requested.connect(c.new_version)
        frame.migration_requested.connect(self.show_migration_of)
        if isinstance(tl, Datastore):
            frame.set_migration(c.migrations.get(storage_name(tl)))
        frame.window_command.connect(self.run_command)
        frame.move(tl.pos.x, tl.pos.y)
        frame.show()
        self.canvas.frames[tlid] = frame
        return frame

    def _header_edit(self, tlid: int, out: Any) -> None:
        """A refused header edit (a bad route or name) shows the stored value again."""
        frame = self.canvas.frames.get(tlid)
        tl = self.controller.state.canvas.get(tlid)
        if out.refused and frame is not None and tl is not None:
            frame.reset_fields(tl)

    def _header_to_code(self, tlid: int, first_hole: bool) -> None:
        """From a header field into its code: Tab puts the caret at the first hole (or the
        start), Escape where it was."""
        c = self.controller
        frame = self.canvas.frames.get(tlid)
        if frame is None:
            return
        if c.state.caret is None or c.state.caret.tlid != tlid:
            c.focus(tlid)
        elif first_hole:
            c.apply(motion.focus(c.state, tlid))
        frame.code.setFocus()

    def new_toplevel(self, kind: str) -> None:
        """Create a toplevel; its first header field (a handler's route, a function's name)
        gets the keyboard with its placeholder selected, so typing replaces it."""
        out = self.controller.create(kind)
        caret = out.state.caret
        frame = self.canvas.frames.get(caret.tlid) if caret and not out.refused else None
        if frame is not None:
            frame.focus_header()

    def _refresh_inspector(self) -> None:
        c = self.controller
        state = c.state
        tlid = state.caret.tlid if state.caret else None
        self.inspector.show_info(inspecting.caret_lines(
            state, c.infos.get(tlid) if tlid is not None else None))
        self.inspector.show_live(c.live_at_caret(), c.live_placeholder())
        self.inspector.show_iterations(c.iterations_at_caret())
        self.inspector.show_flag(c.flag_at_caret())
        if tlid is not None:
            self.inspector.show_traces(c.traces.get(tlid, []), c.selected_trace.get(tlid))

    # ------------------------------------------------------------ input

    def _clicked(self, tlid: int, line: int, col: int) -> None:
        self._focused_tlid = tlid
        was = self.controller.state.caret.tlid if self.controller.state.caret else None
        self.controller.click(tlid, line, col)
        if was != tlid:
            self.controller.request_traces(tlid)

    def _focus_toplevel(self, tlid: int) -> None:
        self._focused_tlid = tlid
        self.controller.focus(tlid)
        frame = self.canvas.frames.get(tlid)
        if frame is not None:
            self.canvas_scroll.ensureWidgetVisible(frame.header)
            self._scrolled_to = None
            self._follow_caret()
            if frame.code.isVisible():
                frame.code.setFocus()
            elif "name" in frame.fields:
                # A type or datastore: the keyboard to its header (Ctrl+Alt+D works there).
                frame.fields["name"].setFocus()

    def list_deprecated(self) -> None:
        """The canvas's calls of deprecated library functions, in the inspector."""
        canvas = self.controller.state.canvas
        uses = versions.deprecated_uses(canvas)
        if not uses:
            self.inspector.result.setText("No calls of deprecated library functions.")
            return
        lines = [f"{len(uses)} call(s) of deprecated functions (put the caret in one, then "
                 "Ctrl+K, Upgrade a deprecated library call):"]
        lines += [f"{toplevel_label(canvas[tlid])}: {name}"
                  + (f" → {new}" if new else "") for tlid, _id, name, new in uses]
        self.inspector.result.setText("\n".join(lines))

    def edit_declarations(self, tlid: int) -> None:
        """The form for a type's fields or cases, a datastore's schema (a function's
        parameters are edited in its header)."""
        tl = self.controller.state.canvas.get(tlid)
        canvas = list(self.controller.state.canvas.values())
        found = declarations_of(tl, canvas) if tl is not None else None
        if tl is None or found is None:
            return
        dialog = DeclarationsDialog(f"Edit {toplevel_label(tl)}", found, self)
        self.declarations_dialog = dialog
        if dialog.exec() == DeclarationsDialog.DialogCode.Accepted:
            self.controller.edit_declarations(tlid, dialog.result_rows())

    def _run_clicked(self, tlid: int) -> None:
        self.controller.focus(tlid)
        self.run_command("run")

    def run_at_caret(self) -> None:
        """Run the caret's toplevel; a function first asks for its arguments."""
        tl = self.controller.state.toplevel
        if isinstance(tl, UserFunction) and tl.params:
            dialog = ArgumentsDialog(tl, self.arguments.get(tl.tlid, {}), self)
            if dialog.exec() != ArgumentsDialog.DialogCode.Accepted:
                return
            self.arguments[tl.tlid] = dialog.values()
            self.controller.run_toplevel(self.arguments[tl.tlid])
            return
        self.controller.run_toplevel()

    def _send_as_me(self, line: str) -> None:
        if self.controller.session is None:
            self.inspector.result.setText("Not connected to a runtime.")
            return
        self.controller.spawn(self.controller.send_as_me(line))

    def _trace_chosen(self, trace_id: str) -> None:
        caret = self.controller.state.caret
        if caret is not None:
            self.controller.select_trace(caret.tlid, trace_id)

    def _code_command(self, name: str) -> None:
        c = self.controller
        if name == "previous-hole" and c.state.caret is not None:
            # Shift+Tab at the code's start goes back to the header, as in a form.
            frame = self.canvas.frames.get(c.state.caret.tlid)
            if frame is not None and frame.at_code_start() and frame.focus_header(last=True):
                c.dismiss_completions()
                return
        if c.completions and self.popup.isVisible():
            if name in _POPUP_KEYS:
                c.move_completion(_POPUP_KEYS[name])
                return
            if name == "newline":
                c.enter_completion()
                return
            if name == "next-hole":
                # Tab accepts the highlighted completion (as VS Code) and, since Tab moves
                # between holes here, goes on to the next hole unless it built one.
                c.choose_completion_and_move()
                return
            if name == "select-none":
                c.dismiss_completions()
                self.popup.hide()
                return
        self.run_command(name)

    def run_command(self, name: str, argument: str | None = None) -> None:
        c = self.controller
        match name:
            case "open-palette":
                self.open_palette()
            case "run":
                self.run_at_caret()
            case "new-http-handler" | "new-function" | "new-worker" | "new-cron" | "new-test":
                self.new_toplevel(_NEW_KINDS[name])
            case "next-failing-test":
                self.next_failing_test()
            case "check-flag-commit":
                c.check_change("flag")
            case "check-language-upgrade":
                c.check_change("language")
            case "list-deprecated":
                self.list_deprecated()
            case "new-datastore-version":
                self._new_datastore_version()
            case "go-to-toplevel":
                self.go_to_toplevel()
            case "next-toplevel":
                self.step_toplevel(1)
            case "previous-toplevel":
                self.step_toplevel(-1)
            case "show-messages":
                self.show_messages()
            case "show-migration":
                self.show_migration()
            case "fuzz-function":
                self.fuzzing.fuzz_at_caret()
            case "next-iteration" | "previous-iteration":
                c.step_iteration(1 if name == "next-iteration" else -1)
            case "test-from-trace":
                c.test_from_trace()
            case "refresh-traces":
                if c.state.caret is not None:
                    c.request_traces(c.state.caret.tlid)
                c.refresh_404s()
            case _ if argument is None and REFACTORINGS.get(name, ("", None))[1] is not None:
                # A key for a command that asks (F2: rename) opens the palette at the question.
                title, prompt = REFACTORINGS[name]
                self.palette_.ask(name, title, prompt or "",
                                  refactor_commands.current_name(c.state))
            case _:
                c.run(name, argument)

    def _new_datastore_version(self) -> None:
        """Of the datastore whose frame has the keyboard (its header), else the caret's;
        then the keyboard goes to the rollforward's code, where the caret is."""
        focus, tlid = self.focusWidget(), None
        for t, frame in self.canvas.frames.items():
            if focus is not None and frame.isAncestorOf(focus) and isinstance(
                    frame.toplevel, Datastore):
                tlid = t
        out = self.controller.new_datastore_version(tlid)
        caret = self.controller.state.caret
        shown = self.canvas.frames.get(caret.tlid) if caret is not None else None
        if not out.refused and shown is not None:
            shown.code.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        name = self.keymap.command_for(event.keyCombination(), "window")
        if name is not None:
            self.run_command(name)
            return
        super().keyPressEvent(event)

    def open_palette(self) -> None:
        entries: list[tuple[str, str, str | None]] = []
        for name, (title, asks) in REFACTORINGS.items():
            entries.append((name, title, asks))
        for cmd in actions.COMMANDS.values():
            if cmd.in_palette:
                entries.append((cmd.name, cmd.title, cmd.asks))
        for kind, label in TOPLEVEL_KINDS.items():
            entries.append((f"new:{kind}", f"New {label}", None))
        entries.append(("run", "Run the toplevel at the caret", None))
        entries.append(("check-flag-commit",
                        "Replay stored requests with the flag at the caret committed", None))
        entries.append(("check-language-upgrade",
                        "Replay stored requests on the newest language version", None))
        entries.append(("upgrade-language", "Move this toplevel to the newest language version",
                        None))
        entries.append(("list-deprecated", "List calls of deprecated library functions", None))
        entries.append(("refresh-traces", "Refresh traces and 404s", None))
        entries.append(("test-from-trace", "Make a test from this trace", None))
        entries.append(("go-to-toplevel", "Go to toplevel…", None))
        entries.append(("next-toplevel", "Next toplevel", None))
        entries.append(("previous-toplevel", "Previous toplevel", None))
        entries.append(("show-messages", "Show all messages (message log)", None))
        entries.append(("show-migration", "Show datastore migration", None))
        entries.append(("fuzz-function", "Fuzz this function (inputs from its types)", None))
        entries.append(("next-failing-test", "Go to the next failing test", None))
        entries.append(("next-iteration", "Live values: the next iteration of this lambda",
                        None))
        entries.append(("previous-iteration",
                        "Live values: the previous iteration of this lambda", None))
        self.palette_.open(entries)

    # ------------------------------------------------------------ tests

    def show_tests(self) -> None:
        """New test results: each frame's count or status, and each failing test's live
        values (those of its first failing run) for its code view."""
        c = self.controller
        board = self.tests.board
        caret = c.state.caret
        before = c.live.get(caret.tlid) if caret is not None else None
        for tlid, tl in c.state.canvas.items():
            if isinstance(tl, Test):
                run = board.failing_run(tlid)
                if run is not None and run.live is not None:
                    c.live[tlid] = run.live
                else:
                    c.live.pop(tlid, None)
        moved = show_on_frames(self.canvas.frames, c.state.canvas, board, self.go_to_test,
                               self.tests.seen)
        for tlid in moved:
            self.canvas.frames[tlid].adjustSize()
        if moved:
            self.canvas.fit()
        if caret is not None and c.live.get(caret.tlid) is not before:
            self.refresh()

    def go_to_test(self, tlid: int) -> None:
        """A click on a count or a test's status: the failing test (of those reaching
        `tlid`), the caret on its failing check, with that run's live values."""
        c = self.controller
        order = self.canvas.reading_order()
        target = self.tests.board.first_failing_reaching(tlid, order)
        test = c.state.canvas.get(target) if target is not None else None
        if not isinstance(test, Test):
            self.status.say("No test reaches this yet: New Test (Ctrl+Alt+T) makes one.")
            return
        self._go_to_failure(test)

    def next_failing_test(self) -> None:
        """Ctrl+F8: the next failing test after the caret's toplevel, in reading order."""
        c = self.controller
        caret = c.state.caret
        target = self.tests.board.next_failing(caret.tlid if caret else None,
                                               self.canvas.reading_order())
        test = c.state.canvas.get(target) if target is not None else None
        if not isinstance(test, Test):
            waiting = " (the newest results are still coming)" if self.tests.busy() else ""
            self.status.say(f"No failing tests{waiting}.")
            return
        self._go_to_failure(test)

    def _go_to_failure(self, test: Test) -> None:
        c = self.controller
        point = self.tests.board.failure_point(test)
        if point is None:
            self._focus_toplevel(test.tlid)
            return
        if point.live is not None:
            c.live[test.tlid] = point.live
        c.apply(test_runs.at_failure(c.state, point))
        frame = self.canvas.frames.get(test.tlid)
        if frame is not None:
            self.canvas_scroll.ensureWidgetVisible(frame)
            frame.code.setFocus()
        self._follow_caret()

    # ------------------------------------------------------ navigation

    def go_to_toplevel(self) -> None:
        """A quick pick of the toplevels by name or route (as VS Code's Ctrl+P); Enter jumps."""
        canvas = self.controller.state.canvas
        entries: list[tuple[str, str, str | None]] = [
            (f"goto:{tlid}", toplevel_label(canvas[tlid]), None)
            for tlid in self.canvas.reading_order() if tlid in canvas]
        self.palette_.open(entries, "Go to toplevel: type part of its name or route; Enter jumps")

    def step_toplevel(self, step: int) -> None:
        """The caret to the next (or previous) toplevel in reading order, top to bottom."""
        order = [t for t in self.canvas.reading_order() if t in self.controller.state.canvas]
        if not order:
            self.status.say("No toplevels yet: New (Ctrl+N) makes an HTTP handler.")
            return
        caret = self.controller.state.caret
        if caret is None or caret.tlid not in order:
            target = order[0] if step > 0 else order[-1]
        else:
            target = order[(order.index(caret.tlid) + step) % len(order)]
        self._focus_toplevel(target)

    def _palette_chosen(self, name: str, argument: object) -> None:
        if name.startswith("goto:"):
            self._focus_toplevel(int(name.removeprefix("goto:")))
        elif name.startswith("new:"):
            self.new_toplevel(name.removeprefix("new:"))  # its header takes the keyboard
            return
        else:
            self.run_command(name, argument if isinstance(argument, str) else None)
        caret = self.controller.state.caret
        frame = self.canvas.frames.get(caret.tlid) if caret else None
        if frame is not None:
            frame.code.setFocus()

    # ------------------------------------------------------ completions

    def _show_completions(self, items: list[Any]) -> None:
        if not items:
            self.popup.hide()
            return
        self.popup.show_completions(items, self.controller.completion_index)
        self._place_popup()
        self.popup.show()
        self.popup.raise_()

    def _place_popup(self) -> None:
        caret = self.controller.state.caret
        if caret is None or not self.popup.isVisible():
            return
        frame = self.canvas.frames.get(caret.tlid)
        if frame is None:
            return
        rect = frame.code.caret_rect()
        if rect is None:
            return
        # Inside the window, as tall as its rows, above the caret when there is no room below.
        self.popup.fit_rows(min(POPUP_WIDTH, self.width() - 8))
        anchor = QRect(frame.code.mapTo(self, rect.topLeft()), rect.size())
        self.popup.move(place_popup(anchor, self.popup.size(), self.rect()))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.poll.stop()
        self.fuzzing.close()
        self.tests.stop()
        self.popup.hide()
        super().closeEvent(event)


__all__ = ["MainWindow", "QWidget"]
