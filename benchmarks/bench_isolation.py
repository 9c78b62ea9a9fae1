"""Isolation: `/hello` p99 while a runaway handler gets traffic, over its p99 quiet (goal ≤ 2x).

One real `gloam runtime serve` process with the default number of traffic
workers (one per core, at least 2: 2 on this machine), locking on (the
runtime's default lock window, which the tests' harness turns off) and traces
on. Two handlers:

- `GET /bench-hello`: `Http::response_v0 "Hello from Gloam!\\n" 200`;
- `GET /runaway`: `List::fold_v0 (List::range_v0 0 999999) 0 (fun acc x -> acc + x)`,
  which runs until the run's step budget (or its 1 s time limit) stops it.

The `/hello` client is this process: `HELLO_RATE` requests a second for
`SECONDS` s on a fixed schedule (open loop: a slow answer does not delay the
next request), over a pool of `HELLO_CONNECTIONS` keep-alive connections, as a
small service calling another would. A request's time runs from its scheduled
start, waiting for a free pooled connection included, to the last byte of the
answer. Keep-alive connections matter: the kernel hands a connection to one
worker when it is accepted, and every request on it goes to that worker.

Quiet: `/hello` alone. Loaded: the same `/hello` schedule while a separate
process (`python bench_isolation.py --runaway URL`) sends `/runaway`
`RUNAWAY_RATE` times a second on the same open-loop schedule, each on a fresh
connection (independent clients, so the kernel spreads them over the workers).
Ratio = loaded p99 / quiet p99. The runaway's own answers (status codes, median
time) are reported too, and every `/hello` must answer 200. Both clients share
the machine's 2 cores with the runtime's processes.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import common

from shared_ast import build as b

SECONDS = 10
HELLO_RATE = 20
HELLO_CONNECTIONS = 4
RUNAWAY_RATE = 3
GOAL = 2.0


def handlers() -> list[object]:
    runaway = b.call("List::fold_v0", b.call("List::range_v0", 0, 999999), 0,
                     b.lam(["acc", "x"], b.infix("+", b.var("acc"), b.var("x"))))
    return [
        b.http("GET", "/bench-hello", b.call("Http::response_v0", "Hello from Gloam!\n", 200)),
        b.http("GET", "/runaway", runaway),
    ]


async def paced(url: str, rate: float, seconds: float, keep_alive: bool,
                connections: int) -> list[tuple[int, float]]:
    """GET `url` `rate` times a second for `seconds` s, open loop; (status, ms) each (0: failed)."""
    import aiohttp

    out: list[tuple[int, float]] = []
    connector = aiohttp.TCPConnector(limit=connections, force_close=not keep_alive)
    timeout = aiohttp.ClientTimeout(total=30)

    async def one(http: aiohttp.ClientSession, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        start = common.now_ms()
        try:
            async with http.get(url) as resp:
                await resp.read()
                out.append((resp.status, common.now_ms() - start))
        except (TimeoutError, aiohttp.ClientError, OSError):
            out.append((0, common.now_ms() - start))

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        t0 = time.perf_counter() + 0.05
        count = int(rate * seconds)
        await asyncio.gather(*(one(http, t0 + k / rate) for k in range(count)))
    return out


def hello_phase(url: str) -> list[tuple[int, float]]:
    return asyncio.run(paced(url, HELLO_RATE, SECONDS, True, HELLO_CONNECTIONS))


def summary(answers: list[tuple[int, float]]) -> tuple[dict[str, float], dict[int, int]]:
    return common.spread([ms for _, ms in answers]), dict(Counter(s for s, _ in answers))


def main() -> dict[str, object]:
    from runtime_harness import create_toplevels, http_request

    with (tempfile.TemporaryDirectory(prefix="gloam-bench-isolation-") as tmp,
          common.runtime(Path(tmp) / "data", common.default_settings()) as rt):
        workers = common.traffic_workers(rt)
        create_toplevels(rt, handlers())  # type: ignore[arg-type]
        hello, runaway = f"{rt.http}/c/demo/bench-hello", f"{rt.http}/c/demo/runaway"
        status, text = http_request("GET", hello)
        if status != 200:
            raise RuntimeError(f"/hello answered {status} {text!r}")
        start = common.now_ms()
        status, text = http_request("GET", runaway, timeout=30)
        stopped = str(text.get("error", text) if isinstance(text, dict) else text)[:120]
        print(f"   runaway alone: {status} in {common.now_ms() - start:.0f} ms: {stopped}",
              flush=True)
        for _ in range(50):  # warm up both workers (fresh connections)
            http_request("GET", hello)
        quiet = hello_phase(hello)
        print(f"   quiet: {summary(quiet)}", flush=True)
        loader = subprocess.Popen([sys.executable, __file__, "--runaway", runaway],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert loader.stdout is not None
            loader.stdout.readline()  # "ready": its imports are done, its schedule starts
            loaded = hello_phase(hello)
            out, _ = loader.communicate(timeout=SECONDS + 60)
        finally:
            if loader.poll() is None:
                loader.kill()
                loader.wait()
        runaway_answers = [tuple(a) for a in json.loads(out)]
        print(f"   loaded: {summary(loaded)}", flush=True)
    quiet_spread, quiet_codes = summary(quiet)
    loaded_spread, loaded_codes = summary(loaded)
    run_spread, run_codes = summary(runaway_answers)  # type: ignore[arg-type]
    hello_not_200 = sum(n for codes in (quiet_codes, loaded_codes)
                        for code, n in codes.items() if code != 200)
    ratio = common.ratio(loaded_spread["p99"], quiet_spread["p99"])
    slow = sum(1 for _, ms in loaded if ms > 50)
    figures: dict[str, object] = {
        "isolation_workers": workers,
        "isolation_seconds_per_phase": SECONDS,
        "isolation_hello_rate_per_s": HELLO_RATE,
        "isolation_hello_connections": f"{HELLO_CONNECTIONS} keep-alive",
        "isolation_runaway_rate_per_s": RUNAWAY_RATE,
        "isolation_hello_quiet_requests": len(quiet),
        "isolation_hello_quiet_p50_ms": quiet_spread["p50"],
        "isolation_hello_quiet_p99_ms": quiet_spread["p99"],
        "isolation_hello_quiet_max_ms": quiet_spread["max"],
        "isolation_hello_loaded_requests": len(loaded),
        "isolation_hello_loaded_p50_ms": loaded_spread["p50"],
        "isolation_hello_loaded_p99_ms": loaded_spread["p99"],
        "isolation_hello_loaded_max_ms": loaded_spread["max"],
        "isolation_hello_loaded_over_50ms": slow,
        "isolation_hello_not_200": hello_not_200,
        "isolation_runaway_requests": len(runaway_answers),
        "isolation_runaway_statuses": ", ".join(f"{code}: {n}"
                                                for code, n in sorted(run_codes.items())),
        "isolation_runaway_p50_ms": run_spread["p50"],
        "isolation_runaway_answer": stopped,
        "isolation_runaway_max_ms": run_spread["max"],
        "isolation_hello_p99_ratio": ratio,
        "isolation_target_met": ratio <= GOAL and hello_not_200 == 0,
    }
    common.report(
        "isolation", figures,
        f"/hello p99 {quiet_spread['p99']} ms quiet, {loaded_spread['p99']} ms with a runaway "
        f"{RUNAWAY_RATE}/s (answered {figures['isolation_runaway_statuses']} in "
        f"{run_spread['p50']} ms at the median) = {ratio}x, {workers} workers, "
        f"{hello_not_200} /hello not 200; goal ≤ {GOAL}x and every /hello 200: "
        + ("met" if figures["isolation_target_met"] else "NOT met"),
    )
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--runaway"]:
        import aiohttp  # imported before "ready", so not on the schedule

        print("ready", flush=True)
        answers = asyncio.run(paced(sys.argv[2], RUNAWAY_RATE, SECONDS, False, 100))
        print(json.dumps(answers))
    else:
        main()
