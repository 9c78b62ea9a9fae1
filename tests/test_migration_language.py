"""Datastore migrations, the language side: chains of versions, conversions, round trips,
rows generated from a schema, the checker's marks, the wire format and apply's refusals."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import types

from shared_ast import build as b
from shared_ast import migration as mg
from shared_ast import wire
from shared_ast.apply import OpError, apply
from shared_ast.checker import MIGRATION_MISMATCH, check_toplevel
from shared_ast.limits import Budget
from shared_ast.ops import CreateToplevel
from shared_ast.program import Program
from shared_ast.toplevels import Datastore, Migration, UserFunction
from shared_ast.type_ast import (
    BOOL,
    CHAR,
    DATE,
    FLOAT,
    INT,
    NULL,
    STRING,
    UUID,
    TDict,
    TList,
    TOption,
    TRecord,
    TRecordField,
    TResult,
    Type,
)
from shared_ast.value_types import value_fits
from shared_ast.values import FrozenDict


def rec(**fields: Type) -> TRecord:
    return TRecord(tuple(TRecordField(k, v) for k, v in fields.items()))


def row(**fields: Any) -> FrozenDict:
    return FrozenDict(fields)


def r(name: str) -> Any:
    return b.field(b.var("row"), name)


V0 = b.datastore("Users", rec(name=STRING))
V1, F1, B1 = b.datastore_version(
    V0, rec(first=STRING, last=STRING),
    b.record(first=r("name"), last=""),
    b.record(name=b.infix("++", b.infix("++", r("first"), " "), r("last"))))
V2, F2, B2 = b.datastore_version(
    V1, rec(first=STRING, last=STRING, age=INT),
    b.record(first=r("first"), last=r("last"), age=0),
    b.record(first=r("first"), last=r("last")))
CHAIN = [V0, V1, F1, B1, V2, F2, B2]
PROGRAM = Program.from_toplevels(CHAIN)


def program_with(*replaced: Any) -> Program:
    by_tlid = {tl.tlid: tl for tl in CHAIN}
    for tl in replaced:
        by_tlid[tl.tlid] = tl
    return Program.from_toplevels(by_tlid.values())


def failure(program: Program, value: Any, source: int, target: int) -> mg.ConversionFailed:
    with pytest.raises(mg.ConversionFailed) as caught:
        mg.convert(program, "Users", value, source, target)
    return caught.value


# ------------------------------------------------------------------ chains


def test_every_version_of_a_chain_shares_the_first_ones_storage() -> None:
    assert [mg.storage_name(ds) for ds in (V0, V1, V2)] == ["Users_v0"] * 3
    assert mg.family(PROGRAM, V2) == [V0, V1, V2]
    alone = b.datastore("Users", rec(name=STRING), version=7)
    assert mg.storage_name(alone) == "Users_v7"
    assert mg.family(Program.from_toplevels([*CHAIN, alone]), V0) == [V0, V1, V2]


def test_rows_read_through_any_version_of_a_chain() -> None:
    ada = row(name="Ada")
    assert mg.convert(PROGRAM, "Users", ada, 0, 0) is ada
    assert mg.convert(PROGRAM, "Users", ada, 0, 1) == row(first="Ada", last="")
    assert mg.convert(PROGRAM, "Users", ada, 0, 2) == row(first="Ada", last="", age=0)
    grace = row(first="Grace", last="Hopper", age=85)
    assert mg.convert(PROGRAM, "Users", grace, 2, 1) == row(first="Grace", last="Hopper")
    assert mg.convert(PROGRAM, "Users", grace, 2, 0) == row(name="Grace Hopper")
    assert [s.label for s in mg.chain(PROGRAM, "Users", 2, 0)] == [
        "Users_v2's rollback", "Users_v1's rollback"]


def test_no_chain_between_unrelated_versions() -> None:
    other = b.datastore("Users", rec(name=STRING), version=5)
    program = Program.from_toplevels([*CHAIN, other])
    failed = failure(program, row(name="x"), 0, 5)
    assert failed.kind == mg.MISSING and "no chain" in failed.reason


# ---------------------------------------------------------------- failures


def test_an_unfinished_conversion_converts_nothing_and_says_so() -> None:
    unfinished = attrs.evolve(F1, body=b.record(first=r("name"), last=b.hole()))
    failed = failure(program_with(unfinished), row(name="Ada"), 0, 1)
    assert failed.kind == mg.INCOMPLETE
    assert "unfinished" in failed.reason and "Users_v1's rollforward" in failed.reason


def test_a_conversion_that_errs_is_a_failure_naming_the_error() -> None:
    erring = attrs.evolve(F1, body=b.record(
        first=r("name"), last=b.if_(b.infix(">", b.call("Int::divide_v0", 1, 0), 0), "a", "b")))
    failed = failure(program_with(erring), row(name="Ada"), 0, 1)
    assert failed.kind == mg.ERROR
    assert "Users_v1_rollforward" in failed.reason and "failed" in failed.reason


def test_a_row_that_does_not_fit_the_target_schema_is_a_failure() -> None:
    misfit = attrs.evolve(F1, body=b.record(first=r("name")))
    failed = failure(program_with(misfit), row(name="Ada"), 0, 1)
    assert failed.kind == mg.MISFIT and "does not fit Users_v1" in failed.reason
    wrong_type = attrs.evolve(F1, body=b.record(first=r("name"), last=3))
    assert failure(program_with(wrong_type), row(name="Ada"), 0, 1).kind == mg.MISFIT


def test_a_missing_conversion_function_is_a_failure() -> None:
    program = Program.from_toplevels([V0, V1, B1])
    failed = failure(program, row(name="Ada"), 0, 1)
    assert failed.kind == mg.MISSING and "missing" in failed.reason
    # The other direction still works.
    assert mg.convert(program, "Users", row(first="a", last="b"), 1, 0) == row(name="a b")


def test_a_conversion_that_loops_stops_at_the_run_limits() -> None:
    placeholder = b.function("spin", [("n", INT)], INT, 0)
    # spin calls itself forever, one step deeper each time: the run limits stop it.
    spin = attrs.evolve(placeholder, body=b.infix("+", 1, b.user_call(placeholder, b.var("n"))))
    looping = attrs.evolve(F1, body=b.record(
        first=r("name"), last=b.if_(b.infix(">", b.user_call(spin, 1), 0), "a", "b")))
    program = program_with(looping, spin)
    with pytest.raises(mg.ConversionFailed) as caught:
        mg.convert(program, "Users", row(name="Ada"), 0, 1, Budget(max_steps=10_000))
    assert caught.value.kind == mg.ERROR and "Stopped" in caught.value.reason


def test_a_conversion_cannot_reach_datastores() -> None:
    reading = attrs.evolve(F1, body=b.record(
        first=r("name"),
        last=b.if_(b.infix(">", b.call("DB::count_v0", b.var("Users_v0")), 0), "a", "b")))
    failed = failure(program_with(reading), row(name="Ada"), 0, 1)
    assert "converts one row" in failed.reason


# -------------------------------------------------------------- round trips


def test_round_trips_show_which_rows_a_migration_loses() -> None:
    assert mg.roundtrip(PROGRAM, V1, row(name="Ada")) == row(name="Ada ")
    assert mg.loses_data(PROGRAM, V1, row(name="Ada"))
    # Version 2 loses nothing going forward and back from version 1.
    assert not mg.loses_data(PROGRAM, V2, row(first="Ada", last="L"))


# ------------------------------------------------------ rows from a schema

FIELD = st.sampled_from(["a", "b", "c", "name", "id"])
STORABLE = st.recursive(
    st.sampled_from([INT, STRING, BOOL, FLOAT, NULL, DATE, UUID, CHAR]),
    lambda inner: st.one_of(
        st.builds(TList, inner), st.builds(TDict, inner), st.builds(TOption, inner),
        st.builds(TResult, inner, inner),
        st.dictionaries(FIELD, inner, max_size=3).map(lambda f: rec(**f))),
    max_leaves=8)


@settings(max_examples=60, deadline=None)
@given(STORABLE, st.integers(0, 10_000))
def test_every_generated_row_fits_a_storable_schema(schema: Type, seed: int) -> None:
    """Every row asked for comes out, and fits (`sample_rows` drops a row that would not
    fit, so a generator bug shows as a row missing)."""
    made = mg.sample_rows(schema, PROGRAM, 12, seed)
    assert len(made) == 12
    for value in made:
        assert value_fits(value, schema, PROGRAM, deep=True) is None


@settings(max_examples=40, deadline=None)
@given(types(), st.integers(0, 10_000))
def test_any_schema_gives_only_rows_that_fit(schema: Type, seed: int) -> None:
    for value in mg.sample_rows(schema, PROGRAM, 12, seed):
        assert value_fits(value, schema, PROGRAM, deep=True) is None


def test_generated_rows_cover_edges_and_are_repeatable() -> None:
    schema = rec(name=STRING, n=INT, tags=TList(STRING), maybe=TOption(BOOL))
    first = mg.sample_rows(schema, PROGRAM, 30, seed=3)
    assert first == mg.sample_rows(schema, PROGRAM, 30, seed=3)
    assert len(first) == 30
    assert {v["name"] for v in first} >= {"", "ünïcödé"}
    assert any(v["tags"] == () for v in first) and any(len(v["tags"]) > 0 for v in first)


SCALAR = st.sampled_from([INT, STRING, BOOL])


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(FIELD, SCALAR, min_size=1, max_size=4), st.data())
def test_a_renaming_migration_is_lossless_and_chains_compose(
        fields: dict[str, Type], data: st.DataObject) -> None:
    """v1 renames every field (adding a suffix), v2 renames back: rows survive any path,
    and converting 0 → 2 is converting 0 → 1 then 1 → 2."""
    v0 = b.datastore("T", rec(**fields))
    v1, f1, b1 = b.datastore_version(
        v0, rec(**{k + "_1": t for k, t in fields.items()}),
        b.record(*((k + "_1", r(k)) for k in fields)),
        b.record(*((k, r(k + "_1")) for k in fields)))
    v2, f2, b2 = b.datastore_version(
        v1, rec(**fields),
        b.record(*((k, r(k + "_1")) for k in fields)),
        b.record(*((k + "_1", r(k)) for k in fields)))
    program = Program.from_toplevels([v0, v1, f1, b1, v2, f2, b2])
    for value in mg.sample_rows(v0.schema, program, 8, data.draw(st.integers(0, 99))):
        one = mg.convert(program, "T", value, 0, 1)
        assert mg.convert(program, "T", value, 0, 2) == mg.convert(program, "T", one, 1, 2)
        assert mg.convert(program, "T", value, 0, 2) == value
        assert not mg.loses_data(program, v1, value)
        source, target = data.draw(st.sampled_from([(0, 1), (1, 2), (0, 2), (2, 0), (1, 0)]))
        start = mg.convert(program, "T", value, 0, source)
        landed = mg.convert(program, "T", start, source, target)
        assert value_fits(landed, program.datastore("T", target).schema, program,  # type: ignore[union-attr]
                          deep=True) is None


# ----------------------------------------------------------------- checker

def marks(tl: Datastore, program: Program) -> list[str]:
    return [m.kind for info in check_toplevel(tl, program).values() for m in info.marks]


def test_the_checker_marks_conversions_whose_types_disagree_with_the_schemas() -> None:
    assert marks(V1, PROGRAM) == []
    changed = attrs.evolve(V1, schema=rec(first=STRING))
    found = [m for info in check_toplevel(changed, program_with(changed)).values()
             for m in info.marks]
    assert [m.kind for m in found] == [MIGRATION_MISMATCH, MIGRATION_MISMATCH]
    assert "rollforward" in found[0].message and "rollback" in found[1].message
    assert marks(V1, Program.from_toplevels([V0, V1, B1])) == ["unknown_function"]


# ----------------------------------------------------------- wire and apply

def test_the_wire_carries_migrations_and_reads_datastores_from_before_them() -> None:
    assert wire.decode_toplevel(wire.encode_toplevel(V2)) == V2
    plain = wire.encode_toplevel(V0)
    assert "migration" not in plain
    assert wire.decode_toplevel(plain) == V0
    assert wire.encode_toplevel(V1)["migration"] == {
        "from_version": 0, "table": 0,
        "rollforward": {"fn_id": F1.fn_id, "version": 0},
        "rollback": {"fn_id": B1.fn_id, "version": 0}}


def test_apply_refuses_a_malformed_migration() -> None:
    assert isinstance(F1, UserFunction)
    for bad in (Migration(1, 0, V1.migration.rollforward, V1.migration.rollback),  # type: ignore[union-attr]
                Migration(0, 1, V1.migration.rollforward, V1.migration.rollback)):  # type: ignore[union-attr]
        with pytest.raises(OpError, match=r"migrates from|keeps its rows"):
            apply(CreateToplevel(attrs.evolve(V1, migration=bad)), None)
    assert apply(CreateToplevel(V1), None) == V1


@pytest.mark.parametrize("version", [-1, -7, 2**63, 10**30])
def test_apply_refuses_a_datastore_version_no_row_could_keep(version: int) -> None:
    # Rows keep their version in a 64-bit column: a bigger one made every write fail with
    # an OverflowError, and a negative one hid its rows from the migration preview (which
    # reads "every row not at version -1").
    for ds in (attrs.evolve(V0, version=version),
               attrs.evolve(V1, version=version) if version > 0 else None):
        if ds is None:
            continue
        with pytest.raises(OpError, match="version is a whole number from 0 to"):
            apply(CreateToplevel(ds), None)
    assert apply(CreateToplevel(attrs.evolve(V1, version=2**63 - 1)), None) is not None


def test_a_version_made_from_another_keeps_its_name() -> None:
    from shared_ast.ops import SetName

    with pytest.raises(OpError, match="keeps its name"):
        apply(SetName(V1.tlid, V1.tlid, "Users", "People"), V1)
    # A first version may still be renamed (the runtime refuses it while code or rows use it).
    renamed = apply(SetName(V0.tlid, V0.tlid, "Users", "People"), V0)
    assert isinstance(renamed, Datastore) and renamed.name == "People"


def test_the_checker_marks_a_version_that_would_not_share_its_sources_rows() -> None:
    m = V2.migration
    assert m is not None
    alone = b.datastore("Users", rec(first=STRING, last=STRING), version=1)
    elsewhere = attrs.evolve(V2, migration=attrs.evolve(m, table=1))
    program = Program.from_toplevels([V0, alone, elsewhere, F2, B2])
    assert marks(elsewhere, program) == []  # alone keeps its rows with v1: so does v2
    stray = attrs.evolve(V2, migration=attrs.evolve(m, table=0))
    found = [mk for info in check_toplevel(stray, Program.from_toplevels(
        [V0, alone, stray, F2, B2])).values() for mk in info.marks]
    assert [mk.kind for mk in found] == [MIGRATION_MISMATCH]
    assert "would not share rows" in found[0].message
