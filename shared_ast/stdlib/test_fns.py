"""The `Test` module of the Gloam standard library: what a test's body calls.

These functions work only inside a test toplevel (`shared_ast.testing` runs
it with a `TestHost`); anywhere else they stop with an error saying so, and
the checker marks them.

- `Test::expect_v0 actual expected`: one check. It passes when the two values
  are equal (as `==` compares them); a failing check is reported with both
  values and the test goes on to its next check. An error or unfinished
  `actual` fails the check with that error as the value. An unfinished
  `expected` (a hole: the test is still being written) is no check: the call
  gives that unfinished value, so the test is incomplete, not failing. It
  returns whether the check passed.
- `Test::http_v0 method path request`: the value the HTTP handler that
  `method path` reaches gives (the route's parameters bound from the path,
  `request` as its request), run inside the test: an answer, not a served
  request (no status line, no JSON encoding).
- `Test::event_v0 queue event`: the value the worker of `queue` gives for
  `event`.
- `Test::cron_v0 name`: the value the cron named `name` gives.

The handlers run within the test's run limits, and their impure calls are
refused or replayed from the test's recording, as the test's own are.
"""

from __future__ import annotations

from typing import Any

from shared_ast.stdlib.registry import CallContext, LibError, register
from shared_ast.type_ast import BOOL, STRING, UNKNOWN, TVar
from shared_ast.values import Incomplete, is_special, values_equal

__all__ = ["TEST_FUNCTIONS", "test_host"]

#: The library functions that run only in a test.
TEST_FUNCTIONS = ("Test::expect_v0", "Test::http_v0", "Test::event_v0", "Test::cron_v0")


def test_host(ctx: CallContext, what: str) -> Any:
    """The test host of the evaluation, or a `LibError` saying `what` runs only in a test."""
    host = getattr(ctx, "host", None)
    if host is None or getattr(host, "test_check", None) is None:
        raise LibError(f"{what} runs only in a test (make a test toplevel for it); "
                       "in a handler or function it does nothing useful")
    return host


@register(
    "Test", "expect", 0, [("actual", TVar("a")), ("expected", TVar("a"))], BOOL,
    "A check of a test: passes when actual equals expected; a failure shows both.",
    accepts_special=True,
)
def expect_v0(ctx: CallContext, actual: Any, expected: Any) -> bool | Incomplete:
    host = test_host(ctx, "Test::expect_v0")
    if isinstance(expected, Incomplete):
        # What it should give is not written yet (`Test::expect (f 2) <hole>`, a new test,
        # one kept from a fuzz): the check is unfinished, the test incomplete, not failing.
        return expected
    passed = not is_special(actual) and not is_special(expected) \
        and values_equal(actual, expected)
    if not getattr(ctx, "previewing", False):
        host.test_check(getattr(ctx, "call_id", None), actual, expected, passed)
    return passed


def _run(ctx: CallContext, what: str, found: Any) -> Any:
    if isinstance(found, str):
        raise LibError(found)
    handler, inputs = found
    run = getattr(ctx, "run_handler", None)
    if run is None:
        raise LibError(f"{what} runs only in a test")
    return run(handler, inputs)


@register(
    "Test", "http", 0, [("method", STRING), ("path", STRING), ("request", UNKNOWN)], UNKNOWN,
    "In a test: the value of the HTTP handler `method path` reaches, given `request`.",
)
def http_v0(ctx: CallContext, method: str, path: str, request: Any) -> Any:
    host = test_host(ctx, "Test::http_v0")
    return _run(ctx, "Test::http_v0", host.test_http(method, path, request))


@register(
    "Test", "event", 0, [("queue", STRING), ("event", UNKNOWN)], UNKNOWN,
    "In a test: the value of the worker of `queue`, given `event`.",
)
def event_v0(ctx: CallContext, queue: str, event: Any) -> Any:
    host = test_host(ctx, "Test::event_v0")
    return _run(ctx, "Test::event_v0", host.test_event(queue, event))


@register(
    "Test", "cron", 0, [("name", STRING)], UNKNOWN,
    "In a test: the value of the cron named `name`.",
)
def cron_v0(ctx: CallContext, name: str) -> Any:
    host = test_host(ctx, "Test::cron_v0")
    return _run(ctx, "Test::cron_v0", host.test_cron(name))
