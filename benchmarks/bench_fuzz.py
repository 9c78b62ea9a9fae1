"""Fuzzing: generated inputs per second for a function of a record parameter (issue 14).

The function takes an `Order` (a user record: a String name, a Float price, an Int
quantity and a List<String> of tags) and computes a total with a discount per tag,
correct for every input, so the fuzz runs all its examples (no shrinking). What is
timed is `shared_ast.fuzz.fuzz_function` (Hypothesis drawing the records from the type,
the reference evaluator running the function within a fuzz run's limits) on one core,
as the editor's fuzz runs it in its worker thread. Baseline: the same function called
on the same number of inputs drawn beforehand (the evaluator alone), so the ratio is
what generating costs over running.
"""

from __future__ import annotations

import time

import common
from hypothesis import HealthCheck, given, settings

from shared_ast import build as b
from shared_ast.eval_context import Budget
from shared_ast.evaluator import call_user_function
from shared_ast.fuzz import fuzz_function, strategy_for
from shared_ast.program import Program
from shared_ast.type_ast import FLOAT, INT, STRING, TList, TUser

EXAMPLES = 2000
ROUNDS = 3


def order_function():  # type: ignore[no-untyped-def]
    order = b.record_type("Order", [("name", STRING), ("price", FLOAT), ("quantity", INT),
                                    ("tags", TList(STRING))])
    o = b.var("o")
    gross = b.infix("*.", b.field(o, "price"), b.call("Int::toFloat_v0", b.field(o, "quantity")))
    discount = b.infix("*.", 0.01, b.call("Int::toFloat_v0",
                                         b.call("List::length_v0", b.field(o, "tags"))))
    body = b.infix("-.", gross, b.infix("*.", gross, discount))
    fn = b.function("total", [("o", TUser(order.type_id, 0))], FLOAT, body)
    return fn, Program.from_toplevels([order, fn])


def main() -> dict[str, object]:
    fn, program = order_function()
    fuzz_function(fn, program, max_examples=50, time_limit=60, seed=99)  # warm up Hypothesis
    rates = []
    failures = 0
    for i in range(ROUNDS):
        start = time.perf_counter()
        report = fuzz_function(fn, program, max_examples=EXAMPLES, time_limit=120, seed=i)
        rates.append(report.examples / (time.perf_counter() - start))
        failures += len(report.failures)

    drawn: list[object] = []

    @settings(max_examples=EXAMPLES, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy_for(fn.params[0].type, program))
    def collect(order: object) -> None:
        drawn.append(order)

    collect()
    start = time.perf_counter()
    for order in drawn:
        call_user_function(fn, (order,), program, budget=Budget(max_steps=200_000))
    calls_per_s = len(drawn) / (time.perf_counter() - start)
    best = max(rates)
    figures = {
        "fuzz_examples_per_s": round(best),
        "fuzz_examples_per_s_median": round(sorted(rates)[len(rates) // 2]),
        "fuzz_examples": EXAMPLES,
        "fuzz_failures_found": failures,
        "fuzz_baseline_calls_per_s": round(calls_per_s),
        "fuzz_generation_overhead_ratio": common.ratio(calls_per_s, best),
    }
    common.report(
        "fuzz", figures,
        f"{figures['fuzz_examples_per_s']} generated inputs/s for a function of a record "
        f"(best of {ROUNDS} fuzzes of {EXAMPLES}); the evaluator alone runs "
        f"{figures['fuzz_baseline_calls_per_s']} calls/s on drawn inputs "
        f"({figures['fuzz_generation_overhead_ratio']}x)",
    )
    return figures


if __name__ == "__main__":
    main()
