"""The main window: toolbar, toplevel list, canvas, inspector, status bar.

It wires widgets to the controller and keeps them in step with its state:
frames are created and dropped as toplevels come and go, and only the frames
whose toplevel or caret changed are repainted.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QScrollArea,
    QSplitter,
    QStatusBar,
    QToolBar,
    QToolButton,
    QWidget,
)

from editor.controller import UI_COMMANDS, EditorController
from editor.model import actions, versions
from editor.model.canvas_actions import TOPLEVEL_KINDS, toplevel_label
from editor.model.declarations import declarations_of
from editor.model.refactor_commands import REFACTORINGS
from editor.projection import Projection, fn_names
from editor.widgets import keymap as keymaps
from editor.widgets.canvas import Canvas, ToplevelFrame
from editor.widgets.code_view import LiveHint
from editor.widgets.declarations_dialog import DeclarationsDialog
from editor.widgets.panels import Inspector, Sidebar
from editor.widgets.popups import ArgumentsDialog, CompletionPopup, Palette
from editor.widgets.theme import icon, restyle
from shared_ast import traverse
from shared_ast.nodes import Node
from shared_ast.toplevels import Pos, UserFunction

#: How often the window asks the runtime for new 404s and traces.
POLL_MS = 5000
#: The commands the completion popup takes over while it is open.
_POPUP_KEYS = {"move-up": -1, "move-down": 1}


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
        self.status = QStatusBar(self)
        self.status.setObjectName("StatusBar")
        self.setStatusBar(self.status)
        self.popup = CompletionPopup(self)
        self.palette_ = Palette(self)
        self.palette_.chosen.connect(self._palette_chosen)
        self._shown: dict[int, tuple[object, ...]] = {}
        self._caret_tlid: int | None = None
        #: The arguments last given to each function's play button, as JSON text.
        self.arguments: dict[int, dict[str, str]] = {}
        c = controller
        c.changed.connect(self.refresh)
        c.message.connect(self._show_message)
        c.completions_changed.connect(self._show_completions)
        c.traces_changed.connect(lambda _t: self._refresh_inspector())
        c.live_changed.connect(self.refresh)
        c.not_found_changed.connect(self.sidebar.show_404s)
        c.run_result.connect(self.inspector.result.setText)
        c.replay_report.connect(self.inspector.show_replay)
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
            self.show_connection(c.session.state, c.session.detail)
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
        caret = self.controller.state.caret
        if caret is not None:
            self.controller.request_traces(caret.tlid)

    def _show_message(self, text: str) -> None:
        self.status.showMessage(text, 8000)

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
            act.triggered.connect(lambda _c=False, k=kind: self.controller.create(k))
            self.new_actions[kind] = act
        new.setMenu(menu)
        bar.addWidget(new)
        self.undo_action = bar.addAction(icon("undo"), "Undo", lambda: self.controller.run("undo"))
        self.redo_action = bar.addAction(icon("redo"), "Redo", lambda: self.controller.run("redo"))
        self.play_action = bar.addAction(icon("play"), "Run", lambda: self.run_command("run"))
        self.palette_action = bar.addAction(icon("palette"), "Commands", self.open_palette)

    def show_connection(self, state: str, detail: str) -> None:
        pending = getattr(self.controller.session, "pending", 0)
        text = {"online": "● online", "offline": "● offline", "connecting": "● connecting"}.get(
            state, state)
        if pending:
            text += f" · {pending} queued"
        self.indicator.setText(text)
        self.indicator.setToolTip(detail)
        restyle(self.indicator, state=state)
        if state != "online":
            self.status.showMessage(detail, 8000)

    # ---------------------------------------------------------- syncing

    def refresh(self) -> None:
        state = self.controller.state
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
            hint = LiveHint(*live) if live else None
            frame.code.show_code(proj, caret, selection, set(self.controller.marks(tlid)), hint)
            frame.adjustSize()
        self.canvas.fit()
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
        self._place_popup()

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
        frame.declarations_requested.connect(self.edit_declarations)
        frame.version_requested.connect(c.new_version)
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

    def _refresh_inspector(self) -> None:
        c = self.controller
        state = c.state
        kind = ""
        if state.caret is not None:
            node = state.node(state.caret.node_id)
            kind = getattr(node, "KIND", "")
        self.inspector.show_info(c.info_at_caret(), kind)
        self.inspector.show_live(c.live_at_caret(), c.live_placeholder())
        self.inspector.show_iterations(c.iterations_at_caret())
        self.inspector.show_flag(c.flag_at_caret())
        tlid = state.caret.tlid if state.caret else None
        if tlid is not None:
            self.inspector.show_traces(c.traces.get(tlid, []), c.selected_trace.get(tlid))

    # ------------------------------------------------------------ input

    def _clicked(self, tlid: int, line: int, col: int) -> None:
        was = self.controller.state.caret.tlid if self.controller.state.caret else None
        self.controller.click(tlid, line, col)
        if was != tlid:
            self.controller.request_traces(tlid)

    def _focus_toplevel(self, tlid: int) -> None:
        self.controller.focus(tlid)
        frame = self.canvas.frames.get(tlid)
        if frame is not None:
            self.canvas_scroll.ensureWidgetVisible(frame)
            if frame.code.isVisible():
                frame.code.setFocus()

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
        """The form for a function's parameters, a type's fields, a datastore's schema."""
        tl = self.controller.state.canvas.get(tlid)
        canvas = list(self.controller.state.canvas.values())
        found = declarations_of(tl, canvas) if tl is not None else None
        if tl is None or found is None:
            return
        dialog = DeclarationsDialog(f"Edit {toplevel_label(tl)}", found, self)
        self.declarations_dialog = dialog
        if dialog.exec() == DeclarationsDialog.DialogCode.Accepted:
            self.controller.edit_declarations(tlid, dialog.result_rows(),
                                              dialog.result_return_type())

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
        if c.completions and self.popup.isVisible():
            if name in _POPUP_KEYS:
                c.move_completion(_POPUP_KEYS[name])
                return
            if name == "newline":
                c.choose_completion()
                return
            if name == "next-hole" and c.completion_fits_query():
                # Tab accepts only what the typed text starts; else it moves on (committing
                # the text if it names exactly one thing).
                c.choose_completion()
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
            case "new-http-handler":
                c.create("http")
            case "check-flag-commit":
                c.check_change("flag")
            case "check-language-upgrade":
                c.check_change("language")
            case "list-deprecated":
                self.list_deprecated()
            case "next-iteration" | "previous-iteration":
                c.step_iteration(1 if name == "next-iteration" else -1)
            case "refresh-traces":
                if c.state.caret is not None:
                    c.request_traces(c.state.caret.tlid)
                c.refresh_404s()
            case _:
                c.run(name, argument)

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
        entries.append(("next-iteration", "Live values: the next iteration of this lambda",
                        None))
        entries.append(("previous-iteration",
                        "Live values: the previous iteration of this lambda", None))
        self.palette_.open(entries)

    def _palette_chosen(self, name: str, argument: object) -> None:
        if name.startswith("new:"):
            self.controller.create(name.removeprefix("new:"))
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
        at = frame.code.mapTo(self, rect.bottomLeft())
        self.popup.move(at.x(), at.y() + 4)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.poll.stop()
        self.popup.hide()
        super().closeEvent(event)


__all__ = ["MainWindow", "QWidget"]
