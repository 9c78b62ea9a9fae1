"""Steady background traffic at a fixed rate, in a process of its own, for the deploy benchmark.

    python benchmarks/load_process.py RATE OUT.json URL [URL ...]

Sends RATE requests a second (spread over the URLs in turn, paced every 5 ms
on an absolute schedule, so a slow answer does not lower the rate it asks
for) until SIGTERM or SIGINT, then writes to OUT.json how many were sent,
answered with 2xx, failed (other status, refused, reset or timed out), and
the rate achieved. Run as a separate process so its CPU is not the
measuring process's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from pathlib import Path

import aiohttp

TICK = 0.005
MAX_IN_FLIGHT = 256


async def main(rate: float, out: Path, urls: list[str]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    counts = {"sent": 0, "ok": 0, "failed": 0}
    failures: dict[str, int] = {}
    gate = asyncio.Semaphore(MAX_IN_FLIGHT)
    timeout = aiohttp.ClientTimeout(total=10)
    pending: set[asyncio.Task[None]] = set()

    async def one(http: aiohttp.ClientSession, url: str) -> None:
        async with gate:
            try:
                async with http.get(url) as resp:
                    await resp.read()
                    if 200 <= resp.status < 300:
                        counts["ok"] += 1
                        return
                    reason = f"HTTP {resp.status}"
            except (TimeoutError, aiohttp.ClientError, OSError) as e:
                reason = type(e).__name__
            counts["failed"] += 1
            failures[reason] = failures.get(reason, 0) + 1

    async with aiohttp.ClientSession(timeout=timeout,
                                     connector=aiohttp.TCPConnector(limit=64)) as http:
        start = time.perf_counter()
        while not stop.is_set():
            due = int((time.perf_counter() - start) * rate)
            while counts["sent"] < due:
                task = asyncio.create_task(one(http, urls[counts["sent"] % len(urls)]))
                pending.add(task)
                task.add_done_callback(pending.discard)
                counts["sent"] += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TICK)
        seconds = time.perf_counter() - start
        if pending:
            await asyncio.wait(pending, timeout=10)
    out.write_text(json.dumps({
        **counts, "seconds": round(seconds, 3),
        "achieved_rps": round(counts["ok"] / seconds, 1) if seconds else 0.0,
        "failures": failures,
    }))


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: load_process.py RATE OUT.json URL [URL ...]")
    asyncio.run(main(float(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]))
