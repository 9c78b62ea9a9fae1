"""Deploys under traffic, and acked ops surviving `kill -9`."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import aiohttp
from runtime_harness import EditorSession, RuntimeProcess, run, running

from shared_ast import build as b
from shared_ast import wire
from shared_ast.ops import CreateToplevel, ReplaceNode


def test_every_response_under_redeploys_is_old_or_new_and_none_fails(tmp_path: Path) -> None:
    literal = b.int_(0)
    handler = b.http("GET", "/version", literal)
    with running(tmp_path / "data", ["--workers", "2"]) as rt:

        async def scenario() -> tuple[list[list[tuple[float, int, object]]],
                                      list[tuple[float, int]], int]:
            async with aiohttp.ClientSession() as http:
                ed = await EditorSession.open(http, rt)
                await ed.deploy([CreateToplevel(handler)])
                stop = asyncio.Event()
                # Per client: (when the request started, status, version answered).
                seen: list[list[tuple[float, int, object]]] = [[] for _ in range(3)]
                acked: list[tuple[float, int]] = [(time.monotonic(), 0)]

                async def hammer(answers: list[tuple[float, int, object]]) -> None:
                    url = f"{rt.http}/c/demo/version"
                    while not stop.is_set():
                        started = time.monotonic()
                        async with http.get(url) as resp:
                            answers.append((started, resp.status, await resp.json()))
                        # Steady traffic, not a flood: this test is about atomicity, the
                        # throughput figures belong to benchmarks/.
                        await asyncio.sleep(0.002)

                clients = [asyncio.create_task(hammer(answers)) for answers in seen]
                current = literal
                deploys = 60
                for version in range(1, deploys + 1):
                    new = b.int_(version)
                    ack = await ed.deploy([ReplaceNode(handler.tlid, current.id, current, new)])
                    assert ack["type"] == "ack", ack
                    acked.append((time.monotonic(), version))
                    current = new
                    await asyncio.sleep(0.005)
                stop.set()
                await asyncio.gather(*clients)
                await ed.ws.close()
                return seen, acked, deploys

        seen, acked, deploys = run(scenario())
    answers = [a for client in seen for a in client]
    assert len(answers) > deploys
    assert [a for a in answers if a[1] != 200] == []  # none fails
    assert {v for _, _, v in answers} <= set(range(deploys + 1))  # each is some version
    # What the ack promises: a request that starts after an ack never runs older code;
    # so each client, whose requests follow one another, never goes back past an ack.
    for client in seen:
        for started, _, value in client:
            floor = max(v for at, v in acked if at <= started)
            assert isinstance(value, int) and value >= floor, (started, value, floor)
    # And the traffic really spanned the deploys.
    assert max(v for _, _, v in answers) >= deploys - 1


def test_acked_ops_survive_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    acked: list[int] = []
    handlers = [b.http("GET", f"/k{i}", i) for i in range(40)]
    rt = RuntimeProcess(data).start()
    try:

        async def scenario() -> None:
            async with aiohttp.ClientSession() as http:
                ed = await EditorSession.open(http, rt)
                for h in handlers:
                    reply = await ed.deploy([CreateToplevel(h)])
                    assert reply["type"] == "ack"
                    acked.append(h.tlid)
                # Kill the daemon the instant the last ack arrives.
                rt.kill9()

        run(scenario())
    finally:
        rt.stop()
    with sqlite3.connect(data / "gloam.sqlite3") as conn:
        stored = {row[0] for row in conn.execute("SELECT tlid FROM toplevels")}
    assert set(acked) <= stored
    with running(data) as again:
        for i in (0, 17, 39):
            assert again.get(f"/k{i}") == (200, i)

        async def hello() -> dict:
            async with aiohttp.ClientSession() as http:
                ed = await EditorSession.open(http, again)
                await ed.ws.close()
                return ed.hello

        tlids = {wire.decode_toplevel(t).tlid for t in run(hello())["toplevels"]}
        assert set(acked) <= tlids


def test_op_log_records_author_time_and_sequence(tmp_path: Path) -> None:
    with running(tmp_path / "data") as rt:

        async def scenario() -> int:
            async with aiohttp.ClientSession() as http:
                ed = await EditorSession.open(http, rt)
                reply = await ed.deploy([CreateToplevel(b.http("GET", "/logged", 1))])
                await ed.ws.close()
                return int(reply["seq"])

        seq = run(scenario())
    with sqlite3.connect(tmp_path / "data" / "gloam.sqlite3") as conn:
        row = conn.execute(
            "SELECT author, at, ops_json FROM oplog WHERE canvas = 'demo' AND seq = ?", [seq]
        ).fetchone()
    author, at, ops_json = row
    assert author == "test" and at > 0
    assert wire.decode_ops(json.loads(ops_json))[0].toplevel.spec.route == "/logged"
