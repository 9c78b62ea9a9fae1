"""Memory: runtime resident memory with 200 handlers and 10,000 stored traces (target < 200 MB).

A real `gloam runtime serve` process with the demo canvas: a control process
and its traffic workers (the default count). The RSS of all of them (VmRSS
from /proc, added up) is read once they are up and idle: that is the
baseline; the control process and the largest worker are reported apart. Then 200
handlers (about 30 nodes each) are created through the editor websocket as one
batch, 50 requests go to each (10,000 requests, every one stored as a trace;
the runtime keeps the last 100 per handler, so all are kept), the trace file
is counted, and RSS is read again.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

import common
from programs import sized_handler

HANDLERS = 200
REQUESTS_EACH = 50


def main() -> dict[str, object]:
    from runtime_harness import create_toplevels

    with tempfile.TemporaryDirectory(prefix="gloam-bench-mem-") as tmp:
        data = Path(tmp) / "data"
        with common.runtime(data) as rt:
            time.sleep(1.0)
            idle = common.tree_rss_mb(rt.proc.pid)
            handlers = [sized_handler(30, i) for i in range(HANDLERS)]
            create_toplevels(rt, handlers)
            after_deploy = common.tree_rss_mb(rt.proc.pid)
            urls = [f"{rt.http}/c/demo/h{i}/{k}"
                    for k in range(REQUESTS_EACH) for i in range(HANDLERS)]
            start = time.perf_counter()
            answers = asyncio.run(common.fetch_all(urls, concurrency=8))
            seconds = time.perf_counter() - start
            failed = sum(1 for status, _ in answers if status != 200)
            time.sleep(2.0)  # traces are written in batches; let the last one land
            with sqlite3.connect(data / "gloam-traces.sqlite3") as conn:
                traces = conn.execute("SELECT count(*) FROM traces").fetchone()[0]
            loaded = common.tree_rss_mb(rt.proc.pid)
            processes = common.process_tree(rt.proc.pid)
            control = common.rss_mb(rt.proc.pid)
            largest_worker = max(common.rss_mb(p) for p in processes[1:])
    figures = {
        "runtime_rss_mb": loaded,
        "runtime_processes": len(processes),
        "runtime_rss_control_mb": control,
        "runtime_rss_largest_worker_mb": largest_worker,
        "runtime_rss_idle_demo_mb": idle,
        "runtime_rss_after_deploy_mb": after_deploy,
        "runtime_rss_ratio_vs_idle": common.ratio(loaded, idle),
        "memory_handlers": HANDLERS,
        "memory_requests": len(answers),
        "memory_failed_requests": failed,
        "memory_stored_traces": traces,
        "memory_requests_per_s": round(len(answers) / seconds, 1),
        "memory_target_met": loaded < 200.0,
    }
    common.report(
        "memory", figures,
        f"runtime RSS {loaded} MB in {len(processes)} processes (control {control}, largest "
        f"worker {largest_worker}) with {HANDLERS} handlers and {traces} stored traces "
        f"(idle with the demo canvas: {idle} MB, ratio {figures['runtime_rss_ratio_vs_idle']}); "
        "target < 200 MB " + ("met" if figures["memory_target_met"] else "NOT met"),
    )
    return figures


if __name__ == "__main__":
    main()
