"""The limits of one run: steps, call depth, wall-clock time, the size of values, memory built.

Runaway code must end with a clear error value, never hang the event loop or
exhaust the process's memory. `Budget` holds every limit of a run and what
the run has spent; both the reference evaluator and the compiled code spend
it, through the same few functions here, so that they stop alike:

- steps and depth: counted per node and per call (`Budget.checkpoint`);
- time: a deadline (`time_limit` seconds after the run starts), looked at
  every `CLOCK_EVERY` steps, on the same test as the step limit so that it
  costs nothing more per node, and after every library call (one call can
  take long: a sort of a long list);
- size: a String, List or Dict a library function (or operator) builds may
  not be longer than `max_string` characters / `max_list` elements;
- allocation: each such value built spends its size (`UNIT_BYTES` per
  character/element/entry, roughly its bytes) from `max_alloc`, so a loop
  that builds ever more values stops however small each one is.

`after_library_call` applies size, allocation and time to a library call's
result, for every function at once (only the top of the value is measured,
never walked). Functions that could build far more than their arguments hold
(`List::flatten`, `String::join`, ...) also ask first, through the call
context's `will_build`, so that a value too big is never built at all.

Running out of steps, depth, time or allocation stops the whole run
(`EvaluationStopped`); a value over a size cap is an ordinary error value at
the call, as any other error a library function reports.
"""

from __future__ import annotations

import time
from typing import Any

import attrs

import shared_ast.stdlib  # noqa: F401 - importing the package fills LIBRARY
from shared_ast.nodes import NodeId
from shared_ast.stdlib.list_fns import MAX_BUILT_LENGTH
from shared_ast.stdlib.registry import LIBRARY, LibError, LibFunction
from shared_ast.type_ast import TDict, TList, TOption, TResult, TString, Type
from shared_ast.values import ErrorValue, FrozenDict, Variant

__all__ = [
    "BUILDERS",
    "CLOCK_EVERY",
    "DEFAULT_MAX_ALLOC",
    "DEFAULT_MAX_LIST",
    "DEFAULT_MAX_STRING",
    "UNIT_BYTES",
    "YIELD_BEFORE_BUILDING",
    "Budget",
    "EvaluationStopped",
    "Preempted",
    "after_library_call",
    "built_size",
    "charge_built",
    "refuse_to_build",
    "too_big",
]

#: The longest String a run may build, in characters (code points).
DEFAULT_MAX_STRING = 16 * 1024 * 1024
#: The longest List (elements) or Dict (entries) a run may build.
DEFAULT_MAX_LIST = MAX_BUILT_LENGTH
#: The bytes a run may build in all, counted as `UNIT_BYTES` per character/element/entry.
DEFAULT_MAX_ALLOC = 64 * 1024 * 1024
#: Roughly what one unit of each kind costs: a character, a pointer, a key and a value.
UNIT_BYTES = {"String": 1, "List": 8, "Dict": 16}
_UNIT_NAMES = {"String": "characters", "List": "elements", "Dict": "entries"}

#: Steps between two looks at the clock; a few milliseconds of the slowest code.
CLOCK_EVERY = 5_000


@attrs.define
class Budget:
    """Limits of one evaluation, and what it has spent so far.

    `steps` counts evaluated nodes, `depth` the user-function and lambda calls
    currently nested. A budget is mutable on purpose: evaluations that share
    one (the handler and everything it calls for one request) share its
    limits, its deadline included: `deadline` (a `time.monotonic()` value) is
    set from `time_limit` by the first run that starts with the budget, and
    left alone by the runs after it.
    """

    max_steps: int = 1_000_000
    max_depth: int = 400
    steps: int = 0
    depth: int = 0
    #: Seconds the run may take, None for no limit.
    time_limit: float | None = None
    deadline: float | None = None
    max_string: int = DEFAULT_MAX_STRING
    max_list: int = DEFAULT_MAX_LIST
    max_alloc: int = DEFAULT_MAX_ALLOC
    allocated: int = 0
    #: A `time.monotonic()` value past which the run gives up its thread (`Preempted`),
    #: for its caller to run it again elsewhere; None to keep it to the end.
    yield_at: float | None = None
    #: The step count past which `checkpoint` must look (the limit, or the clock).
    #: Starts at 0, so the first step of a run starts the deadline.
    check_at: int = attrs.field(default=0, init=False, eq=False, repr=False)

    # ------------------------------------------------------------ steps, time

    def start(self) -> None:
        """Start the deadline, unless a run sharing this budget already has."""
        if self.deadline is None and self.time_limit is not None:
            self.deadline = time.monotonic() + self.time_limit

    def next_check(self, steps: int, node_id: NodeId | None) -> int:
        """Stop if the deadline has passed, give up the thread past `yield_at`; else
        the step count at which to look again."""
        self.start()
        if self.deadline is None and self.yield_at is None:
            return self.max_steps
        now = time.monotonic()
        if self.deadline is not None and now >= self.deadline:
            raise EvaluationStopped(self.time_exhausted(node_id))
        if self.yield_at is not None and now >= self.yield_at:
            raise Preempted()
        return min(self.max_steps, steps + CLOCK_EVERY)

    def checkpoint(self, node_id: NodeId | None) -> None:
        """`steps` went past `check_at`: stop if a limit is reached, else move `check_at` on."""
        if self.steps > self.max_steps:
            raise EvaluationStopped(self.steps_exhausted(node_id))
        self.check_at = self.next_check(self.steps, node_id)

    def for_preview(self) -> Budget:
        """A budget of its own for previews: the same limits and deadline, nothing spent."""
        return Budget(self.max_steps, self.max_depth, time_limit=self.time_limit,
                      deadline=self.deadline, max_string=self.max_string,
                      max_list=self.max_list, max_alloc=self.max_alloc)

    # ------------------------------------------------------- size, allocation

    def cap(self, kind: str) -> int:
        return self.max_string if kind == "String" else self.max_list

    def spend(self, kind: str, size: int, what: str, node_id: NodeId | None) -> None:
        """Spend what building a `kind` of `size` costs; stop the run past `max_alloc`."""
        self.allocated += size * UNIT_BYTES[kind]
        if self.allocated > self.max_alloc:
            raise EvaluationStopped(self.alloc_exhausted(what, node_id))

    # --------------------------------------------------------------- messages

    def steps_exhausted(self, node_id: NodeId | None) -> ErrorValue:
        return ErrorValue(
            f"Stopped after {self.max_steps} steps: the code took too long to run. "
            "Is there an infinite loop?",
            node_id,
        )

    def depth_exhausted(self, node_id: NodeId | None) -> ErrorValue:
        return ErrorValue(
            f"Stopped: recursion deeper than {self.max_depth} calls. "
            "Is there an infinite recursion?",
            node_id,
        )

    def time_exhausted(self, node_id: NodeId | None) -> ErrorValue:
        after = f"after {self.time_limit:g} s" if self.time_limit is not None else "at its deadline"
        return ErrorValue(
            f"Stopped {after}: the code ran longer than this run's time limit. "
            "Is there an infinite loop?",
            node_id,
        )

    def alloc_exhausted(self, what: str, node_id: NodeId | None) -> ErrorValue:
        return ErrorValue(
            f"Stopped at {what}: this run has built {self.allocated:,} bytes of Strings, Lists "
            f"and Dicts, over its allocation limit of {self.max_alloc:,} bytes. "
            "Is there a loop building ever more or ever bigger values?",
            node_id,
        )


class Preempted(BaseException):
    """A run held its thread past `Budget.yield_at`: it is abandoned where it was, for
    its caller to run again from the start somewhere it may take long (a server's
    event loop hands it to a thread). Nothing in the evaluator or the library stops
    it, as nothing stops `EvaluationStopped`; effects already made are in the run's
    impure log, which the second run replays instead of repeating them."""


class EvaluationStopped(BaseException):
    """Unwinds a whole evaluation (a limit reached) to its entry point, with its value.

    A BaseException, so that a library function's `except Exception` cannot
    swallow it and keep a runaway loop going.
    """

    def __init__(self, value: ErrorValue) -> None:
        super().__init__(value.message)
        self.value = value


def too_big(what: str, kind: str, size: int, cap: int) -> str:
    """The error of a value over its cap: what would build it, how big, the cap."""
    growing = "longer" if kind == "String" else "bigger"
    return (f"{what} would build a {kind} of {size:,} {_UNIT_NAMES[kind]}, over this run's "
            f"limit of {cap:,} (is a loop making it ever {growing}?)")


def built_size(value: Any) -> tuple[str, int] | None:
    """(kind, size) of a String, List or Dict, or of one inside Just/Ok/Error; else None."""
    t = type(value)
    if t is Variant and value.args and value.type_name is None:
        value = value.args[0]
        t = type(value)
    if t is str:
        return "String", len(value)
    if t is tuple:
        return "List", len(value)
    if t is FrozenDict:
        return "Dict", len(value)
    return None


def _builds(t: Type) -> bool:
    if isinstance(t, TOption):
        t = t.inner
    elif isinstance(t, TResult):
        return _builds(t.ok) or _builds(t.error)
    return isinstance(t, TString | TList | TDict)


#: The library functions whose result is a value they build: those declared to return
#: a String, List or Dict (maybe in an Option or a Result). One returning a type
#: variable gives back part of an argument (`List::head`, `Dict::get`, `List::fold`),
#: which was counted when it was built; `Json::parse` charges what it builds itself.
BUILDERS = frozenset(q for q, lib in LIBRARY.items() if _builds(lib.return_type))


def after_library_call(budget: Budget, lib: LibFunction, args: tuple[Any, ...], result: Any,
                       node_id: NodeId | None) -> Any:
    """The result of a library call within this run's limits: an error value for a value
    over its size cap, a stop for the allocation budget or the deadline, else `result`.

    The reference evaluator and the compiled code both call this after every library
    call (replayed impure calls too) that is in `BUILDERS` or has a deadline to keep,
    so that they charge and stop alike.
    """
    if lib.qualified in BUILDERS:
        over = charge_built(budget, lib.qualified, args, result, node_id)
        if over is not None:
            return over
    deadline = budget.deadline
    if deadline is not None:
        # One call can take long (a sort of a long list): look at the clock after each,
        # for the time limit and for giving the thread up (after the impure log has
        # the call, so a run started again replays it instead of repeating it).
        now = time.monotonic()
        if now >= deadline:
            raise EvaluationStopped(budget.time_exhausted(node_id))
        if budget.yield_at is not None and now >= budget.yield_at:
            raise Preempted()
    return result


def charge_built(budget: Budget, what: str, args: tuple[Any, ...], result: Any,
                 node_id: NodeId | None) -> ErrorValue | None:
    """What `after_library_call` does first for a function in BUILDERS (`what`): the
    error value of a result over its size cap, else None, with its size spent from the
    allocation budget (which may stop the run)."""
    size = built_size(result)
    # A result that is an argument itself (a trim with nothing to trim) is not new.
    if size is not None and size[1] and not _one_of(result, args):
        kind, n = size
        cap = budget.cap(kind)
        if n > cap:
            return ErrorValue(too_big(what, kind, n, cap), node_id)
        budget.spend(kind, n, what, node_id)
    return None


def _one_of(value: Any, args: tuple[Any, ...]) -> bool:
    """`value` is one of `args` itself (a loop: `any` over a generator cost more than the
    rest of the check)."""
    for arg in args:  # noqa: SIM110 - see the docstring
        if value is arg:
            return True
    return False


#: A value this big (characters, elements, entries) takes milliseconds to build: a run
#: that may give its thread up (`Budget.yield_at`) does so before building it.
YIELD_BEFORE_BUILDING = 100_000


def refuse_to_build(budget: Budget, what: str, kind: str, size: int) -> None:
    """`CallContext.will_build`: a `LibError` for a value over its cap, before it is built;
    `Preempted` for a big one in a run that gives its thread up for long work.

    The allocation budget is not asked here: a value within its cap is small enough to
    build, and `after_library_call` charges it then, as for every other function.
    """
    cap = budget.cap(kind)
    if size > cap:
        raise LibError(too_big(what, kind, size, cap))
    if size >= YIELD_BEFORE_BUILDING and budget.yield_at is not None:
        raise Preempted()
