"""runtime/live.py: snapshots compile the handlers a deploy touched; the rest on first use."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from runtime.traffic import live
from runtime.traffic.live import CanvasState
from shared_ast import build as b
from shared_ast.type_ast import INT


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The tlids compiled, in order, while a test runs."""
    seen: list[int] = []
    real = live.compile_toplevel

    def counting(handler: Any, program: Any) -> Any:
        seen.append(handler.tlid)
        return real(handler, program)

    monkeypatch.setattr(live, "compile_toplevel", counting)
    return seen


def canvas(handlers: int) -> tuple[Any, list[Any], dict[int, Any]]:
    double = b.function("double", [("n", INT)], INT, b.infix("*", b.var("n"), 2))
    hs = [b.http("GET", f"/h{i}", b.user_call(double, i)) for i in range(handlers)]
    return double, hs, {t.tlid: t for t in [double, *hs]}


def test_a_function_edit_compiles_only_the_touched_handlers_before_the_ack(
        compiles: list[int]) -> None:
    double, hs, toplevels = canvas(20)
    state = CanvasState.build("c", 1, toplevels)
    assert sorted(compiles) == sorted(h.tlid for h in hs)  # a load compiles everything
    compiles.clear()
    tripled = attrs.evolve(double, body=b.infix("*", b.var("n"), 3))
    edited = attrs.evolve(hs[0], body=b.user_call(tripled, 100))
    after = state.next(2, {**toplevels, double.tlid: tripled, hs[0].tlid: edited},
                       [double.tlid, hs[0].tlid])
    assert compiles == [hs[0].tlid]
    # The others compile when traffic first reaches them, against the new program.
    code = after.compiled_for(hs[5])
    assert code is not None and code.run({}) == 15
    assert compiles == [hs[0].tlid, hs[5].tlid]
    assert after.compiled_for(hs[5]) is code  # once
    assert after.compiled_for(edited) is not None and after.compiled_for(edited).run({}) == 300
    assert len(compiles) == 2
    # The old snapshot keeps its own code and answers as before.
    old = state.compiled_for(hs[5])
    assert old is not None and old.run({}) == 10


def test_an_edit_to_one_handler_compiles_that_handler_only(compiles: list[int]) -> None:
    _, hs, toplevels = canvas(5)
    state = CanvasState.build("c", 1, toplevels)
    compiles.clear()
    edited = attrs.evolve(hs[2], body=b.str_("hi"))
    after = state.next(2, {**toplevels, hs[2].tlid: edited}, [hs[2].tlid])
    assert compiles == [hs[2].tlid]
    assert all(after.compiled_for(h) is state.compiled_for(h) for h in hs if h is not hs[2])
    assert compiles == [hs[2].tlid]


def test_a_handler_that_does_not_compile_runs_interpreted_and_is_not_retried(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    _, hs, toplevels = canvas(2)
    calls: list[int] = []

    def broken(handler: Any, program: Any) -> Any:
        calls.append(handler.tlid)
        raise RuntimeError("compiler bug")

    monkeypatch.setattr(live, "compile_toplevel", broken)
    state = CanvasState.build("c", 1, toplevels)
    assert state.compiled_for(hs[0]) is None and state.compiled_for(hs[0]) is None
    assert calls.count(hs[0].tlid) == 1
    assert "not compiled, runs interpreted" in caplog.text
