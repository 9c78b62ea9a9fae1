"""Fan-out: an op sent to node A → every one of 3 nodes on one PostgreSQL database serving it.

Goal: p50 ≤ 5 ms, p99 ≤ 20 ms.

Setup: a throwaway PostgreSQL cluster (`tests/pg_cluster.PgCluster`, fsync on,
on this machine's disk) and three real `gloam runtime serve` nodes on one
database of it, as `tests/test_runtime_nodes.py` starts them: A creates the
demo canvas, B and C (`--no-demo`) find it in the database; the editor's token
comes from A's data folder. Each node runs `--workers 1` (one traffic worker
and its control process: six runtime processes plus the server, the load
generator and this script already share the 2 cores). Otherwise the runtime's
defaults, locking on (`common.default_settings()`: the default lock window,
which the test harness would otherwise turn off).

The edit: `GET /fan` answers an Int behind a feature flag whose condition is
a request header (`common.flagged_handler`). A separate process
(`load_process.py`) sends `LOAD_RPS` requests a second, spread over the three
nodes, to `/hello`, `/sum/1/2` and `/fan` without the header, so `/fan` is a
handler with traffic and locked: before timing, the benchmark checks that an
edit of its live branch is refused as in use. Each of `DEPLOYS` deploys (after
`WARMUP` untimed ones) replaces the literal in the flag's new branch with the
next number (the edit the lock allows: what a programmer does to change code
that serves traffic), one `ReplaceNode` op encoded before the clock starts.

Timing: the clock starts just before the op is written to A's editor
websocket; three probes, one per node, then poll `GET /fan` with the header
back to back over keep-alive connections (aiohttp, one event loop), and a
node has it at the first response showing the new number. The fan-out time
of a deploy is the last node's; the ack time is send → ack on A's websocket.
Node A's own time is the baseline: the edit-to-live on the node the edit was
made on, in the same run.

The probes compete with the nodes for the 2 cores (three back-to-back HTTP
loops), so the last `AFTER_ACK` deploys are timed apart with the probes
started only once A has acked: `fanout_probe_after_ack_*`. Still an upper
bound on when every node served the new code (a node that had it before the
ack answers it on its first probe), and not in the headline figures.
"""

from __future__ import annotations

import asyncio
import json
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

DEPLOYS = 150
WARMUP = 5
AFTER_ACK = 50
LOAD_RPS = 100
NODES = ("a", "b", "c")
HERE = Path(__file__).resolve().parent


async def _probe(http: aiohttp.ClientSession, url: str, want: int,
                 deadline: float) -> tuple[float, int]:
    """Poll `url` (with the beta header) until it answers `want`; (when, in perf_counter ms,
    and how many probes did not answer 200)."""
    failed = 0
    while time.perf_counter() < deadline:
        try:
            async with http.get(url, headers=common.BETA_HEADER) as resp:
                if resp.status != 200:
                    failed += 1
                    await resp.read()
                    continue
                if await resp.json() == want:
                    return common.now_ms(), failed
        except (aiohttp.ClientError, OSError):
            failed += 1
            await asyncio.sleep(0.001)
    raise RuntimeError(f"{url} did not answer {want} in time")


async def _until_serving(http: aiohttp.ClientSession, url: str, timeout: float = 20) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            async with http.get(url) as resp:
                if resp.status == 200:
                    return
                await resp.read()
        except (aiohttp.ClientError, OSError):
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} never answered 200")


async def fanout(nodes: dict[str, Any], tmp: Path) -> dict[str, Any]:
    from runtime_harness import EditorSession

    a = nodes["a"]
    handler, literal = common.flagged_handler("/fan")
    urls = {n: f"{rt.http}/c/demo/fan" for n, rt in nodes.items()}
    per_node: dict[str, list[float]] = {n: [] for n in NODES}
    fan: list[float] = []
    acks: list[float] = []
    quiet_fan: list[float] = []
    quiet_acks: list[float] = []
    probe_failed = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        ed = await EditorSession.open(http, a, token=a.token())
        ack = await ed.deploy([CreateToplevel(handler)])
        if ack["type"] != "ack":
            raise RuntimeError(f"creating /fan was refused: {ack}")
        for url in urls.values():
            await _until_serving(http, url)
        load_urls = [f"{rt.http}/c/demo{path}" for path in ("/hello", "/sum/1/2", "/fan")
                     for rt in nodes.values()]
        out = tmp / "fanout-load.json"
        background = subprocess.Popen([sys.executable, str(HERE / "load_process.py"),
                                       str(LOAD_RPS), str(out), *load_urls])
        try:
            await asyncio.sleep(1.5)  # the load reaches its rate, and /fan has traffic
            refusal = await common.expect_locked(ed, handler)
            current = literal
            for version in range(1, WARMUP + DEPLOYS + AFTER_ACK + 1):
                new = b.int_(version)
                op = ReplaceNode(handler.tlid, current.id, current, new)
                msg_id = f"f{version}"
                payload = json.dumps({"schema": wire.SCHEMA_VERSION, "id": msg_id,
                                      "type": "ops", "ops": wire.encode_ops([op])})

                async def ack_time(msg_id: str = msg_id) -> tuple[float, dict[str, Any]]:
                    while True:  # broadcasts to this session are skipped; other replies too
                        reply = await ed.receive()
                        if reply.get("id") == msg_id:
                            return common.now_ms(), reply

                # The last AFTER_ACK deploys probe only once A has acked (see the docstring).
                after_ack = version > WARMUP + DEPLOYS
                deadline = time.perf_counter() + 30
                start = common.now_ms()
                await ed.ws.send_str(payload)
                if after_ack:
                    acked = await ack_time()
                    seen = await asyncio.gather(
                        *(_probe(http, urls[n], version, deadline) for n in NODES))
                else:
                    acked, *seen = await asyncio.gather(
                        ack_time(), *(_probe(http, urls[n], version, deadline) for n in NODES))
                if acked[1]["type"] != "ack":
                    raise RuntimeError(f"deploy {version} was refused: {acked[1]}")
                current = new
                last = max(when for when, _ in seen) - start
                if after_ack:
                    quiet_acks.append(acked[0] - start)
                    quiet_fan.append(last)
                elif version > WARMUP:
                    acks.append(acked[0] - start)
                    for n, (when, failed) in zip(NODES, seen, strict=True):
                        per_node[n].append(when - start)
                        probe_failed += failed
                    fan.append(last)
                await asyncio.sleep(0.02)
        finally:
            background.send_signal(signal.SIGTERM)
            background.wait(timeout=30)
        load = json.loads(out.read_text())
        await ed.ws.close()
    return {"fan": fan, "acks": acks, "quiet_fan": quiet_fan, "quiet_acks": quiet_acks,
            "per_node": per_node, "probe_failed": probe_failed,
            "load": load, "refusal": refusal}


def main() -> dict[str, object]:
    from pg_cluster import PgCluster
    from runtime_harness import RuntimeProcess

    settings = common.default_settings()
    with tempfile.TemporaryDirectory(prefix="gloam-bench-fanout-") as tmpdir, \
            PgCluster() as cluster:
        tmp = Path(tmpdir)
        url = cluster.create_database()
        nodes: dict[str, Any] = {}
        try:
            for name in NODES:
                (tmp / name).mkdir()
                extra = ["--store", url, "--workers", "1", *settings]
                if name != "a":
                    extra.append("--no-demo")  # A created the demo canvas in the database
                nodes[name] = RuntimeProcess(tmp / name, extra).start()
            workers = {n: common.traffic_workers(rt) for n, rt in nodes.items()}
            got = asyncio.run(fanout(nodes, tmp))
        finally:
            for rt in nodes.values():
                rt.stop()
    f = common.spread(got["fan"])
    ack = common.spread(got["acks"])
    quiet = common.spread(got["quiet_fan"])
    quiet_ack = common.spread(got["quiet_acks"])
    node = {n: common.spread(v) for n, v in got["per_node"].items()}
    load = got["load"]
    figures: dict[str, object] = {
        "fanout_setup": (f"3 nodes on one PostgreSQL database (fsync on), --workers 1 each, "
                         f"default lock window {settings[-1]} s; edit inside a feature flag's "
                         f"new branch of a handler with traffic (locked)"),
        "fanout_nodes": len(nodes),
        "fanout_workers_per_node": workers["a"],
        "fanout_count": len(got["fan"]),
        "fanout_p50_ms": f["p50"],
        "fanout_p99_ms": f["p99"],
        "fanout_max_ms": f["max"],
        "fanout_ack_p50_ms": ack["p50"],
        "fanout_ack_p99_ms": ack["p99"],
        **{f"fanout_node_{n}_p50_ms": node[n]["p50"] for n in NODES},
        **{f"fanout_node_{n}_p99_ms": node[n]["p99"] for n in NODES},
        "fanout_over_local_p50": common.ratio(f["p50"], node["a"]["p50"]),
        "fanout_probe_after_ack_count": len(got["quiet_fan"]),
        "fanout_probe_after_ack_p50_ms": quiet["p50"],
        "fanout_probe_after_ack_p99_ms": quiet["p99"],
        "fanout_probe_after_ack_ack_p50_ms": quiet_ack["p50"],
        "fanout_lock_verified": bool(got["refusal"]),
        "fanout_probe_failed_requests": got["probe_failed"],
        "fanout_background_requests": load["sent"],
        "fanout_background_failed": load["failed"],
        "fanout_background_rps": load["achieved_rps"],
        "fanout_p50_target_met": f["p50"] <= 5.0,
        "fanout_p99_target_met": f["p99"] <= 20.0,
    }
    met = f["p50"] <= 5.0 and f["p99"] <= 20.0 and load["failed"] == 0
    figures["fanout_target_met"] = met
    summary = (f"op on A to live on all 3 nodes over {len(got['fan'])} deploys under "
               f"{load['achieved_rps']} rps: p50 {f['p50']} ms, p99 {f['p99']} ms, max "
               f"{f['max']} ms (ack p50 {ack['p50']} ms; per node p50 "
               + ", ".join(f"{n.upper()} {node[n]['p50']}" for n in NODES)
               + f"); {load['failed']} failed requests; target p50 ≤ 5 ms, p99 ≤ 20 ms "
               + ("met" if met else "NOT met"))
    common.report("fanout", figures, summary)
    return figures


if __name__ == "__main__":
    main()
