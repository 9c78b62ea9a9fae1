"""Serving: requests/s and p99 for two handlers, traces on, against native aiohttp (target ≥ 0.7x).

(a) `GET /bench-hello` returns a small string (`Http::response_v0`).
(b) `POST /bench-json` takes a JSON body `{name, tags, a, b}` (the runtime parses it
    into `request.body`) and returns a record built with library calls:
    `String::toUppercase_v1`, `String::slugify_v2`, `List::length_v0`, `+`.

Both run on a real `gloam runtime serve` process (every request stored as a
trace). The baseline is `benchmarks/native_app.py`: the same two handlers as
native aiohttp handlers, in a separate process of their own. The load
generator is wrk (found on PATH, else installed with apt-get when running as
root); without it a Python aiohttp load generator runs instead and the output
says so. Each run is short (`SECONDS` s) with 1 wrk thread and 16
connections, because this machine has 2 cores: one for the server, one for wrk.
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


def gloam_handlers() -> list[object]:
    def body() -> object:  # a fresh subtree each time: node ids are unique in a tree
        return b.field(b.var("request"), "body")

    return [
        b.http("GET", "/bench-hello", b.call("Http::response_v0", "Hello from Gloam!\n", 200)),
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


def main() -> dict[str, object]:
    from runtime_harness import create_toplevels, http_request

    wrk = find_wrk()
    generator = f"wrk ({wrk})" if wrk else "Python aiohttp load generator (wrk not available)"
    print(f"   load generator: {generator}")

    def load(url: str, body: dict | None) -> dict[str, float]:
        return run_wrk(wrk, url, body) if wrk else run_python_load(url, body)

    handlers = gloam_handlers()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="gloam-bench-serve-") as tmp:
        with common.runtime(Path(tmp) / "data") as rt:
            create_toplevels(rt, handlers)  # type: ignore[arg-type]
            # Check the answers before timing them: a fast 500 is not a result.
            status, text = http_request("GET", f"{rt.http}/c/demo/bench-hello")
            status2, rec = http_request("POST", f"{rt.http}/c/demo/bench-json", body=JSON_BODY)
            if status != 200 or status2 != 200:
                raise RuntimeError(f"gloam handlers answered {status} {text!r} / {status2} {rec!r}")
            print(f"   gloam /json answers {rec}")
            results["hello"] = load(f"{rt.http}/c/demo/bench-hello", None)
            results["json"] = load(f"{rt.http}/c/demo/bench-json", JSON_BODY)
        port = common.free_port()
        native = subprocess.Popen([sys.executable, str(Path(__file__).with_name("native_app.py")),
                                   str(port)])
        try:
            wait_for_port(port)
            status, rec = http_request("POST", f"http://127.0.0.1:{port}/json", body=JSON_BODY)
            print(f"   native /json answers {rec}")
            results["hello_native"] = load(f"http://127.0.0.1:{port}/hello", None)
            results["json_native"] = load(f"http://127.0.0.1:{port}/json", JSON_BODY)
        finally:
            native.terminate()
            native.wait(timeout=10)
    figures: dict[str, object] = {"serve_load_generator": generator,
                                  "serve_seconds_per_run": SECONDS,
                                  "serve_connections": CONNECTIONS,
                                  "serve_json_handler_nodes": size_of(handlers[1])}  # type: ignore[arg-type]
    for name, r in results.items():
        figures[f"serve_{name}_rps"] = r["rps"]
        figures[f"serve_{name}_p50_ms"] = r["p50_ms"]
        figures[f"serve_{name}_p99_ms"] = r["p99_ms"]
        figures[f"serve_{name}_failed_requests"] = r["failed"]
    hello_ratio = common.ratio(results["hello"]["rps"], results["hello_native"]["rps"])
    json_ratio = common.ratio(results["json"]["rps"], results["json_native"]["rps"])
    figures["serve_hello_ratio"] = hello_ratio
    figures["serve_json_ratio"] = json_ratio
    figures["serve_target_met"] = hello_ratio >= 0.7 and json_ratio >= 0.7
    figures["serve_hello_target_met"] = hello_ratio >= 0.7
    figures["serve_json_target_met"] = json_ratio >= 0.7
    common.report(
        "serving", figures,
        f"hello {results['hello']['rps']} rps (native {results['hello_native']['rps']}, "
        f"{hello_ratio}x), json {results['json']['rps']} rps (native "
        f"{results['json_native']['rps']}, {json_ratio}x), traces on, {generator}; "
        "target ≥ 0.7x " + ("met" if figures["serve_target_met"] else "NOT met"),
    )
    return figures


if __name__ == "__main__":
    main()
