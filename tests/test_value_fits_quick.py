"""The quick test of a deep `value_fits` (`value_types.quick_fit`) agrees with the full one.

A deep check runs for every row stored or converted; for types of built-in parts a
quick test answers "fits" at once, and everything else (every misfit, with its
message) is left to the full check. So `value_fits` must say the same with and
without it, for any type and any value, and the quick test must really answer for
the rows a datastore holds (else it would be dead weight).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import types, values

from shared_ast.migration import sample_rows
from shared_ast.program import Program
from shared_ast.type_ast import INT, STRING, TList, TOption, TRecord, TRecordField, TResult
from shared_ast.value_types import quick_fit, value_fits
from shared_ast.values import NOTHING, FrozenDict, Variant, error, just, ok


@settings(max_examples=1500, deadline=None)
@given(types(), values())
def test_any_value_against_any_type_agrees(t: Any, value: Any) -> None:
    assert value_fits(value, t, deep=True) == value_fits(value, t, deep=True, quick=False)


@settings(max_examples=500, deadline=None)
@given(types(), st.integers(0, 1000))
def test_rows_made_for_a_type_fit_quickly(t: Any, seed: int) -> None:
    for row in sample_rows(t, Program(), 4, seed):
        assert value_fits(row, t, deep=True, quick=False) is None
        test = quick_fit(t)
        if test is not None:
            assert test(row), (t, row)


ROW = TRecord((TRecordField("name", STRING), TRecordField("tags", TList(STRING)),
               TRecordField("boss", TOption(INT)), TRecordField("r", TResult(INT, STRING))))


def test_the_misfits_of_a_row_are_the_full_checks() -> None:
    good = FrozenDict(name="a", tags=("x",), boss=just(1), r=ok(2))
    test = quick_fit(ROW)
    assert test is not None and test(good) and test(good.set("boss", NOTHING).set("r", error("e")))
    bad = [good.remove("tags"), good.set("extra", 1), good.set("name", 1),
           good.set("tags", ("x", 1)), good.set("boss", Variant("Just", (1,), "Mine_v0")),
           good.set("boss", Variant("Nothing", (1,))), good.set("r", Variant("Ok", ())),
           good.set("boss", just("no")), good.set("r", error(3)), good.set("name", True)]
    for row in bad:
        assert not test(row), row
        full = value_fits(row, ROW, deep=True, quick=False)
        assert full is not None and value_fits(row, ROW, deep=True) == full
