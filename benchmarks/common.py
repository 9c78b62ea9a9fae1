"""What every benchmark shares: timing, percentiles, the machine, a real runtime, results.

Each `bench_<name>.py` runs alone (`.venv/bin/python benchmarks/bench_checker.py`)
or under `run_all.py`. Either way it prints its figures, one final summary
line, and merges a flat dict of figures into the results file: the file named
by `GLOAM_BENCH_RESULTS` when `run_all.py` collects them, else
`benchmarks/results.json`.
"""

from __future__ import annotations

import json
import math
import os
import platform
import socket
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The benchmarks import the project and its test harness the way tests do.
for _path in (ROOT, ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

RESULTS_FILE = ROOT / "benchmarks" / "results.json"


def now_ms() -> float:
    return time.perf_counter() * 1000.0


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def spread(values: Sequence[float]) -> dict[str, float]:
    """p50, p99, max and mean of a list of timings, rounded for reading."""
    return {
        "p50": round(percentile(values, 50), 3),
        "p99": round(percentile(values, 99), 3),
        "max": round(max(values), 3) if values else float("nan"),
        "mean": round(statistics.fmean(values), 3) if values else float("nan"),
    }


def time_calls(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> list[float]:
    """Milliseconds per call of `fn`, `repeat` times after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000.0)
    return out


def ratio(numerator: float, denominator: float) -> float:
    if denominator == 0 or math.isnan(denominator):
        return float("nan")
    return round(numerator / denominator, 3)


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_at_start": [round(x, 2) for x in load],
    }


def rss_mb(pid: int) -> float:
    """Resident memory of a process from /proc (VmRSS), in MB (MiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS line for pid {pid}: is /proc mounted and the process alive?")


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it (the runtime's traffic workers), from /proc."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found.extend(process_tree(int(child)))
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, added up, in MB (MiB)."""
    return round(sum(rss_mb(p) for p in process_tree(pid)), 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def runtime(data_dir: Path, extra: Sequence[str] = ()) -> Iterator[Any]:
    """A real `gloam runtime serve` process on free loopback ports (tests' RuntimeProcess)."""
    from runtime_harness import RuntimeProcess

    data_dir.mkdir(parents=True, exist_ok=True)
    rt = RuntimeProcess(data_dir, extra).start()
    try:
        yield rt
    finally:
        rt.stop()


def results_path() -> Path:
    return Path(os.environ.get("GLOAM_BENCH_RESULTS", str(RESULTS_FILE)))


def merge_results(figures: dict[str, Any]) -> None:
    """Add `figures` to the flat results object on disk (keys from other benchmarks kept)."""
    path = results_path()
    try:
        current = json.loads(path.read_text())
    except (OSError, ValueError):
        current = {}
    current.update(figures)
    path.write_text(json.dumps(current, indent=2, sort_keys=True, allow_nan=True) + "\n")


def report(name: str, figures: dict[str, Any], summary: str) -> None:
    """Print the figures and the summary line, and merge them into the results."""
    print(f"== {name}")
    for key, value in figures.items():
        print(f"   {key:40s} {value}")
    print(f"SUMMARY {name}: {summary}", flush=True)
    merge_results(figures)


async def fetch_all(urls: Sequence[str], concurrency: int = 8,
                    method: str = "GET", body: bytes | None = None) -> list[tuple[int, float]]:
    """Request every URL with `concurrency` workers; (status, ms) per request, 0 for a failure."""
    import asyncio

    import aiohttp

    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    out: list[tuple[int, float]] = []
    headers = {"Content-Type": "application/json"} if body is not None else None

    async def worker(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            url = queue.get_nowait()
            start = now_ms()
            try:
                async with http.request(method, url, data=body, headers=headers) as resp:
                    await resp.read()
                    out.append((resp.status, now_ms() - start))
            except (aiohttp.ClientError, OSError):
                out.append((0, now_ms() - start))

    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return out


def default_settings() -> list[str]:
    """Runtime options that put back the runtime's own defaults where the tests' harness differs.

    `RuntimeProcess` turns locking off (`--lock-window 0`) unless a test asks;
    benchmarks measure the runtime as users run it, so they pass its default
    lock window (read from `RuntimeConfig`, so it follows the runtime).
    """
    import attrs

    from runtime.config import RuntimeConfig

    window = attrs.fields(RuntimeConfig).lock_window_seconds.default
    return ["--lock-window", str(window)]


def traffic_workers(rt: Any) -> int | None:
    """How many traffic workers a runtime started, from its log line, None if it does not say."""
    import re

    found = re.findall(r"listening: traffic on \S+ \((\d+) workers?\)", rt.log())
    return int(found[-1]) if found else None


# ------------------------------------------------ edits that locking allows

#: The header a flagged handler's condition looks for: requests that send it run the
#: flag's `new` branch, every other request the `old` one (what live traffic runs).
BETA_HEADER = {"X-Gloam-Beta": "1"}


def flagged_handler(route: str) -> tuple[Any, Any]:
    """`GET route` answering an Int behind a feature flag, and the `new` branch's literal.

    `flag "beta" (Dict::member request.headers "x-gloam-beta") old: 0 new: 0`: traffic
    without the header runs the old branch; a deploy that replaces the new branch's
    literal is one the lock allows on a handler with traffic (an edit inside a flag's
    new branch), and a request with `BETA_HEADER` sees it.
    """
    from shared_ast import build as b

    cond = b.call("Dict::member_v0", b.field(b.var("request"), "headers"), "x-gloam-beta")
    new = b.int_(0)
    return b.http("GET", route, b.flag("beta", cond, b.int_(0), new)), new


async def expect_locked(ed: Any, handler: Any) -> str:
    """Check the lock is on: an edit of `handler`'s live (old) branch must be refused as
    in use. Returns the refusal; raises if the runtime took the edit."""
    from shared_ast import build as b
    from shared_ast.ops import ReplaceNode

    old = handler.body.old
    got = await ed.deploy([ReplaceNode(handler.tlid, old.id, old, b.int_(-1))])
    if got.get("type") != "error" or "in use" not in str(got.get("message")):
        raise RuntimeError(f"an edit of the live branch of a handler with traffic was not "
                           f"refused as in use (is locking on?): {got}")
    return str(got["message"])
