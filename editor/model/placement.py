"""Where frames sit on the canvas: never on top of each other.

A frame is a box (its toplevel's position and the size its widget has). When a
frame grows, or is dropped onto another, the frames it now overlaps are pushed
straight down, just below it, and they push the ones below them in turn; a
frame that overlaps nothing stays where it is. New frames go in the first free
space of the left column that is big enough for them. Both are pure functions,
so the window decides with real sizes and sends only the moves that happen.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from shared_ast.toplevels import Pos

#: Space left between a frame and the one pushed below it.
GAP = 16
#: Where new frames go (the left column), and the size assumed for a new frame.
LEFT, TOP = 40, 40
NEW_FRAME = (420, 120)


@attrs.frozen
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def overlaps(self, other: Box) -> bool:
        return (self.x < other.x + other.w and other.x < self.x + self.w
                and self.y < other.y + other.h and other.y < self.y + self.h)


def push_apart(boxes: Mapping[int, Box], first: int | None = None,
               gap: int = GAP) -> dict[int, Pos]:
    """The new positions of the frames that must move so that no two overlap.

    Frames are settled from the top down (`first`, the frame being edited or
    dragged, before all others, so it stays put); a frame that overlaps one
    already settled goes down to just below it. Frames only ever move down,
    and the result holds only the frames that moved.
    """
    order = sorted(boxes, key=lambda t: (t != first, boxes[t].y, boxes[t].x, t))
    settled: list[Box] = []
    moves: dict[int, Pos] = {}
    for tlid in order:
        box = boxes[tlid]
        y = box.y
        while True:
            here = attrs.evolve(box, y=y)
            hit = [s for s in settled if here.overlaps(s)]
            if not hit:
                break
            y = max(s.bottom for s in hit) + gap
        settled.append(attrs.evolve(box, y=y))
        if y != box.y:
            moves[tlid] = Pos(box.x, y)
    return moves


def free_position(boxes: Mapping[int, Box] | list[Box], size: tuple[int, int] = NEW_FRAME,
                  gap: int = GAP, *, left: int = LEFT, top: int = TOP) -> Pos:
    """The highest place in the left column where a frame of `size` overlaps no frame
    (or in the column at `left`, no higher than `top`: beside a given frame)."""
    others = list(boxes.values()) if isinstance(boxes, Mapping) else list(boxes)
    w, h = size
    for y in sorted({top} | {b.bottom + gap for b in others if b.bottom + gap > top}):
        here = Box(left, y, w, h + gap)
        if not any(here.overlaps(b) for b in others):
            return Pos(left, y)
    raise AssertionError("below every frame there is always room")  # pragma: no cover
