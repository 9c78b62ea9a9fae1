"""Every action the editor can take, by name: the commands the keymap and palette point at.

A command is a function from `EditorState` (and, for some, one typed
argument such as a new name) to an `Outcome`. The keymap in
`assets/keymap.json` binds keys to command names; the command palette lists
the commands marked `in_palette`. `COMMANDS` is checked against the keymap by
a test, so a binding can never name a command that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from editor.model import deleting, edits, motion, typing, versions
from editor.model.refactor import RefactorError, with_fresh_ids
from editor.model.state import EditorState, Outcome, commit, refuse, replace
from editor.projection import Caret, fn_names
from shared_ast import traverse
from shared_ast.ids import new_id
from shared_ast.nodes import EHole, ELet, EPartial, ERightPartial, Expr, Node, Pattern, PHole
from shared_ast.toplevels import Toplevel


@attrs.frozen
class Command:
    name: str
    title: str
    run: Callable[..., Outcome]
    #: Listed in the command palette (movement keys are not).
    in_palette: bool = True
    #: The prompt for the one argument the command needs (a name), or None.
    asks: str | None = None


# ----------------------------------------------------------- Enter


def newline(state: EditorState) -> Outcome:
    """Enter: finish what is being typed; at the end of a line, a new `let` below."""
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    if isinstance(h.node, EPartial):
        return typing.commit_partial(state, h.node.id)
    if isinstance(h.node, ERightPartial):
        return typing.commit_right_partial(state, h.node.id)
    if h.column < h.proj.line_end(h.line):
        return Outcome(state, message="Enter adds a line at the end of a line; press End first.")
    first = h.proj.by_line[h.line][0]
    owner = traverse.find(h.tl, first.token.node_id)
    if isinstance(owner, ELet) and first.token.role == "keyword":
        new = ELet(new_id(), "", EHole(new_id()), owner.body)
        return _with_let(state, h.tl, owner.body, new, owner_rebuilt=attrs.evolve(owner, body=new))
    return insert_let_above_line(state)


def _with_let(state: EditorState, tl: Toplevel, old_body: Expr, new_let: ELet,
              owner_rebuilt: Node) -> Outcome:
    op = replace(tl, old_body.id, new_let)
    new_tl = traverse.replace(tl, old_body.id, new_let)
    assert isinstance(new_tl, Toplevel)
    caret = edits.caret_in(new_tl, new_let.id, fn_names(state.canvas.values()))
    del owner_rebuilt
    return commit(state, [op], caret)


def insert_let_above_line(state: EditorState) -> Outcome:
    """A blank `let` above the expression that starts the caret's line."""
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    first = h.proj.by_line[h.line][0]
    target = _statement_at(h.tl, first.token.node_id)
    if target is None:
        return refuse(state, "A let can go above a line of code in a body; this line is part "
                             "of a larger expression.")
    new = ELet(new_id(), "", EHole(new_id()), target)
    return _with_let(state, h.tl, target, new, new)


def _statement_at(tl: Toplevel, node_id: int) -> Expr | None:
    """The outermost expression starting at this node that sits in a body position."""
    chain: list[object] = list(traverse.path_to(tl, node_id) or [])
    # Walk up while the node is its parent's first-displayed child.
    for i in range(len(chain) - 1, 0, -1):
        parent, child = chain[i - 1], chain[i]
        if isinstance(parent, Toplevel) or (isinstance(parent, ELet) and parent.body is child):
            return child if isinstance(child, Expr) else None
        first_child = next(iter(traverse.children(parent)), None)  # type: ignore[arg-type]
        if first_child is not child:
            return None
    return None


# --------------------------------------------------------- undo/redo


def undo(state: EditorState) -> Outcome:
    return _history_step(state, "undo")


def redo(state: EditorState) -> Outcome:
    return _history_step(state, "redo")


def _history_step(state: EditorState, which: str) -> Outcome:
    # In a toplevel, undo is that toplevel's; with no caret (after a delete, or on a
    # type or datastore) it is the most recent edit's, so a deleted toplevel comes back.
    tlid = state.caret.tlid if state.caret is not None else state.history.latest(which)
    if tlid is None:
        return Outcome(state, message=f"Nothing to {which}.")
    step = getattr(state.history, which)(tlid)
    if step is None:
        return Outcome(state, message=f"Nothing to {which} in this toplevel.")
    history, ops = step
    out = commit(state, ops, state.caret, record=False)
    if not out.refused and state.caret is None and tlid in out.state.canvas:
        out = attrs.evolve(out, state=motion.focus(out.state, tlid).state)
    if out.refused:
        # The batch no longer applies; forget it rather than retry forever.
        return refuse(attrs.evolve(state, history=history),
                      f"Cannot {which}: the code changed since (another editor?). {out.message}")
    return attrs.evolve(out, state=attrs.evolve(out.state, history=history))


# ---------------------------------------------------- clipboard


def copy(state: EditorState) -> Outcome:
    node = _selected(state)
    if node is None:
        return refuse(state, "Select something first (Shift+Up selects the node at the caret).")
    return Outcome(attrs.evolve(state, clipboard=node), message=f"Copied {node.KIND}.")


def cut(state: EditorState) -> Outcome:
    node = _selected(state)
    if node is None:
        return refuse(state, "Select something first (Shift+Up selects the node at the caret).")
    out = deleting.delete_selection(state)
    if out.refused:
        return out
    return attrs.evolve(out, state=attrs.evolve(out.state, clipboard=node))


def paste(state: EditorState) -> Outcome:
    clip = state.clipboard
    if clip is None:
        return refuse(state, "The clipboard is empty: select something and copy it first.")
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    target_id = state.selection if state.selection is not None else h.node.id
    target = traverse.find(h.tl, target_id)
    if state.selection is None and not isinstance(target, (EHole, PHole)):
        return refuse(state, "Paste goes into a hole or over a selection; Tab to a hole first.")
    fits = (isinstance(target, Expr) and isinstance(clip, Expr)) or (
        isinstance(target, Pattern) and isinstance(clip, Pattern))
    if not fits or target is None:
        return refuse(state, f"A {clip.KIND} cannot go where a {getattr(target, 'KIND', '?')} is.")
    try:
        fresh = with_fresh_ids(clip)
    except RefactorError as e:
        return refuse(state, str(e))
    new_tl = traverse.replace(h.tl, target.id, fresh)
    assert isinstance(new_tl, Toplevel)
    caret = edits.caret_end(new_tl, fresh.id, fn_names(state.canvas.values()))
    return commit(state, [replace(h.tl, target.id, fresh)], caret)


def _selected(state: EditorState) -> Node | None:
    tl = state.toplevel
    if tl is None or state.selection is None:
        return None
    return traverse.find(tl, state.selection)


# ------------------------------------------------------- registry


def _keep(run: Callable[[EditorState], Outcome]) -> Callable[[EditorState], Outcome]:
    return run


COMMANDS: dict[str, Command] = {}


def register(command: Command) -> None:
    assert command.name not in COMMANDS, command.name
    COMMANDS[command.name] = command


for _name, _title, _run, _palette in (
    ("move-left", "Move left", lambda s: motion.move(s, "left"), False),
    ("move-right", "Move right", lambda s: motion.move(s, "right"), False),
    ("move-up", "Move up", lambda s: motion.move(s, "up"), False),
    ("move-down", "Move down", lambda s: motion.move(s, "down"), False),
    ("move-home", "Start of line", lambda s: motion.move(s, "home"), False),
    ("move-end", "End of line", lambda s: motion.move(s, "end"), False),
    ("move-doc-start", "Start of code", lambda s: motion.move(s, "doc_start"), False),
    ("move-doc-end", "End of code", lambda s: motion.move(s, "doc_end"), False),
    ("next-hole", "Next hole", motion.next_blank, False),
    ("previous-hole", "Previous hole", lambda s: motion.next_blank(s, backwards=True), False),
    ("select-parent", "Select enclosing expression", motion.select_parent, True),
    ("select-none", "Clear selection", motion.select_none, False),
    ("backspace", "Delete backwards", deleting.backspace, False),
    ("delete", "Delete forwards", deleting.delete_forward, False),
    ("delete-selection", "Delete selection (leaves a hole)", deleting.delete_selection, True),
    ("newline", "New line (let below)", newline, False),
    ("insert-let-above", "Insert let above", insert_let_above_line, True),
    ("undo", "Undo", undo, True),
    ("redo", "Redo", redo, True),
    ("copy", "Copy selection", copy, True),
    ("cut", "Cut selection", cut, True),
    ("paste", "Paste", paste, True),
    ("new-function-version", "New function version (a copy to edit)",
     versions.new_function_version, True),
    ("use-newest-version", "Use newest function version at this call",
     versions.use_newest_version, True),
):
    register(Command(_name, _title, _run, _palette))


def perform(state: EditorState, name: str, argument: str | None = None) -> Outcome:
    """Run a command by name; a clear refusal for names that do not exist."""
    command = COMMANDS.get(name)
    if command is None:
        return refuse(state, f"There is no command {name!r}.")
    if command.asks is not None:
        if argument is None:
            return refuse(state, f"{command.title} needs an argument: {command.asks}")
        return command.run(state, argument)
    return command.run(state)


def type_text(state: EditorState, text: str) -> Outcome:
    return typing.insert_text(state, text)


def caret_for(state: EditorState, tlid: int, node_id: int) -> Caret | None:
    proj = state.projection(tlid)
    if proj is None or not proj.has(node_id):
        return None
    return Caret(tlid, node_id, 0)
