"""Option and Result library functions."""

from __future__ import annotations

import pytest

from shared_ast.stdlib import LibError
from shared_ast.values import NOTHING, Variant, error, just, ok
from tests.stdlib_ctx import call


def boom(*args: object) -> object:
    raise AssertionError("the function must not be called")


def test_option_map() -> None:
    assert call("Option::map_v1", just(2), lambda x: x + 1) == just(3)
    assert call("Option::map_v1", NOTHING, boom) == NOTHING
    assert call("Option::map_v1", just(2), lambda x: None) == just(None)


def test_option_and_then() -> None:
    half = lambda x: just(x // 2) if x % 2 == 0 else NOTHING  # noqa: E731
    assert call("Option::andThen_v0", just(4), half) == just(2)
    assert call("Option::andThen_v0", just(3), half) == NOTHING
    assert call("Option::andThen_v0", NOTHING, boom) == NOTHING
    with pytest.raises(LibError, match=r"andThen_v0 to return an Option.*Int"):
        call("Option::andThen_v0", just(4), lambda x: x)


def test_option_map2() -> None:
    add = lambda a, b: a + b  # noqa: E731
    assert call("Option::map2_v0", just(1), just(2), add) == just(3)
    assert call("Option::map2_v0", NOTHING, just(2), boom) == NOTHING
    assert call("Option::map2_v0", just(1), NOTHING, boom) == NOTHING


def test_option_with_default() -> None:
    assert call("Option::withDefault_v0", just(1), 0) == 1
    assert call("Option::withDefault_v0", NOTHING, 0) == 0


def test_option_functions_refuse_non_options() -> None:
    with pytest.raises(LibError, match="Option"):
        call("Option::withDefault_v0", ok(1), 0)
    with pytest.raises(LibError, match="Option"):
        call("Option::map_v1", Variant("Just", (1,), type_name="Mine_v0"), boom)


def test_result_map_and_map_error() -> None:
    assert call("Result::map_v1", ok(2), lambda x: x * 2) == ok(4)
    assert call("Result::map_v1", error("e"), boom) == error("e")
    assert call("Result::mapError_v1", error("e"), lambda e: e + "!") == error("e!")
    assert call("Result::mapError_v1", ok(1), boom) == ok(1)


def test_result_and_then() -> None:
    check = lambda x: ok(x) if x > 0 else error("not positive")  # noqa: E731
    assert call("Result::andThen_v1", ok(1), check) == ok(1)
    assert call("Result::andThen_v1", ok(-1), check) == error("not positive")
    assert call("Result::andThen_v1", error("first"), boom) == error("first")
    with pytest.raises(LibError, match=r"andThen_v1 to return a Result.*Option"):
        call("Result::andThen_v1", ok(1), just)


def test_result_map2_first_error_wins() -> None:
    add = lambda a, b: a + b  # noqa: E731
    assert call("Result::map2_v0", ok(1), ok(2), add) == ok(3)
    assert call("Result::map2_v0", error("a"), error("b"), boom) == error("a")
    assert call("Result::map2_v0", ok(1), error("b"), boom) == error("b")


def test_result_conversions() -> None:
    assert call("Result::withDefault_v0", ok(1), 0) == 1
    assert call("Result::withDefault_v0", error("e"), 0) == 0
    assert call("Result::toOption_v1", ok(1)) == just(1)
    assert call("Result::toOption_v1", error("e")) == NOTHING
    assert call("Result::fromOption_v2", just(1), "missing") == ok(1)
    assert call("Result::fromOption_v2", NOTHING, "missing") == error("missing")
    with pytest.raises(LibError, match="Option"):
        call("Result::fromOption_v2", ok(1), "missing")
    with pytest.raises(LibError, match="Result"):
        call("Result::toOption_v1", just(1))
