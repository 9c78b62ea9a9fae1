"""`Flag::rollout_v0`: a stable, monotone percentage rollout keyed by flag and key."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from shared_ast import build as b
from shared_ast.evaluator import evaluate
from shared_ast.stdlib.flag_fns import bucket
from shared_ast.values import ErrorValue
from tests.runtime_harness import ROOT

keys = st.text(max_size=30)
percents = st.integers(0, 100)


def rolled(flag: str, key: str, percent: int) -> bool:
    """Whether the flag's new branch runs for this key, evaluated the way a handler does."""
    expr = b.flag(flag, b.call("Flag::rollout_v0", key, percent), "old", "new")
    return evaluate(expr) == "new"


@settings(max_examples=300, deadline=None)
@given(keys, percents, percents)
def test_a_key_inside_at_a_percentage_stays_inside_at_a_larger_one(
        key: str, p: int, q: int) -> None:
    low, high = sorted((p, q))
    if rolled("beta", key, low):
        assert rolled("beta", key, high)


@settings(max_examples=100, deadline=None)
@given(keys)
def test_nobody_at_zero_everybody_at_a_hundred(key: str) -> None:
    assert not rolled("beta", key, 0)
    assert rolled("beta", key, 100)


def test_the_split_over_ten_thousand_keys_is_within_two_points_of_the_percentage() -> None:
    users = [f"user-{i}" for i in range(10_000)]
    for percent in (1, 10, 25, 50, 90):
        inside = sum(bucket("checkout", u) < percent * 100 for u in users)
        assert abs(inside / 100 - percent) <= 2, (percent, inside)


def test_buckets_are_the_same_in_another_process() -> None:
    sample = [("checkout", "alice"), ("checkout", "bob"), ("search", "alice"), ("", "")]
    code = ("from shared_ast.stdlib.flag_fns import bucket; "
            f"print([bucket(f, k) for f, k in {sample!r}])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PYTHONHASHSEED": "12345"})
    assert out.stdout.strip() == str([bucket(f, k) for f, k in sample])


def test_two_flags_bucket_the_same_users_independently() -> None:
    users = [f"user-{i}" for i in range(2_000)]
    a = {u for u in users if bucket("a", u) < 5000}
    c = {u for u in users if bucket("c", u) < 5000}
    # Independent halves overlap in about a quarter of the users, not in all of them.
    assert 400 <= len(a & c) <= 600


def test_the_enclosing_flag_names_the_bucket() -> None:
    users = [f"u{i}" for i in range(200)]
    first = [rolled("first", u, 50) for u in users]
    second = [rolled("second", u, 50) for u in users]
    assert first != second
    assert first == [bucket("first", u) < 5000 for u in users]


def test_a_percentage_out_of_range_is_an_error_naming_the_range() -> None:
    result = evaluate(b.call("Flag::rollout_v0", "k", 101))
    assert isinstance(result, ErrorValue) and "from 0 to 100" in result.message
