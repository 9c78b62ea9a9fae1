"""Three runtime nodes on one PostgreSQL database: what a deploy on one does on the others.

Each node is a real `gloam runtime serve` process (a control process and its
traffic worker) with its own ports and data folder, as if on its own machine.
Node B reaches the database through a proxy the tests can cut, so B alone can
lose its connection and miss deploys made on A meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pg_cluster import PgCluster
from runtime_harness import (
    EditorSession,
    RuntimeProcess,
    admin_status,
    eventually,
    http_request,
    run,
)
from tcp_proxy import CutProxy

from shared_ast import build as b
from shared_ast.ops import CreateToplevel, ReplaceNode
from shared_ast.type_ast import STRING


class Nodes:
    def __init__(self, cluster: PgCluster, root: Path) -> None:
        self.url = cluster.create_database()
        self.proxy = CutProxy(cluster.port)
        self.root = root
        self.a = self.start("a", self.url)
        self.b = self.start("b", self.proxy.url(self.url))
        self.c = self.start("c", self.url)

    def start(self, name: str, url: str) -> RuntimeProcess:
        # The first node creates the demo canvas; the others find it in the database.
        extra = ["--store", url, "--workers", "1"] + ([] if name == "a" else ["--no-demo"])
        return RuntimeProcess(self.root / name, extra).start()

    @property
    def token(self) -> str:
        return self.a.token()  # the canvas's token, wherever it was created

    def all(self) -> list[RuntimeProcess]:
        return [self.a, self.b, self.c]

    def close(self) -> None:
        for node in self.all():
            node.stop()
        self.proxy.close()


@pytest.fixture
def nodes(pg_cluster: PgCluster, tmp_path: Path) -> Iterator[Nodes]:
    group = Nodes(pg_cluster, tmp_path)
    try:
        yield group
    finally:
        group.close()


async def deploy_on(node: RuntimeProcess, token: str, ops: list[Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        ed = await EditorSession.open(http, node, token=token)
        ack = await ed.deploy(ops)
        await ed.ws.close()
        return ack


def test_a_deploy_on_one_node_goes_live_on_every_node_and_reaches_their_editors(
    nodes: Nodes,
) -> None:
    handler = b.http("GET", "/n", 1)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        async with aiohttp.ClientSession() as http:
            on_b = await EditorSession.open(http, nodes.b, token=nodes.token)
            on_c = await EditorSession.open(http, nodes.c, token=nodes.token)
            ack = await deploy_on(nodes.a, nodes.token, [CreateToplevel(handler)])
            assert ack["type"] == "ack", ack
            seen_b, seen_c = await on_b.receive(), await on_c.receive()
            assert seen_b["type"] == seen_c["type"] == "broadcast"
            assert seen_b["seq"] == seen_c["seq"] == ack["seq"]
            # And back: an edit made on C reaches B's editor and A's traffic.
            ack2 = await on_c.deploy([ReplaceNode(handler.tlid, handler.body.id, handler.body,
                                                  b.int_(2))])
            assert ack2["type"] == "ack" and ack2["seq"] == ack["seq"] + 1, ack2
            again = await on_b.receive()
            await on_b.ws.close()
            await on_c.ws.close()
            return again, ack2

    again, ack2 = run(scenario())
    assert again["type"] == "broadcast" and again["seq"] == ack2["seq"]
    for node in nodes.all():
        assert eventually(lambda n=node: n.get("/n") == (200, 2)), node.data_dir


def test_a_node_cut_off_keeps_serving_refuses_deploys_and_catches_up(nodes: Nodes) -> None:
    nodes.proxy.cut()
    handler = b.http("GET", "/while-away", "made on A")
    ack = run(deploy_on(nodes.a, nodes.token, [CreateToplevel(handler)]))
    assert ack["type"] == "ack"
    # B keeps serving the code it has, and says it cannot reach the database.
    assert nodes.b.get("/hello") == (200, "Hello from Gloam!\n")
    assert nodes.b.get("/while-away")[0] == 404
    assert eventually(lambda: admin_status(nodes.b)["store_available"] is False)

    # An editor cannot open a session on B meanwhile: it is told why, not just refused.
    status, body = http_request("GET", f"{nodes.b.editor}/api/canvas/demo/ws",
                                headers={"Authorization": f"Bearer {nodes.token}"})
    assert status == 503 and "unreachable" in str(body), (status, body)
    nodes.proxy.restore()
    # Back: B catches up from the ops log, without any new deploy to tell it.
    assert eventually(lambda: nodes.b.get("/while-away") == (200, "made on A")), \
        nodes.b.log()
    assert eventually(lambda: admin_status(nodes.b)["store_available"] is True)
    ack = run(deploy_on(nodes.b, nodes.token, [CreateToplevel(b.http("GET", "/from-b", 7))]))
    assert ack["type"] == "ack", ack
    assert eventually(lambda: nodes.a.get("/from-b") == (200, 7))


def test_a_deploy_refused_while_the_database_is_away_says_so(nodes: Nodes) -> None:
    async def scenario() -> dict[str, Any]:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, nodes.b, token=nodes.token)
            nodes.proxy.cut()
            got = await ed.deploy([CreateToplevel(b.http("GET", "/x", 1))])
            nodes.proxy.restore()
            await ed.ws.close()
            return got

    got = run(scenario())
    assert got["type"] == "error"
    assert "unreachable" in got["message"] and "Nothing was changed" in got["message"]
    assert nodes.a.get("/x")[0] == 404


def test_a_queue_event_is_processed_once_across_nodes(nodes: Nodes) -> None:
    toplevels = [
        b.datastore("Runs", STRING),
        b.http("POST", "/jobs/:name", b.call("Emit::emit_v0", b.var("name"), "jobs")),
        # Each run stores a row under a fresh key: a second run of an event shows as a
        # second row with its name.
        b.worker("jobs", b.call("DB::set_v1", b.var("event"),
                                b.call("Uuid::toString_v0", b.call("Uuid::generate_v0")),
                                b.var("Runs_v0"))),
        b.http("GET", "/runs", b.call("DB::getAll_v3", b.var("Runs_v0"))),
    ]
    assert run(deploy_on(nodes.a, nodes.token, [CreateToplevel(t) for t in toplevels])
               )["type"] == "ack"
    for node in nodes.all():
        assert eventually(lambda n=node: n.get("/runs") == (200, []))
    names = [f"e{i}" for i in range(30)]
    for i, name in enumerate(names):
        assert nodes.all()[i % 3].request("POST", f"/jobs/{name}")[0] == 200
    assert eventually(lambda: len(nodes.c.get("/runs")[1]) >= 30)
    time.sleep(1.0)  # a duplicate run would land by now
    assert sorted(nodes.a.get("/runs")[1]) == sorted(names)


def test_kill_9_of_a_node_loses_no_acked_op_and_traffic_on_any_node_locks(
    nodes: Nodes, tmp_path: Path,
) -> None:
    handler = b.http("GET", "/kept", 1)
    ack = run(deploy_on(nodes.a, nodes.token, [CreateToplevel(handler)]))
    assert ack["type"] == "ack"
    nodes.a.kill9()
    assert eventually(lambda: nodes.c.get("/kept") == (200, 1))
    nodes.a = RuntimeProcess(nodes.root / "a",
                             ["--store", nodes.url, "--workers", "1", "--no-demo",
                              "--lock-window", "3600"]).start()
    assert nodes.a.get("/kept") == (200, 1)
    # Traffic seen on C locks the handler for an edit made through A.
    assert nodes.c.get("/kept") == (200, 1)

    async def locked_on_a() -> list[int]:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, nodes.a, token=nodes.token)
            got = await ed.reply({"type": "get_in_use"})
            await ed.ws.close()
            return [entry["tlid"] for entry in got["locked"]]

    assert eventually(lambda: handler.tlid in run(locked_on_a()), timeout=15)
    got = run(deploy_on(nodes.a, nodes.token,
                        [ReplaceNode(handler.tlid, handler.body.id, handler.body, b.int_(5))]))
    assert got["type"] == "error" and "in use" in got["message"], got
    assert nodes.a.get("/kept") == (200, 1)
