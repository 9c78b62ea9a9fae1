"""Bool, Int and Float library functions: edge cases and a few properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_ast.stdlib import Escape, LibError
from shared_ast.stdlib.registry import INT_MAX, INT_MIN
from shared_ast.values import ErrorRail, ErrorValue, Incomplete, error, ok
from tests.stdlib_ctx import call

ints64 = st.integers(min_value=INT_MIN, max_value=INT_MAX)
finite = st.floats(allow_nan=False, allow_infinity=False)

# ---------------------------------------------------------------- Bool


@pytest.mark.parametrize("a", [True, False])
@pytest.mark.parametrize("b", [True, False])
def test_bool_ops(a: bool, b: bool) -> None:
    assert call("Bool::and_v0", a, b) is (a and b)
    assert call("Bool::or_v0", a, b) is (a or b)
    assert call("Bool::xor_v0", a, b) is (a != b)
    assert call("Bool::not_v0", a) is (not a)


def test_is_error() -> None:
    assert call("Bool::isError_v0", ErrorValue("boom")) is True
    for v in (0, False, None, "error", error("e"), ()):
        assert call("Bool::isError_v0", v) is False


def test_is_error_keeps_incomplete_and_rail_special() -> None:
    for special in (Incomplete(), ErrorRail(error("e"))):
        with pytest.raises(Escape) as e:
            call("Bool::isError_v0", special)
        assert e.value.value is special


# ---------------------------------------------------------------- Int arithmetic


@given(ints64, ints64)
def test_int_add_matches_python_within_range(a: int, b: int) -> None:
    if INT_MIN <= a + b <= INT_MAX:
        assert call("Int::add_v0", a, b) == a + b
    else:
        with pytest.raises(LibError, match="overflow"):
            call("Int::add_v0", a, b)


@given(ints64, ints64)
def test_int_subtract_and_multiply_match_python_within_range(a: int, b: int) -> None:
    for name, expect in (("subtract", a - b), ("multiply", a * b)):
        if INT_MIN <= expect <= INT_MAX:
            assert call(f"Int::{name}_v0", a, b) == expect
        else:
            with pytest.raises(LibError):
                call(f"Int::{name}_v0", a, b)


def test_int_overflow_edges() -> None:
    assert call("Int::add_v0", INT_MAX, 0) == INT_MAX
    with pytest.raises(LibError, match="64 bits"):
        call("Int::add_v0", INT_MAX, 1)
    with pytest.raises(LibError):
        call("Int::subtract_v0", INT_MIN, 1)
    with pytest.raises(LibError):
        call("Int::negate_v0", INT_MIN)
    with pytest.raises(LibError):
        call("Int::absoluteValue_v0", INT_MIN)
    with pytest.raises(LibError):
        call("Int::divide_v0", INT_MIN, -1)
    assert call("Int::negate_v0", -5) == 5
    assert call("Int::absoluteValue_v0", -5) == 5


def test_int_divide_floors_and_refuses_zero() -> None:
    assert call("Int::divide_v0", 7, 2) == 3
    assert call("Int::divide_v0", -7, 2) == -4
    assert call("Int::divide_v0", 7, -2) == -4
    assert call("Int::divide_v0", -7, -2) == 3
    with pytest.raises(LibError, match="Division by zero"):
        call("Int::divide_v0", 1, 0)


def test_int_mod() -> None:
    assert call("Int::mod_v0", 7, 3) == 1
    assert call("Int::mod_v0", -5, 3) == 1
    assert call("Int::mod_v0", -6, 3) == 0
    with pytest.raises(LibError, match="zero"):
        call("Int::mod_v0", 5, 0)
    with pytest.raises(LibError, match="positive"):
        call("Int::mod_v0", 5, -3)


@given(ints64, st.integers(min_value=1, max_value=INT_MAX))
def test_int_mod_is_in_range(a: int, b: int) -> None:
    r = call("Int::mod_v0", a, b)
    assert 0 <= r < b
    assert (a - r) % b == 0


def test_int_remainder() -> None:
    assert call("Int::remainder_v0", 15, 6) == ok(3)
    assert call("Int::remainder_v0", -15, 6) == ok(-3)
    assert call("Int::remainder_v0", 15, -6) == ok(3)
    assert call("Int::remainder_v0", -15, -6) == ok(-3)
    assert call("Int::remainder_v0", INT_MIN, -1) == ok(0)
    r = call("Int::remainder_v0", 1, 0)
    assert r.name == "Error" and "zero" in r.args[0]


def test_int_power() -> None:
    assert call("Int::power_v0", 2, 10) == 1024
    assert call("Int::power_v0", -2, 3) == -8
    assert call("Int::power_v0", 0, 0) == 1
    assert call("Int::power_v0", 0, 5) == 0
    assert call("Int::power_v0", -1, 10**18 + 1) == -1
    assert call("Int::power_v0", 1, INT_MAX) == 1
    assert call("Int::power_v0", -2, 63) == INT_MIN
    assert call("Int::power_v0", 2, 62) == 2**62
    with pytest.raises(LibError, match="overflow"):
        call("Int::power_v0", 2, 63)
    with pytest.raises(LibError, match="exponent"):
        call("Int::power_v0", 2, -1)


def test_int_power_refuses_huge_results_without_computing_them() -> None:
    # 2 ^ 10^9 would take minutes and a gigabyte; the check happens first.
    with pytest.raises(LibError, match="overflow"):
        call("Int::power_v0", 2, 10**9)
    with pytest.raises(LibError, match="overflow"):
        call("Int::power_v0", INT_MAX, INT_MAX)


@given(st.integers(-50, 50), st.integers(0, 70))
def test_int_power_matches_python(base: int, exponent: int) -> None:
    expect = base**exponent
    if INT_MIN <= expect <= INT_MAX:
        assert call("Int::power_v0", base, exponent) == expect
    else:
        with pytest.raises(LibError):
            call("Int::power_v0", base, exponent)


def test_int_sqrt_and_to_float() -> None:
    assert call("Int::sqrt_v0", 16) == 4.0
    assert isinstance(call("Int::sqrt_v0", 2), float)
    assert math.isnan(call("Int::sqrt_v0", -4))
    assert call("Int::toFloat_v0", -3) == -3.0
    assert isinstance(call("Int::toFloat_v0", 3), float)


def test_int_sum() -> None:
    assert call("Int::sum_v0", ()) == 0
    assert call("Int::sum_v0", (1, -2, 3)) == 2
    assert call("Int::sum_v0", (INT_MAX, 1, -1)) == INT_MAX  # intermediate overflow is fine
    with pytest.raises(LibError, match="64 bits"):
        call("Int::sum_v0", (INT_MAX, 1))
    with pytest.raises(LibError, match=r"element 1 .*Float"):
        call("Int::sum_v0", (1, 2.0))
    with pytest.raises(LibError, match="Bool"):
        call("Int::sum_v0", (True,))


def test_int_comparisons() -> None:
    assert call("Int::greaterThan_v0", 2, 1) is True
    assert call("Int::greaterThan_v0", 1, 1) is False
    assert call("Int::greaterThanOrEqualTo_v0", 1, 1) is True
    assert call("Int::lessThan_v0", -2, -1) is True
    assert call("Int::lessThanOrEqualTo_v0", 2, 1) is False
    assert call("Int::max_v0", -3, 2) == 2
    assert call("Int::min_v0", -3, 2) == -3


def test_int_clamp() -> None:
    assert call("Int::clamp_v0", 5, 0, 10) == 5
    assert call("Int::clamp_v0", -5, 0, 10) == 0
    assert call("Int::clamp_v0", 15, 0, 10) == 10
    assert call("Int::clamp_v0", 15, 10, 0) == 10  # limits in either order
    assert call("Int::clamp_v0", 3, 7, 7) == 7


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("0", 0), ("42", 42), ("-42", -42), ("+7", 7), ("007", 7),
        (str(INT_MAX), INT_MAX), (str(INT_MIN), INT_MIN), ("-0", 0),
    ],
)
def test_int_parse_ok(text: str, expect: int) -> None:
    assert call("Int::parse_v0", text) == ok(expect)
    assert call("String::toInt_v1", text) == ok(expect)


@pytest.mark.parametrize(
    "text",
    ["", " 1", "1 ", "1.0", "1e3", "one", "--1", "1_000", "٣", str(INT_MAX + 1),
     str(INT_MIN - 1), "9" * 5000, "0x10", "+", "-"],
)
def test_int_parse_error(text: str) -> None:
    r = call("Int::parse_v0", text)
    assert r.name == "Error" and isinstance(r.args[0], str) and r.args[0]


@given(ints64)
def test_int_parse_round_trips(n: int) -> None:
    assert call("Int::parse_v0", str(n)) == ok(n)


def test_int_random_is_inclusive_and_in_range() -> None:
    seen = {call("Int::random_v1", 1, 3) for _ in range(200)}
    assert seen == {1, 2, 3}
    assert call("Int::random_v1", 5, 5) == 5
    assert -3 <= call("Int::random_v1", 3, -3) <= 3  # limits in either order
    assert INT_MIN <= call("Int::random_v1", INT_MIN, INT_MAX) <= INT_MAX


# ---------------------------------------------------------------- Float


def test_float_divide_is_ieee() -> None:
    assert call("Float::divide_v0", 1.0, 4.0) == 0.25
    assert call("Float::divide_v0", 1.0, 0.0) == math.inf
    assert call("Float::divide_v0", -1.0, 0.0) == -math.inf
    assert call("Float::divide_v0", 1.0, -0.0) == -math.inf
    assert call("Float::divide_v0", -1.0, -0.0) == math.inf
    assert math.isnan(call("Float::divide_v0", 0.0, 0.0))
    assert math.isnan(call("Float::divide_v0", math.nan, 0.0))
    assert call("Float::divide_v0", math.inf, 0.0) == math.inf
    assert math.isnan(call("Float::divide_v0", math.inf, math.inf))


def test_float_arithmetic_overflows_to_infinity() -> None:
    assert call("Float::add_v0", 1e308, 1e308) == math.inf
    assert call("Float::multiply_v0", -1e308, 10.0) == -math.inf
    assert call("Float::subtract_v0", 0.5, 0.25) == 0.25
    assert math.isnan(call("Float::add_v0", math.inf, -math.inf))
    assert call("Float::negate_v0", 2.5) == -2.5
    assert call("Float::absoluteValue_v0", -2.5) == 2.5


def test_float_power() -> None:
    assert call("Float::power_v0", 2.0, 10.0) == 1024.0
    assert call("Float::power_v0", 2.0, -1.0) == 0.5
    assert call("Float::power_v0", 10.0, 400.0) == math.inf
    assert call("Float::power_v0", -10.0, 401.0) == -math.inf
    assert call("Float::power_v0", -10.0, 400.0) == math.inf
    assert math.isnan(call("Float::power_v0", -8.0, 0.5))
    assert call("Float::power_v0", 0.0, -1.0) == math.inf
    assert call("Float::power_v0", -0.0, -1.0) == -math.inf
    assert call("Float::power_v0", -0.0, -2.0) == math.inf
    assert call("Float::power_v0", math.nan, 0.0) == 1.0


def test_float_sqrt() -> None:
    assert call("Float::sqrt_v0", 2.25) == 1.5
    assert math.isnan(call("Float::sqrt_v0", -1.0))
    assert math.isnan(call("Float::sqrt_v0", math.nan))
    assert call("Float::sqrt_v0", math.inf) == math.inf
    assert math.isnan(call("Float::sqrt_v0", -math.inf))


@pytest.mark.parametrize(
    ("x", "ceiling", "floor", "round_", "truncate"),
    [
        (2.5, 3, 2, 3, 2),
        (-2.5, -2, -3, -3, -2),
        (0.5, 1, 0, 1, 0),
        (-0.5, 0, -1, -1, 0),
        (1.4999, 2, 1, 1, 1),
        (0.49999999999999994, 1, 0, 0, 0),
        (-1.5, -1, -2, -2, -1),
        (3.0, 3, 3, 3, 3),
        (-0.0, 0, 0, 0, 0),
        (4503599627370497.0, 4503599627370497, 4503599627370497, 4503599627370497,
         4503599627370497),
    ],
)
def test_float_to_int(x: float, ceiling: int, floor: int, round_: int, truncate: int) -> None:
    assert call("Float::ceiling_v0", x) == ceiling
    assert call("Float::roundUp_v0", x) == ceiling
    assert call("Float::floor_v0", x) == floor
    assert call("Float::roundDown_v0", x) == floor
    assert call("Float::round_v0", x) == round_
    assert call("Float::truncate_v0", x) == truncate
    for name in ("ceiling", "floor", "round", "truncate", "roundUp", "roundDown"):
        r = call(f"Float::{name}_v0", x)
        assert type(r) is int


@pytest.mark.parametrize("name", ["ceiling", "floor", "round", "truncate", "roundUp", "roundDown"])
@pytest.mark.parametrize("x", [math.nan, math.inf, -math.inf, 1e19, -1e300])
def test_float_to_int_refuses_what_an_int_cannot_hold(name: str, x: float) -> None:
    with pytest.raises(LibError, match=f"Float::{name}"):
        call(f"Float::{name}_v0", x)


@given(st.floats(min_value=-1e15, max_value=1e15))
def test_float_round_is_nearest_with_halves_away_from_zero(x: float) -> None:
    r = call("Float::round_v0", x)
    assert abs(r - x) <= 0.5
    if abs(r - x) == 0.5:
        assert abs(r) > abs(x)


def test_float_comparisons_and_nan() -> None:
    assert call("Float::greaterThan_v0", 2.0, 1.0) is True
    assert call("Float::greaterThanOrEqualTo_v0", 1.0, 1.0) is True
    assert call("Float::lessThan_v0", 1.0, 2.0) is True
    assert call("Float::lessThanOrEqualTo_v0", 2.0, 1.0) is False
    for name in ("greaterThan", "greaterThanOrEqualTo", "lessThan", "lessThanOrEqualTo"):
        assert call(f"Float::{name}_v0", math.nan, 1.0) is False
        assert call(f"Float::{name}_v0", 1.0, math.nan) is False
    assert call("Float::max_v0", 1.0, 2.0) == 2.0
    assert call("Float::min_v0", 1.0, 2.0) == 1.0
    assert math.isnan(call("Float::max_v0", math.nan, 2.0))
    assert math.isnan(call("Float::min_v0", 1.0, math.nan))


def test_float_clamp() -> None:
    assert call("Float::clamp_v0", 0.5, 0.0, 1.0) == 0.5
    assert call("Float::clamp_v0", 1.5, 1.0, 0.0) == 1.0
    assert call("Float::clamp_v0", -math.inf, 0.0, 1.0) == 0.0
    assert math.isnan(call("Float::clamp_v0", math.nan, 0.0, 1.0))
    with pytest.raises(LibError, match="NaN"):
        call("Float::clamp_v0", 0.5, math.nan, 1.0)


def test_float_sum() -> None:
    assert call("Float::sum_v0", ()) == 0.0
    assert call("Float::sum_v0", (0.5, 0.25)) == 0.75
    assert call("Float::sum_v0", (1e308, 1e308)) == math.inf
    assert math.isnan(call("Float::sum_v0", (math.inf, -math.inf)))
    with pytest.raises(LibError, match=r"element 0 .*Int"):
        call("Float::sum_v0", (1,))


@pytest.mark.parametrize(
    ("text", "expect"),
    [("1", 1.0), ("-1.5", -1.5), (".5", 0.5), ("5.", 5.0), ("2e3", 2000.0), ("2.5E-1", 0.25),
     ("+3", 3.0), ("Infinity", math.inf), ("-Infinity", -math.inf), ("1e400", math.inf)],
)
def test_float_parse_ok(text: str, expect: float) -> None:
    for fn in ("Float::parse_v0", "String::toFloat_v1"):
        r = call(fn, text)
        assert r == ok(expect) and isinstance(r.args[0], float)


def test_float_parse_nan() -> None:
    r = call("Float::parse_v0", "NaN")
    assert r.name == "Ok" and math.isnan(r.args[0])


@pytest.mark.parametrize("text", ["", " 1", "1,5", "abc", "nan", "inf", "1_0", "1e", "e5", "."])
def test_float_parse_error(text: str) -> None:
    r = call("Float::parse_v0", text)
    assert r.name == "Error" and r.args[0]


@given(finite)
def test_float_parse_round_trips(x: float) -> None:
    assert call("Float::parse_v0", repr(x)) == ok(x)
