"""The edit queue on disk: the batches a session has sent but the runtime has not acked.

`CanvasSession` keeps unacked batches in memory and, with a `queue_path`,
writes them here on every change (to a temporary file, then renamed over the
old one, so a crash leaves the old queue or the new one, never half of one).
An editor closed while offline finds its edits here when it starts again.

A queue that cannot be read is refused, never overwritten: it may hold edits
the runtime never got. The message says so, and how to go on without it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeGuard

import attrs

from shared_ast import wire
from shared_ast.ops import Op

QUEUE_SCHEMA = 1


class QueueFileError(Exception):
    """The queue file cannot be read; the text says why and what to do."""


@attrs.frozen
class PendingBatch:
    """A batch of ops the runtime has not acked yet, with its local number."""

    number: int
    ops: tuple[Op, ...]
    author: str


@attrs.frozen
class SavedQueue:
    #: The last canvas sequence number the session had seen (a resume starts there).
    seq: int | None
    #: The local number the next batch gets.
    next_number: int
    batches: tuple[PendingBatch, ...]


def save_queue(path: Path, canvas: str, queue: SavedQueue) -> None:
    """Write the queue (raises OSError: a full disk, a folder that cannot be made)."""
    doc = {"schema": QUEUE_SCHEMA, "canvas": canvas, "seq": queue.seq,
           "next_number": queue.next_number,
           "batches": [{"number": b.number, "author": b.author,
                        "ops": wire.encode_ops(b.ops)} for b in queue.batches]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, allow_nan=False, ensure_ascii=False))
    tmp.replace(path)


def load_queue(path: Path, canvas: str) -> SavedQueue:
    """Read the queue of `canvas` back (raises QueueFileError)."""
    def bad(why: str) -> QueueFileError:
        return QueueFileError(f"the edit queue {path} cannot be read: {why}. It may hold "
                              "edits the runtime never got; move it aside to go without them")

    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise bad(str(e)) from None
    if not isinstance(doc, dict) or doc.get("schema") != QUEUE_SCHEMA:
        raise bad(f"expected a JSON object with \"schema\": {QUEUE_SCHEMA}")
    if doc.get("canvas") != canvas:
        raise bad(f"it belongs to canvas {doc.get('canvas')!r}, not {canvas!r}")
    seq, next_number, raw = doc.get("seq"), doc.get("next_number"), doc.get("batches")
    if not (seq is None or is_int(seq)) or not is_int(next_number):
        raise bad('"seq" and "next_number" must be integers')
    if not isinstance(raw, list):
        raise bad('"batches" must be a list')
    batches: list[PendingBatch] = []
    for i, item in enumerate(raw):
        if not (isinstance(item, dict) and is_int(item.get("number"))
                and isinstance(item.get("author"), str)):
            raise bad(f"batches[{i}] needs a number, an author and ops")
        try:
            ops = wire.decode_ops(item.get("ops"), f"$.batches[{i}].ops")
        except wire.WireError as e:
            raise bad(str(e)) from None
        batches.append(PendingBatch(item["number"], tuple(ops), item["author"]))
    return SavedQueue(seq, max([next_number, *(b.number + 1 for b in batches)]),
                      tuple(batches))


def is_int(value: object) -> TypeGuard[int]:
    """An integer, and not a bool (which Python counts as one)."""
    return isinstance(value, int) and not isinstance(value, bool)

