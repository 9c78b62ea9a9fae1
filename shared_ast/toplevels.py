"""Toplevels: the things on a canvas.

A canvas holds handlers (HTTP, worker, cron, REPL), user functions, user types,
datastores and tests. Each has a `tlid`, a position on the canvas and the language
version it was written in; the evaluator is keyed by that version, so old code
keeps its old meaning when the language changes.

Functions and types are versioned: every version is its own toplevel sharing a
family id (`fn_id`, `type_id`) with its siblings, and callers name the version
they call (`UserFnRef`, `TUser`).
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from shared_ast.nodes import EnumCase, Expr, Param, TypeField, UserFnRef
from shared_ast.type_ast import Type
from shared_ast.values import ImpureCall

#: The language version new toplevels are written in.
CURRENT_LANGUAGE_VERSION = 2

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@attrs.frozen
class Pos:
    x: int = 0
    y: int = 0


# ------------------------------------------------------------ handler specs


@attrs.frozen
class HandlerSpec:
    KIND: ClassVar[str] = ""


@attrs.frozen
class HttpSpec(HandlerSpec):
    """`GET /users/:id`: path segments starting with `:` bind variables."""

    KIND: ClassVar[str] = "http"
    method: str
    route: str

    def route_params(self) -> tuple[str, ...]:
        return tuple(seg[1:] for seg in self.route.split("/") if seg.startswith(":"))


@attrs.frozen
class WorkerSpec(HandlerSpec):
    """Runs once for every event emitted to `queue`; the event is bound as `event`."""

    KIND: ClassVar[str] = "worker"
    queue: str


@attrs.frozen
class CronSpec(HandlerSpec):
    KIND: ClassVar[str] = "cron"
    name: str
    interval_seconds: int


@attrs.frozen
class ReplSpec(HandlerSpec):
    """Code run on demand from the editor, never by traffic."""

    KIND: ClassVar[str] = "repl"
    name: str


SPEC_KINDS: tuple[type[HandlerSpec], ...] = (HttpSpec, WorkerSpec, CronSpec, ReplSpec)


# ---------------------------------------------------------------- toplevels


@attrs.frozen
class Toplevel:
    KIND: ClassVar[str] = ""
    tlid: int
    pos: Pos
    language_version: int


@attrs.frozen
class Handler(Toplevel):
    KIND: ClassVar[str] = "handler"
    spec: HandlerSpec
    body: Expr

    def bound_names(self) -> tuple[str, ...]:
        """Variables the runtime binds before the body runs."""
        match self.spec:
            case HttpSpec():
                return ("request", *self.spec.route_params())
            case WorkerSpec():
                return ("event",)
            case _:
                return ()


@attrs.frozen
class UserFunction(Toplevel):
    KIND: ClassVar[str] = "function"
    fn_id: int
    name: str
    version: int
    params: tuple[Param, ...]
    return_type: Type
    body: Expr
    description: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.name}_v{self.version}"

    @property
    def shown(self) -> str:
        """The name as code shows it: `_vN` only when N is not 0 (Dark's rule)."""
        return self.name if self.version == 0 else self.qualified


@attrs.frozen
class RecordDef:
    KIND: ClassVar[str] = "record_def"
    fields: tuple[TypeField, ...] = ()


@attrs.frozen
class EnumDef:
    KIND: ClassVar[str] = "enum_def"
    cases: tuple[EnumCase, ...] = ()


TypeDefinition = RecordDef | EnumDef


@attrs.frozen
class UserType(Toplevel):
    KIND: ClassVar[str] = "type"
    type_id: int
    name: str
    version: int
    definition: TypeDefinition


@attrs.frozen
class Migration:
    """How a datastore version shares its rows with the version it was made from.

    `rollforward` is a user function from a row of `from_version` to a row of
    this version, `rollback` the other way. `table` is the version whose
    storage holds the rows of every version in the chain (the first one), so
    all of them read and write one set of keys; each row remembers the
    version it was written in, and is converted when read through another.
    """

    from_version: int
    table: int
    rollforward: UserFnRef
    rollback: UserFnRef


@attrs.frozen
class Datastore(Toplevel):
    """A typed key-value store; rows must fit `schema`.

    A version made from an earlier one carries a `migration` (see `Migration`);
    one without starts a storage of its own.
    """

    KIND: ClassVar[str] = "datastore"
    name: str
    version: int
    schema: Type
    migration: Migration | None = None

    @property
    def table(self) -> int:
        """The version whose storage holds this version's rows."""
        return self.version if self.migration is None else self.migration.table

    @property
    def qualified(self) -> str:
        return f"{self.name}_v{self.version}"


@attrs.frozen
class Test(Toplevel):
    """A unit test: a name and a body of checks (`Test::expect actual expected`).

    Never served as traffic. Impure library calls inside it (and in the code
    it reaches) are refused, except those in `recording`, which are replayed
    (a test made from a trace keeps the calls its request made), so a test is
    deterministic and never writes. `shared_ast.testing` runs it.
    """

    KIND: ClassVar[str] = "test"
    name: str
    body: Expr
    recording: tuple[ImpureCall, ...] = ()


TOPLEVEL_KINDS: tuple[type[Toplevel], ...] = (Handler, UserFunction, UserType, Datastore, Test)
