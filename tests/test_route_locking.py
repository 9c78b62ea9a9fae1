"""A new or changed route may not take requests from a handler in use (issue 11, item 1):
checked against the router itself, over every request a small canvas can get."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from test_runtime_locks import LOCKED, send

from shared_ast import build as b
from shared_ast.apply import apply_to_canvas
from shared_ast.locking import InUse, batch_lock_problem
from shared_ast.ops import CreateToplevel, SetHandlerSpec
from shared_ast.routes import RouteTable
from shared_ast.toplevels import Handler, HttpSpec, Toplevel
from tests.runtime_harness import create_toplevels, run, running

segment = st.sampled_from(["a", "b", ":p"])
# Each parameter named after its place, so no route names one twice.
route = st.lists(segment, max_size=3).map(
    lambda s: "/" + "/".join(x + str(i) if x == ":p" else x for i, x in enumerate(s)))
method = st.sampled_from(["GET", "POST", "HEAD"])


def handler(m: str, r: str) -> Handler:
    return b.http(m, r, 1)


def moves(before: dict[int, Toplevel], after: dict[int, Toplevel], old: int, new: int,
          request: str) -> bool:
    """Whether `old` answered the request before and `new` answers it after."""
    m, path = request.split(" ")
    was, now = (RouteTable.build(t for t in tls.values() if isinstance(t, Handler)).match(m, path)
                for tls in (before, after))
    return bool(was and was[0].tlid == old and now and now[0].tlid == new)


def moved_requests(before: dict[int, Toplevel], after: dict[int, Toplevel], old: int,
                   new: int) -> list[str]:
    """Every request (over segments a, b and one no route names) that `old` answered
    before and `new` answers after: the truth, by asking the router each one."""
    return [request for n in range(4) for parts in itertools.product(["a", "b", "zz"], repeat=n)
            for m in ("GET", "POST", "HEAD")
            if moves(before, after, old, new, request := f"{m} /" + "/".join(parts))]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(method, route), min_size=1, max_size=4), method, route,
       st.integers(0, 3), st.booleans())
def test_a_route_is_refused_exactly_when_it_takes_requests_from_a_handler_in_use(
    existing: list[tuple[str, str]], new_method: str, new_route: str, used: int,
    change_existing: bool,
) -> None:
    handlers = [handler(m, r) for m, r in existing]
    before: dict[int, Toplevel] = {h.tlid: h for h in handlers}
    in_use_handler = handlers[used % len(handlers)]
    in_use = {in_use_handler.tlid: InUse(in_use_handler.tlid, 3, 0.0)}
    free = [h for h in handlers if h is not in_use_handler]
    if change_existing and free:
        target = free[0]
        op: CreateToplevel | SetHandlerSpec = SetHandlerSpec(
            target.tlid, target.spec, HttpSpec(new_method, new_route))
        new_tlid = target.tlid
    else:
        new = handler(new_method, new_route)
        op, new_tlid = CreateToplevel(new), new.tlid
    after = dict(apply_to_canvas([op], before))
    moved = moved_requests(before, after, in_use_handler.tlid, new_tlid)
    problem = batch_lock_problem(before, [op], in_use)
    if moved:
        assert problem is not None, f"{moved} move to the new route, unrefused"
        assert problem[0] == 0
        assert "would take requests such as" in problem[1]
        example = problem[1].split("such as ")[1].split(" from ")[0]
        assert moves(before, after, in_use_handler.tlid, new_tlid, example)
    else:
        assert problem is None, problem


def test_walking_around_the_lock_with_a_new_route_is_refused(tmp_path: Path) -> None:
    sum_ = b.http("GET", "/sum/:a/:b", b.infix("+", b.call("Int::parse_v0", b.var("a"),
                                                           rail=True),
                                               b.call("Int::parse_v0", b.var("b"), rail=True)))
    with running(tmp_path / "data", LOCKED) as rt:
        create_toplevels(rt, [sum_])
        assert rt.get("/sum/1/2") == (200, 3)
        assert rt.get("/hello")[0] == 200
        # A second GET /hello that wins the tie (the older handler, by tlid, does), a more
        # specific /sum/1/:b, a HEAD route (HEAD goes to GET's routes while there is
        # none): each would take live traffic.
        for spec, tlid in ((("GET", "/hello"), 1), (("GET", "/sum/1/:b"), None),
                           (("HEAD", "/sum/:x/:y"), None)):
            new = b.http(*spec, "taken", **({"tlid": tlid} if tlid else {}))
            got = run(send(rt, [CreateToplevel(new)]))
            assert got["type"] == "error", got
            assert "in use" in got["message"] and "feature flag" in got["message"]
        assert rt.get("/sum/1/2") == (200, 3)
        assert rt.get("/hello") == (200, "Hello from Gloam!\n")
        # A route that takes nothing from code in use is fine.
        free = run(send(rt, [CreateToplevel(b.http("GET", "/sum/:a/:b/:c", "three"))]))
        assert free["type"] == "ack", free
        assert rt.get("/sum/1/2/3") == (200, "three")
