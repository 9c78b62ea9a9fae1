"""List library functions: empty lists, lambdas, typed equality, sorting, limits."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_ast.stdlib import Escape, LibError
from shared_ast.stdlib.list_fns import MAX_BUILT_LENGTH
from shared_ast.values import NOTHING, Char, FrozenDict, Incomplete, error, just, ok
from tests.stdlib_ctx import PyCtx, call

small = st.integers(-100, 100)
int_lists = st.lists(small, max_size=20).map(tuple)


def is_even(x: int) -> bool:
    return x % 2 == 0


# ---------------------------------------------------------------- building


def test_building() -> None:
    assert call("List::empty_v0") == ()
    assert call("List::singleton_v0", 1) == (1,)
    assert call("List::push_v0", (2, 3), 1) == (1, 2, 3)
    assert call("List::pushBack_v0", (1, 2), 3) == (1, 2, 3)
    assert call("List::push_v0", (), 1) == (1,)
    assert call("List::append_v0", (1,), (2, 3)) == (1, 2, 3)
    assert call("List::append_v0", (), ()) == ()


def test_results_are_tuples() -> None:
    assert isinstance(call("List::map_v0", (1, 2), lambda x: x), tuple)
    assert isinstance(call("List::filter_v2", (1, 2), lambda x: True), tuple)
    assert isinstance(call("List::sort_v0", (2, 1)), tuple)
    assert isinstance(call("List::range_v0", 1, 3), tuple)
    assert all(isinstance(p, tuple) for p in call("List::zipShortest_v0", (1,), (2,)))


def test_range() -> None:
    assert call("List::range_v0", 1, 4) == (1, 2, 3, 4)
    assert call("List::range_v0", -2, 0) == (-2, -1, 0)
    assert call("List::range_v0", 3, 3) == (3,)
    assert call("List::range_v0", 4, 1) == ()
    assert len(call("List::range_v0", 1, MAX_BUILT_LENGTH)) == MAX_BUILT_LENGTH
    with pytest.raises(LibError, match="over this run's limit of 1,000,000"):
        call("List::range_v0", 0, MAX_BUILT_LENGTH)
    with pytest.raises(LibError, match="over this run's limit"):
        call("List::range_v0", -(2**63), 2**63 - 1)


def test_repeat() -> None:
    assert call("List::repeat_v0", 3, "x") == ("x", "x", "x")
    assert call("List::repeat_v0", 0, "x") == ()
    with pytest.raises(LibError, match="positive"):
        call("List::repeat_v0", -1, "x")
    with pytest.raises(LibError, match="over this run's limit"):
        call("List::repeat_v0", 2**62, "x")


def test_flatten_interpose_interleave() -> None:
    assert call("List::flatten_v0", ((1, 2), (), (3,))) == (1, 2, 3)
    assert call("List::flatten_v0", ()) == ()
    with pytest.raises(LibError, match=r"element 1 .*Int"):
        call("List::flatten_v0", ((1,), 2))
    assert call("List::interpose_v0", (1, 2, 3), 0) == (1, 0, 2, 0, 3)
    assert call("List::interpose_v0", (1,), 0) == (1,)
    assert call("List::interpose_v0", (), 0) == ()
    assert call("List::interleave_v0", (1, 3, 5, 7), (2, 4)) == (1, 2, 3, 4, 5, 7)
    assert call("List::interleave_v0", (1,), (2, 4, 6)) == (1, 2, 4, 6)
    assert call("List::interleave_v0", (), ()) == ()


# ---------------------------------------------------------------- access


def test_head_versions() -> None:
    assert call("List::head_v0", (1, 2)) == 1
    assert call("List::head_v0", ()) is None
    assert call("List::head_v1", (1, 2)) == just(1)
    assert call("List::head_v1", ()) == NOTHING
    assert call("List::head_v1", (None,)) == just(None)


def test_tail_last_get_at() -> None:
    assert call("List::tail_v0", (1, 2, 3)) == just((2, 3))
    assert call("List::tail_v0", (1,)) == just(())
    assert call("List::tail_v0", ()) == NOTHING
    assert call("List::last_v2", (1, 2, 3)) == just(3)
    assert call("List::last_v2", ()) == NOTHING
    assert call("List::getAt_v1", (1, 2, 3), 0) == just(1)
    assert call("List::getAt_v1", (1, 2, 3), 2) == just(3)
    assert call("List::getAt_v1", (1, 2, 3), 3) == NOTHING
    assert call("List::getAt_v1", (1, 2, 3), -1) == NOTHING
    assert call("List::getAt_v1", (), 0) == NOTHING


def test_length_and_is_empty() -> None:
    assert call("List::length_v0", ()) == 0
    assert call("List::length_v0", (1, (2, 3))) == 2
    assert call("List::isEmpty_v0", ()) is True
    assert call("List::isEmpty_v0", (None,)) is False


def test_member_uses_typed_equality() -> None:
    for fn in ("List::member_v0", "List::contains_v0"):
        assert call(fn, (1, 2), 2) is True
        assert call(fn, (1, 2), 2.0) is False
        assert call(fn, (1, 0), True) is False
        assert call(fn, (True,), 1) is False
        assert call(fn, (), 1) is False
        assert call(fn, ((1, 2),), (1, 2)) is True
        assert call(fn, (FrozenDict(a=1),), FrozenDict(a=1)) is True
        assert call(fn, (math.nan,), math.nan) is True
        assert call(fn, (just(1),), just(1.0)) is False


def test_random_element() -> None:
    assert call("List::randomElement_v0", ()) == NOTHING
    seen = {call("List::randomElement_v0", (1, 2, 3)).args[0] for _ in range(200)}
    assert seen == {1, 2, 3}


# ---------------------------------------------------------------- slicing


def test_take_and_drop() -> None:
    xs = (1, 2, 3)
    assert call("List::take_v0", xs, 2) == (1, 2)
    assert call("List::take_v0", xs, 10) == xs
    assert call("List::take_v0", xs, 0) == ()
    assert call("List::take_v0", xs, -1) == ()
    assert call("List::drop_v0", xs, 2) == (3,)
    assert call("List::drop_v0", xs, 10) == ()
    assert call("List::drop_v0", xs, -1) == xs
    assert call("List::take_v0", (), 3) == ()


@given(int_lists, st.integers(-5, 25))
def test_take_plus_drop_is_whole(xs: tuple[int, ...], n: int) -> None:
    assert call("List::take_v0", xs, n) + call("List::drop_v0", xs, n) == xs


@given(int_lists)
def test_reverse_twice_is_identity(xs: tuple[int, ...]) -> None:
    once = call("List::reverse_v0", xs)
    assert once == tuple(reversed(xs))
    assert call("List::reverse_v0", once) == xs


def test_take_while_and_drop_while() -> None:
    xs = (2, 4, 5, 6)
    assert call("List::takeWhile_v0", xs, is_even) == (2, 4)
    assert call("List::dropWhile_v0", xs, is_even) == (5, 6)
    assert call("List::takeWhile_v0", (2, 4), is_even) == (2, 4)
    assert call("List::dropWhile_v0", (2, 4), is_even) == ()
    assert call("List::takeWhile_v0", (), is_even) == ()
    with pytest.raises(LibError, match="takeWhile_v0 to return a Bool"):
        call("List::takeWhile_v0", (1,), lambda x: x)


# ---------------------------------------------------------------- sorting


def test_sort() -> None:
    assert call("List::sort_v0", ()) == ()
    assert call("List::sort_v0", (3, -1, 2)) == (-1, 2, 3)
    assert call("List::sort_v0", ("b", "a", "B")) == ("B", "a", "b")
    assert call("List::sort_v0", (Char("b"), Char("a"))) == (Char("a"), Char("b"))
    r = call("List::sort_v0", (2.0, math.nan, -math.inf, 1.0))
    assert r[:3] == (-math.inf, 1.0, 2.0) and math.isnan(r[3])


@pytest.mark.parametrize("bad", [(1, 2.0), (1, "a"), (True, False), (None,), ((1,), (2,))])
def test_sort_refuses_mixed_or_unsortable(bad: tuple[Any, ...]) -> None:
    with pytest.raises(LibError, match="Cannot sort"):
        call("List::sort_v0", bad)


@given(int_lists)
def test_sort_is_ordered_and_a_permutation(xs: tuple[int, ...]) -> None:
    out = call("List::sort_v0", xs)
    assert all(a <= b for a, b in itertools.pairwise(out))
    assert sorted(out) == sorted(xs)


@given(st.lists(st.floats(allow_nan=False), max_size=20).map(tuple))
def test_sort_floats_is_ordered(xs: tuple[float, ...]) -> None:
    out = call("List::sort_v0", xs)
    assert all(a <= b for a, b in itertools.pairwise(out))
    assert len(out) == len(xs)


def test_sort_by() -> None:
    words = ("ccc", "a", "bb", "dd")
    assert call("List::sortBy_v0", words, len) == ("a", "bb", "dd", "ccc")  # stable
    assert call("List::sortBy_v0", (), len) == ()
    with pytest.raises(LibError, match="mixes"):
        call("List::sortBy_v0", (1, 2), lambda x: x if x == 1 else str(x))


def test_sort_by_calls_key_once_per_element() -> None:
    ctx = PyCtx()
    call("List::sortBy_v0", tuple(range(50, 0, -1)), lambda x: x, ctx=ctx)
    assert ctx.calls == 50


def test_sort_by_comparator() -> None:
    def desc(a: int, b: int) -> int:
        return -1 if a > b else (1 if a < b else 0)

    assert call("List::sortByComparator_v0", (1, 3, 2), desc) == ok((3, 2, 1))
    assert call("List::sortByComparator_v0", (), desc) == ok(())
    r = call("List::sortByComparator_v0", (1, 2), lambda a, b: 5)
    assert r.name == "Error" and "-1, 0 or 1" in r.args[0]
    with pytest.raises(LibError, match="return an Int"):
        call("List::sortByComparator_v0", (1, 2), lambda a, b: "less")


@given(int_lists)
def test_sort_by_comparator_agrees_with_sort(xs: tuple[int, ...]) -> None:
    def cmp(a: int, b: int) -> int:
        return (a > b) - (a < b)

    assert call("List::sortByComparator_v0", xs, cmp) == ok(call("List::sort_v0", xs))


# ---------------------------------------------------------------- lambdas


def test_map_family() -> None:
    assert call("List::map_v0", (1, 2, 3), lambda x: x * 10) == (10, 20, 30)
    assert call("List::map_v0", (), lambda x: 1 / 0) == ()
    assert call("List::indexedMap_v0", ("a", "b"), lambda i, x: f"{i}{x}") == ("0a", "1b")
    add = lambda a, b: a + b  # noqa: E731
    assert call("List::map2_v0", (1, 2), (10, 20), add) == just((11, 22))
    assert call("List::map2_v0", (1, 2), (10,), add) == NOTHING
    assert call("List::map2_v0", (), (), add) == just(())
    assert call("List::map2shortest_v0", (1, 2), (10,), add) == (11,)
    assert call("List::map2shortest_v0", (), (10,), add) == ()


def test_lambdas_run_in_order() -> None:
    seen: list[int] = []
    call("List::map_v0", (1, 2, 3), seen.append)
    assert seen == [1, 2, 3]


def test_escape_from_a_lambda_propagates() -> None:
    class EscapingCtx(PyCtx):
        def apply(self, fn: Any, args: tuple[Any, ...]) -> Any:
            raise Escape(Incomplete())

    with pytest.raises(Escape):
        call("List::map_v0", (1,), lambda x: x, ctx=EscapingCtx())
    with pytest.raises(Escape):
        call("List::sortByComparator_v0", (1, 2), lambda a, b: 0, ctx=EscapingCtx())


def test_fold() -> None:
    assert call("List::fold_v0", (1, 2, 3), 0, lambda acc, x: acc + x) == 6
    assert call("List::fold_v0", (), "init", lambda acc, x: 1 / 0) == "init"
    assert call("List::fold_v0", ("a", "b"), "", lambda acc, x: acc + x) == "ab"


def test_filter_requires_bool() -> None:
    assert call("List::filter_v2", (1, 2, 3, 4), is_even) == (2, 4)
    assert call("List::filter_v2", (), is_even) == ()
    with pytest.raises(LibError, match=r"filter_v2 to return a Bool, but it returned 1 \(an Int\)"):
        call("List::filter_v2", (1,), lambda x: x)


def test_filter_map() -> None:
    half = lambda x: just(x // 2) if x % 2 == 0 else NOTHING  # noqa: E731
    assert call("List::filterMap_v0", (1, 2, 3, 4), half) == (1, 2)
    assert call("List::filterMap_v0", (), half) == ()
    with pytest.raises(LibError, match="Option"):
        call("List::filterMap_v0", (1,), lambda x: x)
    with pytest.raises(LibError, match="Option"):
        call("List::filterMap_v0", (1,), ok)


def test_find_first_all_partition() -> None:
    assert call("List::findFirst_v2", (1, 3, 4, 6), is_even) == just(4)
    assert call("List::findFirst_v2", (1, 3), is_even) == NOTHING
    assert call("List::findFirst_v2", (), is_even) == NOTHING
    assert call("List::all_v0", (2, 4), is_even) is True
    assert call("List::all_v0", (2, 3), is_even) is False
    assert call("List::all_v0", (), is_even) is True
    assert call("List::partition_v0", (1, 2, 3, 4), is_even) == ((2, 4), (1, 3))
    assert call("List::partition_v0", (), is_even) == ((), ())
    with pytest.raises(LibError, match="Bool"):
        call("List::all_v0", (1,), lambda x: None)


def test_unique_by() -> None:
    assert call("List::uniqueBy_v0", (1, 2, 3, 4), lambda x: x % 2) == (1, 2)
    assert call("List::uniqueBy_v0", (), lambda x: x) == ()
    # Typed equality: 1, 1.0 and true are three different keys.
    assert call("List::uniqueBy_v0", (1, 1.0, True, 1), lambda x: x) == (1, 1.0, True)
    assert call("List::uniqueBy_v0", ((1, 2), (1, 2), (2,)), lambda x: x) == ((1, 2), (2,))
    nan_keys = call("List::uniqueBy_v0", (1, 2), lambda x: math.nan)
    assert nan_keys == (1,)
    fn_keys = call("List::uniqueBy_v0", (1, 2, 3), lambda x: object() if x < 3 else None)
    assert len(fn_keys) == 3


@given(st.lists(st.one_of(small, st.booleans(), st.floats(allow_nan=False), st.text(max_size=2)),
                max_size=15).map(tuple))
def test_unique_by_identity_has_no_equal_pair(xs: tuple[Any, ...]) -> None:
    from shared_ast.values import values_equal

    out = call("List::uniqueBy_v0", xs, lambda x: x)
    for i, a in enumerate(out):
        assert not any(values_equal(a, b) for b in out[i + 1 :])
    assert all(any(values_equal(x, y) for y in out) for x in xs)


# ---------------------------------------------------------------- pairs


def test_zip_and_unzip() -> None:
    assert call("List::zip_v0", (1, 2), ("a", "b")) == just(((1, "a"), (2, "b")))
    assert call("List::zip_v0", (1, 2), ("a",)) == NOTHING
    assert call("List::zip_v0", (), ()) == just(())
    assert call("List::zipShortest_v0", (1, 2), ("a",)) == ((1, "a"),)
    assert call("List::unzip_v0", ((1, "a"), (2, "b"))) == ((1, 2), ("a", "b"))
    assert call("List::unzip_v0", ()) == ((), ())
    with pytest.raises(LibError, match="2-element"):
        call("List::unzip_v0", ((1, 2, 3),))
    with pytest.raises(LibError, match="2-element"):
        call("List::unzip_v0", (error("x"),))


@given(int_lists, int_lists)
def test_unzip_undoes_zip_shortest(xs: tuple[int, ...], ys: tuple[int, ...]) -> None:
    n = min(len(xs), len(ys))
    assert call("List::unzip_v0", call("List::zipShortest_v0", xs, ys)) == (xs[:n], ys[:n])
