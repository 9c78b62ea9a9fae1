"""Serving: requests/s and p99 of one traffic worker against native aiohttp (goal ≥ 0.5x).

Three GET handlers, the same on both sides:

(a) `/bench-hello` returns a small string (`Http::response_v0 "Hello from Gloam!\n" 200`).
(b) `/fizzbuzz` returns FizzBuzz 1..100 as a JSON list of strings:
    `List::map_v0 (List::range_v0 1 100) (fun i -> if i % 15 == 0 then "FizzBuzz" ...)`;
    the library has no Int::toString, so a plain number is `Json::serialize_v0 i`
    (native: `str(i)`).
(c) `/sum/:a/:b` parses both route parameters with `String::toInt_v1` on the
    error rail and returns a + b (native: `int(a) + int(b)`).

and, as before, `POST /bench-json`: a JSON body `{name, tags, a, b}` read into
`request.body`, answered with a record built by `String::toUppercase_v1`,
`String::slugify_v2`, `List::length_v0` and `+` (no goal of its own now).

Gloam runs as users run it: a real `gloam runtime serve` process with
`--workers 1`, locking on (the runtime's default lock window, which the tests'
harness turns off) and every request stored as a trace. The baseline is
`benchmarks/native_app.py`, the same handlers as native aiohttp handlers in one
process of their own. Every answer is compared with the native one before
anything is timed. Then the same runtime with `--workers 2` runs (a) (b) (c)
again, for the 2-over-1 worker ratios.

The load generator is wrk (found on PATH, else installed with apt-get when
running as root); without it a Python aiohttp load generator runs instead and
the output says so. Each run is short (`SECONDS` s) with 1 wrk thread and 16
keep-alive connections. This machine has 2 cores and wrk takes about one of
them, so one server process gets about one core: the 1-worker ratios compare
like with like, but a second worker has no core of its own, and the 2-over-1
ratios say what a second worker buys here, not on a bigger machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
from programs import size_of

from shared_ast import build as b

SECONDS = 5
CONNECTIONS = 16
JSON_BODY = {"name": "Gloam Serving Bench", "tags": ["a", "b", "c"], "a": 20, "b": 22}
GOAL = 0.5
SUM_PATH = "/sum/20/22"
# (name, Gloam path, native path): the three handlers with a goal, GET all.
GETS = [("hello", "/bench-hello", "/hello"), ("fizz", "/fizzbuzz", "/fizzbuzz"),
        ("params", SUM_PATH, SUM_PATH)]


def fizzbuzz() -> object:
    def i() -> object:  # a fresh node each time: node ids are unique in a tree
        return b.var("i")

    def divides(n: int) -> object:
        return b.infix("==", b.infix("%", i(), n), 0)

    word = b.if_(divides(15), "FizzBuzz", b.if_(divides(3), "Fizz", b.if_(
        divides(5), "Buzz", b.call("Json::serialize_v0", i()))))
    return b.call("List::map_v0", b.call("List::range_v0", 1, 100), b.lam(["i"], word))


def gloam_handlers() -> list[object]:
    def body() -> object:  # a fresh subtree each time: node ids are unique in a tree
        return b.field(b.var("request"), "body")

    return [
        b.http("GET", "/bench-hello", b.call("Http::response_v0", "Hello from Gloam!\n", 200)),
        b.http("GET", "/fizzbuzz", fizzbuzz()),
        b.http("GET", "/sum/:a/:b", b.infix(
            "+", b.call("String::toInt_v1", b.var("a"), rail=True),
            b.call("String::toInt_v1", b.var("b"), rail=True))),
        b.http("POST", "/bench-json", b.record(
            name=b.call("String::toUppercase_v1", b.field(body(), "name")),
            slug=b.call("String::slugify_v2", b.field(body(), "name")),
            tags=b.call("List::length_v0", b.field(body(), "tags")),
            total=b.infix("+", b.field(body(), "a"), b.field(body(), "b")),
        )),
    ]


def find_wrk() -> str | None:
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("   wrk not found; installing Debian's wrk with apt-get (quietly)")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False, timeout=300)
    return shutil.which("wrk")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not m:
        raise ValueError(f"wrk printed a latency this benchmark cannot read: {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def run_wrk(wrk: str, url: str, post_body: dict | None) -> dict[str, float]:
    args = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency"]
    with tempfile.TemporaryDirectory() as tmp:
        if post_body is not None:
            script = Path(tmp) / "post.lua"
            script.write_text(
                'wrk.method = "POST"\n'
                f"wrk.body = {json.dumps(json.dumps(post_body))}\n"
                'wrk.headers["Content-Type"] = "application/json"\n')
            args += ["-s", str(script)]
        out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # The "Latency Distribution" lines, e.g. "     99%    1.37ms" (not the Stdev percentages).
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)$", out, re.M).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)$", out, re.M).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)
    return {"rps": round(rps, 1), "p50_ms": round(p50, 3), "p99_ms": round(p99, 3),
            "requests": total, "failed": failed}


def run_python_load(url: str, post_body: dict | None) -> dict[str, float]:
    """The fallback load generator: aiohttp clients in a loop for SECONDS seconds."""
    import aiohttp

    async def go() -> list[tuple[int, float]]:
        out: list[tuple[int, float]] = []
        deadline = time.perf_counter() + SECONDS
        data = json.dumps(post_body).encode() if post_body is not None else None
        method = "POST" if post_body is not None else "GET"
        headers = {"Content-Type": "application/json"}

        async def client(http: aiohttp.ClientSession) -> None:
            while time.perf_counter() < deadline:
                start = common.now_ms()
                try:
                    async with http.request(method, url, data=data, headers=headers) as resp:
                        await resp.read()
                        out.append((resp.status, common.now_ms() - start))
                except (aiohttp.ClientError, OSError):
                    out.append((0, common.now_ms() - start))

        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(client(http) for _ in range(CONNECTIONS)))
        return out

    answers = asyncio.run(go())
    times = [ms for _, ms in answers]
    return {"rps": round(len(answers) / SECONDS, 1),
            "p50_ms": round(common.percentile(times, 50), 3),
            "p99_ms": round(common.percentile(times, 99), 3), "requests": len(answers),
            "failed": sum(1 for s, _ in answers if not 200 <= s < 400)}


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def check_answers(gloam: str, native: str) -> None:
    """Every handler answers 200 with what the native one answers: a fast 500 is not a result."""
    from runtime_harness import http_request

    for name, path, native_path in GETS:
        got, want = (http_request("GET", gloam + path), http_request("GET", native + native_path))
        if got != want or got[0] != 200:
            raise RuntimeError(f"{name}: gloam answered {got!r}, native {want!r}")
    got = http_request("POST", gloam + "/bench-json", body=JSON_BODY)
    want = http_request("POST", native + "/json", body=JSON_BODY)
    if got != want or got[0] != 200:
        raise RuntimeError(f"json: gloam answered {got!r}, native {want!r}")
    fizz = http_request("GET", gloam + "/fizzbuzz")[1]
    print(f"   answers equal native: fizz {fizz[:5]}...{fizz[-1:]}, sum {SUM_PATH} -> "
          f"{http_request('GET', gloam + SUM_PATH)[1]}, json {got[1]}")


def main() -> dict[str, object]:
    from runtime_harness import create_toplevels

    wrk = find_wrk()
    generator = f"wrk ({wrk})" if wrk else "Python aiohttp load generator (wrk not available)"
    print(f"   load generator: {generator}")

    def load(url: str, body: dict | None = None) -> dict[str, float]:
        r = run_wrk(wrk, url, body) if wrk else run_python_load(url, body)
        print(f"   {url}: {r}", flush=True)
        return r

    handlers = gloam_handlers()
    results: dict[str, dict[str, float]] = {}
    workers_seen: dict[int, int | None] = {}
    port = common.free_port()
    native = subprocess.Popen([sys.executable, str(Path(__file__).with_name("native_app.py")),
                               str(port)])
    native_base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port)
        with tempfile.TemporaryDirectory(prefix="gloam-bench-serve-") as tmp:
            for workers in (1, 2):
                extra = [*common.default_settings(), "--workers", str(workers)]
                with common.runtime(Path(tmp) / f"data{workers}", extra) as rt:
                    workers_seen[workers] = common.traffic_workers(rt)
                    create_toplevels(rt, handlers)  # type: ignore[arg-type]
                    base = f"{rt.http}/c/demo"
                    check_answers(base, native_base)
                    suffix = "" if workers == 1 else f"_{workers}_workers"
                    for name, path, _ in GETS:
                        results[name + suffix] = load(base + path)
                    if workers == 1:
                        results["json"] = load(base + "/bench-json", JSON_BODY)
        for name, _, native_path in GETS:
            results[f"{name}_native"] = load(native_base + native_path)
        results["json_native"] = load(native_base + "/json", JSON_BODY)
    finally:
        native.terminate()
        native.wait(timeout=10)
    if workers_seen != {1: 1, 2: 2}:
        raise RuntimeError(f"asked for 1 and 2 traffic workers, the runtime said {workers_seen}")
    figures: dict[str, object] = {
        "serve_load_generator": generator,
        "serve_seconds_per_run": SECONDS,
        "serve_connections": CONNECTIONS,
        "serve_workers": 1,
        "serve_cores": os.cpu_count(),
        "serve_settings": "locking on (default lock window), traces on",
        "serve_json_handler_nodes": size_of(handlers[-1]),  # type: ignore[arg-type]
        "serve_fizz_handler_nodes": size_of(handlers[1]),  # type: ignore[arg-type]
    }
    for name, r in results.items():
        tail = "_2_workers" if name.endswith("_2_workers") else ""
        base_name = name.removesuffix(tail) if tail else name
        for key in ("rps", "p50_ms", "p99_ms"):
            figures[f"serve_{base_name}_{key}{tail}"] = r[key]
        figures[f"serve_{base_name}_failed_requests{tail}"] = r["failed"]
    met: dict[str, bool] = {}
    parts = []
    for name, _, _ in GETS:
        one = results[name]["rps"]
        r = common.ratio(one, results[f"{name}_native"]["rps"])
        figures[f"serve_{name}_ratio"] = r
        met[name] = r >= GOAL and not results[name]["failed"]
        figures[f"serve_{name}_target_met"] = met[name]
        two = common.ratio(results[f"{name}_2_workers"]["rps"], one)
        figures[f"serve_{name}_workers_2_over_1_ratio"] = two
        parts.append(f"{name} {one} rps vs native {results[f'{name}_native']['rps']} = {r}x "
                     f"({'met' if met[name] else 'NOT met'}; 2 workers {two}x of 1)")
    figures["serve_json_ratio"] = common.ratio(results["json"]["rps"],
                                               results["json_native"]["rps"])
    figures["serve_target_met"] = all(met.values())
    common.report(
        "serving", figures,
        "1 traffic worker, locking and traces on, against native aiohttp, "
        f"{generator}: " + "; ".join(parts) + f"; goal ≥ {GOAL}x each: "
        + ("met" if figures["serve_target_met"] else "NOT met")
        + f". {os.cpu_count()} cores and wrk takes one, so a second worker has no core of its own",
    )
    return figures


if __name__ == "__main__":
    main()
