"""Live values: the value each node took when a toplevel ran, per iteration of each lambda.

A node outside any lambda takes one value per run. A node inside a lambda
takes one value per *call* of that lambda (each element of a `List::map`,
each step of a fold, each call of a `let f = \\x -> ...`). Where a value was
taken is an *iteration path* (`At`): for each lambda that encloses the node
in the code, outermost first, the index of the call it is in, counted among
the calls of that lambda made in the same iteration of the lambdas around
it. So in `List::map xs (\\x -> List::map ys (\\y -> x + y))`, `x + y` at
`(2, 0)` is the inner lambda's first call within the outer lambda's third.
A node outside every lambda is at `()`.

Bounded: of each lambda's calls in one iteration path, only the first
`max_iterations` (100) are recorded (`kept`); the rest are counted (`calls`),
so a map over a million elements records a hundred and says how many it
skipped. Lambdas nested in lambdas multiply: once `max_values` (50,000)
values are recorded, further calls are only counted.

`LiveValues` is what the evaluator records into (`shared_ast.evaluator`)
and what the wire codec (`shared_ast.wire.decode_live_iterations`) gives back.
`resolve` turns the iterations chosen in the editor into the path of one node.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from shared_ast.nodes import NodeId
from shared_ast.values import Closure, Response, Variant

__all__ = ["MAX_ITERATIONS", "MAX_VALUES", "MAX_WEIGHT", "At", "LiveValue", "LiveValues",
           "Stepper", "resolve"]

#: How many calls of one lambda (in one iteration path) are recorded.
MAX_ITERATIONS = 100
#: After how many recorded values a new call is only counted (nested lambdas multiply).
MAX_VALUES = 50_000
#: After how much recorded data (`weight`: about one unit per list element, record field or
#: 16 characters of text, some 40 bytes of JSON) a new call is only counted: a lambda that
#: captures a big list records it once per call, and 100 calls of a 10,000-element list
#: made 33 MB of JSON. This keeps a run's live values to a few MB.
MAX_WEIGHT = 60_000

At = tuple[int, ...]
"""An iteration path: per enclosing lambda, outermost first, the index of its call."""


@attrs.frozen
class LiveValue:
    """The value a node took; `taken` is False for a preview of a branch that did not run."""

    value: Any
    taken: bool


class LiveValues:
    """Per node id and iteration path, the first value the node took there.

    Only nodes of the toplevel being run are recorded: the bodies of user
    functions it calls run unrecorded (their live values come from running
    the function itself with the arguments of a trace).

    `get(node_id)` without a path is the node's first recorded value (for a
    node in a lambda, its first call's), as before iterations were kept.
    """

    def __init__(self, max_iterations: int = MAX_ITERATIONS,
                 max_values: int = MAX_VALUES, max_weight: int = MAX_WEIGHT) -> None:
        self.max_iterations = max_iterations
        self.max_values = max_values
        self.max_weight = max_weight
        self._values: dict[NodeId, dict[At, LiveValue]] = {}
        self._size = 0
        #: The recorded values' weight (`weight`), and weights of containers already seen.
        self.weight = 0
        self._weighed: dict[int, int] = {}
        # lambda node id → iteration path where the lambda was made → [calls, kept].
        self._calls: dict[NodeId, dict[At, list[int]]] = {}

    # ------------------------------------------------------------ recording

    def record(self, node_id: NodeId, value: Any, taken: bool, at: At = ()) -> None:
        """Keep the value; a node's first value always, its values in later calls only while
        the recorded weight is within `max_weight`."""
        per = self._values.get(node_id)
        if per is not None and (at in per or self.weight >= self.max_weight):
            return
        self.weight += self._weigh(value)
        if per is None:
            self._values[node_id] = {at: LiveValue(value, taken)}
        else:
            per[at] = LiveValue(value, taken)
        self._size += 1

    def _weigh(self, value: Any) -> int:
        """About how much encoding the value takes: one unit per element, field or 16
        characters. A recorded container is weighed once (values are immutable and shared:
        a lambda's calls record the same captured list again and again)."""
        known = self._weighed.get(id(value))
        if known is not None:
            return known
        total, stack = 0, [value]  # a loop, not recursion: values nest deeply
        while stack and total <= self.max_weight:
            item = stack.pop()
            total += 1
            if isinstance(item, str):
                total += len(item) // 16
            elif isinstance(item, list | tuple):
                stack.extend(item)
            elif isinstance(item, Mapping):
                stack.extend(item.values())
            elif isinstance(item, Variant):
                stack.extend(item.args)
            elif isinstance(item, Response):
                stack.append(item.body)
            elif isinstance(item, Closure):  # sent with its captured variables
                stack.extend(item.env.values())
        if total > 1:
            self._weighed[id(value)] = total
        return total

    def called(self, lambda_id: NodeId, at: At) -> int | None:
        """Count one call of the lambda made at `at`: the index of this call if its values
        are to be recorded, None if it is only counted (past the bounds)."""
        per = self._calls.setdefault(lambda_id, {})
        counts = per.get(at)
        if counts is None:
            counts = per[at] = [0, 0]
        index = counts[0]
        counts[0] += 1
        if (index != counts[1] or index >= self.max_iterations or self._size >= self.max_values
                or self.weight >= self.max_weight):
            return None
        counts[1] += 1
        return index

    def set_calls(self, lambda_id: NodeId, at: At, calls: int, kept: int) -> None:
        self._calls.setdefault(lambda_id, {})[at] = [calls, kept]

    # -------------------------------------------------------------- reading

    def get(self, node_id: NodeId, at: At | None = None) -> LiveValue | None:
        per = self._values.get(node_id)
        if per is None:
            return None
        if at is None:
            return next(iter(per.values()))
        return per.get(at)

    def has(self, node_id: NodeId, at: At) -> bool:
        per = self._values.get(node_id)
        return per is not None and at in per

    def calls(self, lambda_id: NodeId, at: At = ()) -> int:
        """How many times the lambda made at `at` was called (recorded or not)."""
        return self._calls.get(lambda_id, {}).get(at, [0, 0])[0]

    def kept(self, lambda_id: NodeId, at: At = ()) -> int:
        """How many of those calls have their values recorded (the first ones)."""
        return self._calls.get(lambda_id, {}).get(at, [0, 0])[1]

    def entries(self) -> Iterator[tuple[NodeId, At, LiveValue]]:
        """Every recorded value, per node in recording order."""
        for node_id, per in self._values.items():
            for at, entry in per.items():
                yield node_id, at, entry

    def call_counts(self) -> Iterator[tuple[NodeId, At, int, int]]:
        """(lambda id, path it was made at, calls, calls kept) for every lambda called."""
        for lambda_id, per in self._calls.items():
            for at, (calls, kept) in per.items():
                yield lambda_id, at, calls, kept

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._values

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[NodeId]:
        return iter(self._values)

    def items(self) -> Iterator[tuple[NodeId, LiveValue]]:
        """Each node's first value (the flat view: one value per node)."""
        for node_id, per in self._values.items():
            yield node_id, next(iter(per.values()))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LiveValues):
            return NotImplemented
        return self._values == other._values and self._calls == other._calls

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LiveValues({self._values!r}, calls={self._calls!r})"


@attrs.frozen
class Stepper:
    """The iteration shown for one lambda around the caret: `index` of `calls` (0-based).

    `kept` is how many of the calls were recorded (the first ones).
    """

    lambda_id: NodeId
    index: int
    calls: int
    kept: int

    def label(self) -> str:
        text = f"iteration {self.index + 1} of {self.calls:,}"
        if self.kept < self.calls:
            text += f" (the first {self.kept:,} are kept)"
        return text


def resolve(live: LiveValues, lambdas: Sequence[NodeId],
            chosen: Mapping[NodeId, int]) -> tuple[At | None, list[Stepper]]:
    """The iteration path of a node inside `lambdas` (outermost first), and a stepper per
    lambda that ran, given the iteration `chosen` for each (first call when not chosen,
    clamped to the calls kept). The path is None when a lambda around the node never ran
    in the chosen iteration of the ones around it.
    """
    at: At = ()
    steppers: list[Stepper] = []
    for lambda_id in lambdas:
        calls, kept = live.calls(lambda_id, at), live.kept(lambda_id, at)
        if kept == 0:
            return None, steppers
        index = max(0, min(chosen.get(lambda_id, 0), kept - 1))
        steppers.append(Stepper(lambda_id, index, calls, kept))
        at = (*at, index)
    return at, steppers
