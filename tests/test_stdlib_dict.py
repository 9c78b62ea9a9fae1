"""Dict library functions: order, versions of get, entries as 2-element lists, lambdas."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_ast.stdlib import LibError
from shared_ast.values import NOTHING, FrozenDict, just
from tests.stdlib_ctx import call

D = FrozenDict({"b": 2, "a": 1, "c": 3})

dicts = st.dictionaries(st.text(max_size=3), st.integers(-9, 9), max_size=8).map(FrozenDict)


def test_building() -> None:
    assert call("Dict::empty_v0") == FrozenDict()
    assert call("Dict::singleton_v0", "k", 1) == FrozenDict(k=1)
    assert call("Dict::set_v0", FrozenDict(), "k", 1) == FrozenDict(k=1)
    updated = call("Dict::set_v0", D, "a", 10)
    assert updated["a"] == 10 and list(updated) == ["b", "a", "c"]  # keeps its position
    assert D["a"] == 1  # the original is unchanged
    assert call("Dict::remove_v0", D, "a") == FrozenDict(b=2, c=3)
    assert call("Dict::remove_v0", D, "zzz") == D


def test_merge_right_wins() -> None:
    left = FrozenDict(a=1, b=2)
    right = FrozenDict(b=20, c=30)
    merged = call("Dict::merge_v0", left, right)
    assert merged == FrozenDict(a=1, b=20, c=30)
    assert list(merged) == ["a", "b", "c"]
    assert call("Dict::merge_v0", FrozenDict(), FrozenDict()) == FrozenDict()


def test_get_versions() -> None:
    assert call("Dict::get_v0", D, "a") == 1
    assert call("Dict::get_v0", D, "x") is None
    for v in (1, 2):
        assert call(f"Dict::get_v{v}", D, "a") == just(1)
        assert call(f"Dict::get_v{v}", D, "x") == NOTHING
        assert call(f"Dict::get_v{v}", FrozenDict(n=None), "n") == just(None)


def test_reading() -> None:
    assert call("Dict::member_v0", D, "a") is True
    assert call("Dict::member_v0", D, "x") is False
    assert call("Dict::size_v0", D) == 3
    assert call("Dict::size_v0", FrozenDict()) == 0
    assert call("Dict::isEmpty_v0", FrozenDict()) is True
    assert call("Dict::isEmpty_v0", D) is False
    assert call("Dict::keys_v0", D) == ("b", "a", "c")
    assert call("Dict::values_v0", D) == (2, 1, 3)
    assert call("Dict::toList_v0", D) == (("b", 2), ("a", 1), ("c", 3))
    assert call("Dict::keys_v0", FrozenDict()) == ()


def test_from_list() -> None:
    entries = (("a", 1), ("b", 2))
    assert call("Dict::fromList_v0", entries) == just(FrozenDict(a=1, b=2))
    assert call("Dict::fromList_v0", ()) == just(FrozenDict())
    assert call("Dict::fromList_v0", (("a", 1), ("a", 2))) == NOTHING
    assert call("Dict::fromListOverwritingDuplicates_v0", (("a", 1), ("a", 2))) == FrozenDict(a=2)
    for fn in ("Dict::fromList_v0", "Dict::fromListOverwritingDuplicates_v0"):
        with pytest.raises(LibError, match="2-element"):
            call(fn, (("a", 1, 2),))
        with pytest.raises(LibError, match="2-element"):
            call(fn, ("a",))
        with pytest.raises(LibError, match=r"key of element 0 .*Int"):
            call(fn, ((1, "a"),))


@given(dicts)
def test_to_list_from_list_round_trips(d: FrozenDict) -> None:
    assert call("Dict::fromList_v0", call("Dict::toList_v0", d)) == just(d)
    assert call("Dict::size_v0", d) == len(call("Dict::keys_v0", d))


def test_map() -> None:
    assert call("Dict::map_v0", D, lambda k, v: f"{k}{v}") == FrozenDict(b="b2", a="a1", c="c3")
    assert call("Dict::map_v0", FrozenDict(), lambda k, v: 1 / 0) == FrozenDict()


def test_filter() -> None:
    assert call("Dict::filter_v1", D, lambda k, v: v > 1) == FrozenDict(b=2, c=3)
    assert call("Dict::filter_v1", D, lambda k, v: k == "a") == FrozenDict(a=1)
    with pytest.raises(LibError, match=r"Dict::filter_v1 to return a Bool.*String"):
        call("Dict::filter_v1", D, lambda k, v: k)


def test_filter_map() -> None:
    fn = lambda k, v: just(v * 10) if v != 1 else NOTHING  # noqa: E731
    assert call("Dict::filterMap_v0", D, fn) == FrozenDict(b=20, c=30)
    with pytest.raises(LibError, match="Option"):
        call("Dict::filterMap_v0", D, lambda k, v: v)
