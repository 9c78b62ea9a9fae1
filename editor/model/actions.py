"""Every action the editor can take, by name: the commands the keymap and palette point at.

A command is a function from `EditorState` (and, for some, one typed
argument such as a new name) to an `Outcome`. The keymap in
`assets/keymap.json` binds keys to command names; the command palette lists
the commands marked `in_palette`. `COMMANDS` is checked against the keymap by
a test, so a binding can never name a command that does not exist.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import attrs

from editor.model import (
    committing,
    datastore_versions,
    deleting,
    edits,
    motion,
    moving,
    problems,
    typing,
    versions,
)
from editor.model.refactor import RefactorError, with_fresh_ids
from editor.model.state import EditorState, Outcome, commit, refuse, replace
from editor.projection import Caret, Projection, fn_names
from shared_ast import traverse
from shared_ast.ids import new_id
from shared_ast.nodes import (
    EHole,
    ELet,
    EMatch,
    EPartial,
    ERightPartial,
    Expr,
    MatchArm,
    Node,
    Pattern,
    PHole,
)
from shared_ast.ops import InsertElement, Op, RemoveElement, ReplaceNode, SetName
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
        return committing.commit_partial(state, h.node.id)
    if isinstance(h.node, ERightPartial):
        # A field name (`r.nam`, not one of r's) then ends the line too; an operator has a
        # hole to fill.
        return _then_end_line(state, committing.commit_right_partial(state, h.node.id))
    if not _at_line_end(h):
        return Outcome(state, message="Enter adds a line at the end of a line; press End first.")
    return _line_below(state, h) or insert_let_above_line(state)


def _line_below(state: EditorState, h: edits.Here) -> Outcome | None:
    """Enter at the end of a line: the line below (a let, a case, the blank body or case
    already there, a new last line), or None where there is none to add (the line is part
    of an `if` or a flag, say)."""
    first = h.proj.by_line[h.line][0]
    owner = traverse.find(h.tl, first.token.node_id)
    if isinstance(owner, ELet) and first.token.role == "keyword":
        return _below_let(state, h.tl, owner)
    arm_line = _match_line(h.tl, owner)
    if arm_line is not None:
        match, index = arm_line
        return _new_arm(state, h.tl, match, index)
    value_of = _let_whose_value_has(h.tl, owner)
    if value_of is not None:
        # A later line of a let's value (a pipe step, an `else`): the new let goes below
        # that whole let, between it and its body, as the line below reads.
        return _below_let(state, h.tl, value_of)
    last = _statement_ending_on(h.tl, h.proj, h.line)
    if isinstance(last, EHole):
        return Outcome(state, message="This line is empty: type its code, then Enter adds the "
                                      "next line.")
    if last is not None:
        # The end of the last line of a body: a new line below, as in a text editor. What
        # was the body's result becomes a statement (`let _ = ...`) and the caret goes to
        # the new last line, where the result is typed.
        hole = EHole(new_id())
        new = ELet(new_id(), "_", last, hole)
        op = replace(h.tl, last.id, new)
        new_tl = traverse.replace(h.tl, last.id, new)
        assert isinstance(new_tl, Toplevel)
        return commit(state, [op], edits.caret_in(new_tl, hole.id, fn_names(state.canvas.values())))
    return None


def _at_line_end(h: edits.Here) -> bool:
    """Whether only the closing quotes and brackets already shown follow the caret on its
    line (`"hi ada|"`): Enter there ends the line, as they need no typing."""
    end = h.proj.line_end(h.line)
    if h.column >= end:
        return True
    if h.placed.token.role == "string" and h.k < len(h.placed.token.text):
        return False  # inside a string's text
    # A hole is an empty place, as the end of a line is in text.
    after = h.placed.end if h.placed.token.blank else h.column
    return not h.proj.lines[h.line].text[after:end].strip(' ")]}')


def _then_end_line(before: EditorState, done: Outcome) -> Outcome:
    """Enter finished a name that leaves nothing to fill (a variable, a field, a literal):
    at the end of a line it goes on as Enter there does, as in text (`let x = f a`, Enter,
    `let y = ...`). One key, one undo step."""
    h = edits.here(done.state)
    if done.refused or isinstance(h, str) or h.placed.token.blank or not _at_line_end(h):
        return done
    more = _line_below(done.state, h)
    if more is None or more.refused or (not more.ops and more.state.caret == done.state.caret):
        return done
    ops = done.ops + more.ops
    state = more.state
    if before.caret is not None and ops:
        state = attrs.evolve(state, history=before.history.record(before.caret.tlid, ops))
    return attrs.evolve(more, state=state, ops=ops)


def enter_on_completion(state: EditorState, chosen: object) -> Outcome:
    """Enter on the completion popup: take `chosen`. When it is exactly what was typed and
    leaves nothing to fill (a variable, a literal), Enter also ends the line, as in text;
    a function or keyword keeps the caret in its first hole."""
    node = state.node(state.caret.node_id) if state.caret is not None else None
    typed = node.text if isinstance(node, EPartial) else None
    done = committing.commit_completion(state, state.caret.node_id if state.caret else 0, chosen)
    if typed is None or getattr(chosen, "label", None) != typed:
        return done
    return _then_end_line(state, done)


def _below_let(state: EditorState, tl: Toplevel, let: ELet) -> Outcome:
    """A new blank `let` below `let`, between it and its body; when that body is still a
    hole (the line below is blank), the caret goes there instead, as onto a blank line."""
    if isinstance(let.body, EHole):
        names = fn_names(state.canvas.values())
        return Outcome(attrs.evolve(state, caret=edits.caret_in(tl, let.body.id, names),
                                    selection=None))
    new = ELet(new_id(), "", EHole(new_id()), let.body)
    return _with_let(state, tl, let.body, new)


def _let_whose_value_has(tl: Toplevel, owner: Node | None) -> ELet | None:
    """The innermost let whose value (`rhs`) holds `owner`, unless a body comes between."""
    path = traverse.path_to(tl, owner.id) if owner is not None else None
    for parent, child in reversed(list(itertools.pairwise(path or []))):
        if isinstance(parent, ELet):
            return parent if parent.rhs is child else None
    return None


def _statement_ending_on(tl: Toplevel, proj: Projection, line: int) -> Expr | None:
    """The body (of the toplevel or a let) whose last line is `line`, if it starts a line."""
    for p in proj.by_line[line]:
        node = traverse.find(tl, p.token.node_id)
        stmt = _statement_at(tl, node.id) if node is not None else None
        if stmt is None or isinstance(stmt, ELet):
            continue
        tokens = proj.tokens_of(traverse.node_ids(stmt))
        if tokens and tokens[-1].line == line:
            return stmt
        return None
    return None


def _match_line(tl: Toplevel, owner: Node | None) -> tuple[EMatch, int] | None:
    """The match whose header or arm starts this line, and where a new arm goes."""
    if isinstance(owner, EMatch):
        return owner, 0
    path = traverse.path_to(tl, owner.id) if owner is not None else None
    for parent, child in itertools.pairwise(path or []):
        if isinstance(parent, EMatch) and isinstance(child, MatchArm):
            return parent, parent.arms.index(child) + 1
    return None


def _new_arm(state: EditorState, tl: Toplevel, match: EMatch, index: int) -> Outcome:
    """Enter at the end of a match's line: a new case below, `___ -> ___`; when the case
    below is still blank, the caret goes into it instead."""
    names = fn_names(state.canvas.values())
    below = match.arms[index] if index < len(match.arms) else None
    if below is not None and isinstance(below.pattern, PHole) and isinstance(below.body, EHole):
        return Outcome(attrs.evolve(state, caret=edits.caret_in(tl, below.id, names),
                                    selection=None))
    arm = MatchArm(new_id(), PHole(new_id()), EHole(new_id()))
    op = InsertElement(tl.tlid, match.id, "arms", index, arm)
    new_match = attrs.evolve(match, arms=(*match.arms[:index], arm, *match.arms[index:]))
    new_tl = traverse.replace(tl, match.id, new_match)
    assert isinstance(new_tl, Toplevel)
    return commit(state, [op], edits.caret_in(new_tl, arm.id, fn_names(state.canvas.values())))


def _with_let(state: EditorState, tl: Toplevel, old_body: Expr, new_let: ELet) -> Outcome:
    op = replace(tl, old_body.id, new_let)
    new_tl = traverse.replace(tl, old_body.id, new_let)
    assert isinstance(new_tl, Toplevel)
    caret = edits.caret_in(new_tl, new_let.id, fn_names(state.canvas.values()))
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
    return _with_let(state, h.tl, target, new)


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
    if not out.refused and tlid in out.state.canvas:
        caret = _caret_at_change(out.state, ops[-1]) if ops else None
        if caret is not None:
            out = attrs.evolve(out, state=attrs.evolve(out.state, caret=caret))
        elif state.caret is None:
            out = attrs.evolve(out, state=motion.focus(out.state, tlid).state)
    if out.refused:
        # The batch no longer applies; forget it rather than retry forever.
        return refuse(attrs.evolve(state, history=history),
                      f"Cannot {which}: the code changed since (another editor?). {out.message}")
    return attrs.evolve(out, state=attrs.evolve(out.state, history=history))


def _caret_at_change(state: EditorState, op: Op) -> Caret | None:
    """Where an undone or redone op changed the code, so the caret shows it."""
    tl = state.canvas.get(op.target_tlid)
    if tl is None or Projection.of_toplevel(tl) is None:
        return None
    names = fn_names(state.canvas.values())
    match op:
        case ReplaceNode():
            return edits.caret_end(tl, op.new.id, names)
        case SetName() if op.node_id != tl.tlid:
            return edits.caret_on_name(tl, op.node_id, names)
        case InsertElement():
            return edits.caret_in(tl, op.element.id, names)
        case RemoveElement():
            return edits.caret_start(tl, op.parent_id, names) if op.parent_id != tl.tlid \
                else None
    return None


# ---------------------------------------------------- clipboard


def copy(state: EditorState) -> Outcome:
    node = _selected(state)
    if node is None and state.selection is None:
        return moving.copy_line(state)  # as VS Code: no selection copies the line
    if node is None:
        return refuse(state, "Select something first (Shift+Up selects the node at the caret).")
    return Outcome(attrs.evolve(state, clipboard=node), message=f"Copied {node.KIND}.")


def cut(state: EditorState) -> Outcome:
    node = _selected(state)
    if node is None and state.selection is None:
        return moving.cut_line(state)  # as VS Code: no selection cuts the line
    if node is None:
        return refuse(state, "Select something first (Shift+Up selects the node at the caret).")
    out = deleting.delete_selection(state)
    if out.refused:
        return out
    if isinstance(node, ELet):
        # Deleting a let removed its binding only: that is what is on the clipboard.
        node = attrs.evolve(node, body=EHole(new_id()))
    return attrs.evolve(out, state=attrs.evolve(out.state, clipboard=node))


def paste(state: EditorState) -> Outcome:
    clip = state.clipboard
    if clip is None:
        return refuse(state, "The clipboard is empty: select something and copy it first.")
    line = moving.paste_line(state)
    if line is not None:
        return line
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


COMMANDS: dict[str, Command] = {}


def register(command: Command) -> None:
    assert command.name not in COMMANDS, command.name
    COMMANDS[command.name] = command


def leaving(state: EditorState, move: Callable[[EditorState], Outcome]) -> Outcome:
    """Move the caret; a partial it leaves whose text names exactly one thing is committed
    first, so what is on screen is what runs."""
    h = edits.here(state)
    done = Outcome(state)
    if not isinstance(h, str) and isinstance(h.node, (EPartial, ERightPartial)):
        commit_it = (committing.commit_partial if isinstance(h.node, EPartial)
                     else committing.commit_right_partial)
        tried = commit_it(state, h.node.id)
        if not tried.refused:
            done = tried
    moved = move(done.state)
    if moved.refused:
        return moved if not done.ops else attrs.evolve(done, message=moved.message)
    return attrs.evolve(moved, ops=done.ops + moved.ops)


def _move(direction: str) -> Callable[[EditorState], Outcome]:
    return lambda s: leaving(s, lambda t: motion.move(t, direction))


for _name, _title, _run, _palette in (
    ("move-left", "Move left", _move("left"), False),
    ("move-right", "Move right", _move("right"), False),
    ("move-up", "Move up", _move("up"), False),
    ("move-down", "Move down", _move("down"), False),
    ("move-home", "Start of line", _move("home"), False),
    ("move-end", "End of line", _move("end"), False),
    ("move-doc-start", "Start of code", _move("doc_start"), False),
    ("move-doc-end", "End of code", _move("doc_end"), False),
    ("next-hole", "Next hole", lambda s: leaving(s, motion.next_blank), False),
    ("previous-hole", "Previous hole",
     lambda s: leaving(s, lambda t: motion.next_blank(t, backwards=True)), False),
    ("select-parent", "Select enclosing expression", motion.select_parent, True),
    ("select-none", "Clear selection", motion.select_none, False),
    ("backspace", "Delete backwards",
     lambda s: typing.unopen_group(s) or deleting.backspace(s), False),
    ("delete", "Delete forwards", deleting.delete_forward, False),
    ("delete-selection", "Delete selection (leaves a hole; a let keeps its body)",
     deleting.delete_selection, True),
    ("newline", "New line (let below)", newline, False),
    ("insert-let-above", "Insert let above", insert_let_above_line, True),
    ("undo", "Undo", undo, True),
    ("redo", "Redo", redo, True),
    ("copy", "Copy (the selection, else the line)", copy, True),
    ("cut", "Cut (the selection, else the line)", cut, True),
    ("paste", "Paste", paste, True),
    ("move-line-up", "Move line up (let, match case, list item, field, pipe step)",
     moving.move_up, True),
    ("move-line-down", "Move line down (let, match case, list item, field, pipe step)",
     moving.move_down, True),
    ("delete-line", "Delete line (a let's binding; the code below stays)", moving.delete_line,
     True),
    ("unwrap", "Unwrap (keep the part at the caret)", moving.unwrap, True),
    ("new-function-version", "New function version (a copy to edit)",
     versions.new_function_version, True),
    ("use-newest-version", "Use newest function version at this call",
     versions.use_newest_version, True),
    ("new-datastore-version", "New datastore version (a new schema, with conversions)",
     datastore_versions.new_datastore_version, True),
    ("use-newest-datastore-version", "Use newest datastore version at this reference",
     datastore_versions.use_newest_datastore_version, True),
    ("move-datastore-back", "Move back to the older datastore version (abandon a migration)",
     datastore_versions.move_datastore_back, True),
    ("upgrade-language", "Move this toplevel to the newest language version",
     versions.upgrade_language, False),
    ("upgrade-call", "Upgrade a deprecated library call (through a flag)",
     versions.upgrade_call, True),
):
    register(Command(_name, _title, _run, _palette))
register(Command("toggle-error-rail", "Toggle error rail (the call at the caret)",
                 problems.toggle_error_rail, True))
register(Command("next-problem", "Go to the next problem",
                 lambda s: leaving(s, problems.next_problem), True))
register(Command("previous-problem", "Go to the previous problem",
                 lambda s: leaving(s, problems.previous_problem), True))
register(Command("version-call-path",
                 "New versions of every function from this call down to one (asks which)",
                 versions.version_call_path, True, asks="the function to change"))


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
