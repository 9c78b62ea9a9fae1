"""Edit to live: op sent → first HTTP response with the new code (target p50 ≤ 3, p99 ≤ 10 ms).

Gloam: a real `gloam runtime serve` process with the demo canvas plus
`GET /version`, on the runtime's defaults: its default traffic workers
(max(2, cores): 2 here) and locking on (`common.default_settings()`, the
default lock window, which the test harness would otherwise turn off).
`/version` answers an Int behind a feature flag whose condition is a request
header (`common.flagged_handler`). A separate process (`load_process.py`)
sends `LOAD_RPS` requests a second to `/hello`, `/sum/1/2`, `/square/7` and
`/version` (without the header) for the whole run, so `/version` is a handler
with traffic and locked: before timing, the benchmark checks that an edit of
its live branch is refused as in use. Each of `DEPLOYS` deploys replaces the
literal in the flag's new branch with the next number (the edit the lock
allows on code that serves traffic) through the editor websocket (one
`ReplaceNode` op, encoded before the clock starts); the clock starts just
before the op is written to the socket and stops when a `GET /version` with
the header, polled back to back from the start, answers the new number.
Commits are durable (the runtime acks after a `synchronous=FULL` commit and
serves new code only after it). Failed requests are the background
process's failures (probes that did not answer 200 are counted apart). The
same is then run on a runtime with `--workers 1` (`DEPLOYS_1_WORKER` deploys)
for comparison: a deploy is live only once every worker has swapped it in.

Baseline: the same `/version` handler in a plain aiohttp app
(`native_app.py`) under watchfiles' `run_process` reloader (what `uvicorn
--reload` uses), with the same background load sent to its `/other`. Each of
`RELOADS` edits rewrites `VERSION = N` in the app file on disk; the clock runs
from the write to the first `GET /version` answering N. Failed requests are
the background's, as above; probes refused while the app restarts (polled
every millisecond) are counted apart.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import common

from shared_ast import build as b
from shared_ast import wire
from shared_ast.ops import CreateToplevel, ReplaceNode

DEPLOYS = 200
DEPLOYS_1_WORKER = 100
RELOADS = 20
LOAD_RPS = 550  # the issue asks for at least 500; a margin for pacing jitter
HERE = Path(__file__).resolve().parent


class Background:
    """The load process: started before the timed loop, stopped after it, its counts read."""

    def __init__(self, urls: list[str], out: Path) -> None:
        self.out = out
        self.proc = subprocess.Popen([sys.executable, str(HERE / "load_process.py"),
                                      str(LOAD_RPS), str(out), *urls])

    def stop(self) -> dict[str, Any]:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        return json.loads(self.out.read_text())


async def _probe(http: aiohttp.ClientSession, url: str, want: int,
                 deadline: float, headers: dict[str, str] | None = None) -> tuple[float, int]:
    """Poll `url` until it answers `want`; (when it did, in perf_counter ms) and failed probes."""
    failed = 0
    while time.perf_counter() < deadline:
        try:
            async with http.get(url, headers=headers) as resp:
                if resp.status != 200:
                    failed += 1
                    continue
                if await resp.json() == want:
                    return common.now_ms(), failed
        except (aiohttp.ClientError, OSError):
            failed += 1
            await asyncio.sleep(0.001)  # refused while restarting: do not spin the CPU
    raise RuntimeError(f"{url} did not answer {want} in time")


async def gloam_deploys(rt: Any, tmp: Path, deploys: int) -> dict[str, Any]:
    from runtime_harness import EditorSession

    handler, literal = common.flagged_handler("/version")
    url = f"{rt.http}/c/demo/version"
    times: list[float] = []
    acks: list[float] = []
    probe_failed = 0
    async with aiohttp.ClientSession() as http:
        ed = await EditorSession.open(http, rt)
        ack = await ed.deploy([CreateToplevel(handler)])
        if ack["type"] != "ack":
            raise RuntimeError(f"creating /version was refused: {ack}")
        background = Background([f"{rt.http}/c/demo/hello", f"{rt.http}/c/demo/sum/1/2",
                                 f"{rt.http}/c/demo/square/7", url],
                                tmp / f"gloam-load-{deploys}.json")
        try:
            await asyncio.sleep(1.0)  # let the load reach its rate before timing
            await common.expect_locked(ed, handler)  # /version has traffic: it is locked
            current = literal
            for version in range(1, deploys + 1):
                new = b.int_(version)
                op = ReplaceNode(handler.tlid, current.id, current, new)
                msg_id = f"d{version}"
                payload = json.dumps({"schema": wire.SCHEMA_VERSION, "id": msg_id, "type": "ops",
                                      "ops": wire.encode_ops([op])})
                start = common.now_ms()
                await ed.ws.send_str(payload)
                seen, failed = await _probe(http, url, version, time.perf_counter() + 30,
                                            common.BETA_HEADER)
                times.append(seen - start)
                probe_failed += failed
                while True:  # the ack (broadcasts to this session are skipped)
                    reply = await ed.receive()
                    if reply.get("id") == msg_id:
                        break
                acks.append(common.now_ms() - start)
                if reply["type"] != "ack":
                    raise RuntimeError(f"deploy {version} was refused: {reply}")
                current = new
                await asyncio.sleep(0.01)
        finally:
            load = background.stop()
        await ed.ws.close()
    return {"times": times, "acks": acks, "probe_failed": probe_failed, "load": load}


def _write_app(path: Path, version: int) -> None:
    source = (HERE / "native_app.py").read_text()
    path.write_text(source.replace("VERSION = 0", f"VERSION = {version}", 1))


async def reloader_edits(tmp: Path) -> dict[str, Any]:
    app_dir = tmp / "app"
    app_dir.mkdir()
    app = app_dir / "app.py"
    _write_app(app, 0)
    port = common.free_port()
    reloader = subprocess.Popen(
        [sys.executable, "-m", "watchfiles", "--filter", "python",
         f"{sys.executable} {app} {port}", str(app_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    times: list[float] = []
    probe_failed = 0
    try:
        async with aiohttp.ClientSession() as http:
            await _probe(http, f"{base}/version", 0, time.perf_counter() + 30)
            background = Background([f"{base}/other"], tmp / "reload-load.json")
            try:
                await asyncio.sleep(1.0)
                for version in range(1, RELOADS + 1):
                    start = common.now_ms()
                    _write_app(app, version)
                    seen, failed = await _probe(http, f"{base}/version", version,
                                                time.perf_counter() + 60)
                    times.append(seen - start)
                    probe_failed += failed
                    await asyncio.sleep(0.3)
            finally:
                load = background.stop()
    finally:
        os.killpg(reloader.pid, signal.SIGTERM)
        reloader.wait(timeout=30)
    return {"times": times, "probe_failed": probe_failed, "load": load}


def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="gloam-bench-deploy-") as tmpdir:
        tmp = Path(tmpdir)
        settings = common.default_settings()
        with common.runtime(tmp / "data", settings) as rt:  # the default worker count
            workers = common.traffic_workers(rt)
            gloam = asyncio.run(gloam_deploys(rt, tmp, DEPLOYS))
        with common.runtime(tmp / "data1", [*settings, "--workers", "1"]) as rt:
            one = asyncio.run(gloam_deploys(rt, tmp, DEPLOYS_1_WORKER))
        try:
            import watchfiles  # noqa: F401
        except ImportError:
            reload = None
            print("   watchfiles is not installed (`pip install -e '.[bench]'`): "
                  "the reloader baseline did not run")
        else:
            reload = asyncio.run(reloader_edits(tmp))
    g = common.spread(gloam["times"])
    g1 = common.spread(one["times"])
    a = common.spread(gloam["acks"])
    load = gloam["load"]
    failed = load["failed"]
    figures: dict[str, object] = {
        "deploy_setup": (f"SQLite, runtime defaults: {workers} traffic workers, lock window "
                         f"{settings[-1]} s; edit inside a feature flag's new branch of a "
                         "handler with traffic (locked)"),
        "deploy_workers": workers,
        "deploy_count": len(gloam["times"]),
        "deploy_p50_ms": g["p50"],
        "deploy_p99_ms": g["p99"],
        "deploy_max_ms": g["max"],
        "deploy_ack_p50_ms": a["p50"],
        "deploy_ack_p99_ms": a["p99"],
        "deploy_failed_requests": failed,
        "deploy_probe_failed_requests": gloam["probe_failed"],
        "deploy_background_requests": load["sent"],
        "deploy_background_failed": load["failed"],
        "deploy_background_rps": load["achieved_rps"],
        "deploy_count_1_worker": len(one["times"]),
        "deploy_p50_ms_1_worker": g1["p50"],
        "deploy_p99_ms_1_worker": g1["p99"],
        "deploy_ack_p50_ms_1_worker": common.spread(one["acks"])["p50"],
        "deploy_background_failed_1_worker": one["load"]["failed"],
    }
    summary = (f"edit to live over {len(gloam['times'])} deploys under "
               f"{load['achieved_rps']} rps, {workers} workers, locking on: p50 {g['p50']} ms, "
               f"p99 {g['p99']} ms, max {g['max']} ms, {failed} failed requests "
               f"(1 worker: p50 {g1['p50']} ms, p99 {g1['p99']} ms)")
    if reload is not None:
        r = common.spread(reload["times"])
        rload = reload["load"]
        rfailed = rload["failed"]
        figures.update({
            "reload_baseline": "aiohttp app under watchfiles run_process (default settings)",
            "reload_baseline_count": len(reload["times"]),
            "reload_baseline_p50_ms": r["p50"],
            "reload_baseline_p99_ms": r["p99"],
            "reload_baseline_max_ms": r["max"],
            "reload_baseline_failed_requests": rfailed,
            "reload_baseline_probe_failed_requests": reload["probe_failed"],
            "reload_baseline_background_requests": rload["sent"],
            "reload_baseline_background_failed": rload["failed"],
            "reload_baseline_background_rps": rload["achieved_rps"],
            "deploy_speedup_vs_reload_p50": common.ratio(r["p50"], g["p50"]),
        })
        summary += (f"; reloader baseline p50 {r['p50']} ms with {rfailed} failed requests, "
                    f"Gloam {figures['deploy_speedup_vs_reload_p50']}x faster at the median")
    met = (g["p50"] <= 3.0 and g["p99"] <= 10.0 and failed == 0
           and float(figures.get("deploy_speedup_vs_reload_p50", 0)) >= 50)  # type: ignore[arg-type]
    figures["deploy_target_met"] = met
    figures["deploy_p50_target_met"] = g["p50"] <= 3.0 and float(
        figures.get("deploy_speedup_vs_reload_p50", 0)) >= 50  # type: ignore[arg-type]
    figures["deploy_p99_target_met"] = g["p99"] <= 10.0
    summary += "; target p50 ≤ 3 ms, p99 ≤ 10 ms, 0 failed, ≥ 50x " + ("met" if met else "NOT met")
    common.report("deploy", figures, summary)
    return figures


if __name__ == "__main__":
    main()
