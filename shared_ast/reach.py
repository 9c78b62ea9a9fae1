"""Reach: which toplevels a piece of code can run or name.

A handler or function reaches the functions it calls, the datastores it names
and the types it constructs, and through them what they reach; a function's
parameter and return types, a datastore's schema and a type's fields reach the
types they name. A test reaches what its body does, and the handlers its
`Test::http`, `Test::event` and `Test::cron` calls run (found from literal
method and path, queue or name; a computed one could be any handler of that
kind, so it reaches all of them).

Locking (`runtime.control.usage`) spreads "in use" along this relation, and
tests (`shared_ast.testing`) use it to know which tests an edit can change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from shared_ast import traverse
from shared_ast.nodes import ECall, EConstructor, EString, EVariable, LibFnRef, UserFnRef
from shared_ast.program import Program
from shared_ast.routes import RouteTable
from shared_ast.toplevels import (
    CronSpec,
    Datastore,
    Handler,
    HttpSpec,
    Test,
    Toplevel,
    UserFunction,
    UserType,
    WorkerSpec,
)
from shared_ast.type_ast import Type
from shared_ast.unify import user_types_in

__all__ = ["Reach"]


class Reach:
    """A canvas's toplevels indexed by how code names them, to walk what code reaches.

    Built once per canvas version (a dict lookup per reference after that).
    """

    def __init__(self, toplevels: Mapping[int, Toplevel] | Iterable[Toplevel]) -> None:
        tls = list(toplevels.values() if isinstance(toplevels, Mapping) else toplevels)
        self.toplevels = {tl.tlid: tl for tl in tls}
        self.by_fn = {(f.fn_id, f.version): f for f in tls if isinstance(f, UserFunction)}
        self.datastores = Program.from_toplevels(tls).datastore_variables()
        self.types = {(t.type_id, t.version): t for t in tls if isinstance(t, UserType)}
        handlers = [h for h in tls if isinstance(h, Handler)]
        self.routes = RouteTable.build(h for h in handlers if isinstance(h.spec, HttpSpec))
        self.handlers = handlers

    def dependencies(self, tl: Toplevel, *, in_test: bool | None = None) -> Iterator[Toplevel]:
        """What `tl` names directly (repeats possible). `Test::http` & co. run handlers only
        in a test's run (`in_test`, by default whether `tl` is a test); elsewhere they give
        an error and run nothing."""
        if in_test is None:
            in_test = isinstance(tl, Test)
        if isinstance(tl, UserFunction):
            for p in tl.params:
                yield from self._types_named(p.type)
            yield from self._types_named(tl.return_type)
        if isinstance(tl, Datastore):
            yield from self._types_named(tl.schema)
        if isinstance(tl, UserType):
            for node in traverse.walk(tl):
                t = getattr(node, "type", None)
                if isinstance(t, Type):
                    yield from self._types_named(t)
        if not isinstance(tl, (Handler, UserFunction, Test)):
            return
        for node in traverse.walk(tl):
            match node:
                case ECall(fn=UserFnRef(fn_id=fn_id, version=version)):
                    fn = self.by_fn.get((fn_id, version))
                    if fn is not None:
                        yield fn
                case ECall(fn=LibFnRef(module="Test")) if in_test:
                    yield from self._handlers_run(node)
                case EVariable(name=name) if name in self.datastores:
                    yield self.datastores[name]
                case EConstructor(type_ref=ref) if ref is not None:
                    constructed = self.types.get((ref.type_id, ref.version))
                    if constructed is not None:
                        yield constructed

    def reached(self, tl: Toplevel) -> set[int]:
        """The tlids `tl` reaches, itself included."""
        seen = {tl.tlid}
        queue = [tl]
        in_test = isinstance(tl, Test)
        while queue:
            for dep in self.dependencies(queue.pop(), in_test=in_test):
                if dep.tlid not in seen:
                    seen.add(dep.tlid)
                    queue.append(dep)
        return seen

    def _types_named(self, t: Type) -> Iterator[UserType]:
        for ref in user_types_in(t):
            found = self.types.get((ref.type_id, ref.version))
            if found is not None:
                yield found

    def _handlers_run(self, call: ECall) -> Iterator[Handler]:
        """The handlers a `Test::http`/`event`/`cron` call can run."""
        literals = [a.value if isinstance(a, EString) else None for a in call.args]
        name = getattr(call.fn, "name", "")
        if name == "http":
            method, path = [*literals, None, None][:2]
            if method is not None and path is not None:
                found = self.routes.match(method.upper(), path.split("?", 1)[0])
                if found is not None:
                    yield found[0]
                return
            yield from (h for h in self.handlers if isinstance(h.spec, HttpSpec))
        elif name == "event":
            queue = literals[0] if literals else None
            yield from (h for h in self.handlers if isinstance(h.spec, WorkerSpec)
                        and queue in (None, h.spec.queue))
        elif name == "cron":
            cron = literals[0] if literals else None
            yield from (h for h in self.handlers if isinstance(h.spec, CronSpec)
                        and cron in (None, h.spec.name))
