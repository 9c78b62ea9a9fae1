"""The editor API against a real runtime: deploy by ops, see it live, refuse bad input."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import aiohttp
import pytest
from runtime_harness import EditorSession, RuntimeProcess, http_request, run, running

from shared_ast import build as b
from shared_ast import wire
from shared_ast.ops import CreateToplevel, ReplaceNode, SetName


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> RuntimeProcess:
    with running(tmp_path_factory.mktemp("rt") / "data") as proc:
        yield proc


def oplog_rows(rt: RuntimeProcess) -> int:
    with sqlite3.connect(rt.data_dir / "gloam.sqlite3") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM oplog").fetchone()[0])


def test_create_by_ops_then_curl_then_change_one_literal(rt: RuntimeProcess) -> None:
    forty = b.int_(40)
    handler = b.http("GET", "/answer", b.infix("+", forty, 2))

    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, rt)
            ack = await ed.deploy([CreateToplevel(handler)])
            assert ack["type"] == "ack", ack
            assert rt.get("/answer") == (200, 42)
            new = b.int_(100)
            ack2 = await ed.deploy([ReplaceNode(handler.tlid, forty.id, forty, new)])
            assert ack2["type"] == "ack" and ack2["seq"] == ack["seq"] + 1
            assert rt.get("/answer") == (200, 102)
            await ed.ws.close()

    run(scenario())


def test_hello_carries_the_canvas_snapshot(rt: RuntimeProcess) -> None:
    async def scenario() -> dict:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, rt)
            await ed.ws.close()
            return ed.hello

    hello = run(scenario())
    assert hello["type"] == "hello" and hello["canvas"] == "demo"
    routes = {
        (t["spec"].get("method"), t["spec"].get("route"))
        for t in hello["toplevels"]
        if t["kind"] == "handler"
    }
    assert ("GET", "/hello") in routes
    for t in hello["toplevels"]:
        wire.decode_toplevel(t)


@pytest.mark.parametrize("token", ["", "wrong-token"])
def test_a_bad_token_gets_401_and_nothing_else(rt: RuntimeProcess, token: str) -> None:
    async def scenario() -> int:
        async with aiohttp.ClientSession() as http:
            try:
                await http.ws_connect(
                    f"{rt.editor}/api/canvas/demo/ws",
                    headers={"Authorization": f"Bearer {token}"} if token else {},
                )
            except aiohttp.WSServerHandshakeError as e:
                return e.status
            return 101

    assert run(scenario()) == 401


def test_user_traffic_never_reaches_the_editor_api(rt: RuntimeProcess) -> None:
    status, _ = http_request("GET", f"{rt.http}/api/canvas/demo/ws")
    assert status == 404


BAD_MESSAGES = [
    ("not json", "{nope", "not JSON"),
    ("not an object", "[1, 2]", "JSON object"),
    ("no schema", json.dumps({"type": "ops", "ops": []}), "schema"),
    ("unknown type", json.dumps({"schema": 1, "type": "explode"}), "unknown message type"),
    ("ops do not decode", json.dumps({"schema": 1, "type": "ops", "ops": [{"kind": "zap"}]}),
     "zap"),
    ("empty batch", json.dumps({"schema": 1, "type": "ops", "ops": []}), "no ops"),
]


@pytest.mark.parametrize(("name", "text", "expect"), BAD_MESSAGES, ids=[m[0] for m in BAD_MESSAGES])
def test_malformed_messages_get_an_error_and_change_nothing(
    rt: RuntimeProcess, name: str, text: str, expect: str
) -> None:
    before = oplog_rows(rt)

    async def scenario() -> tuple[dict, dict]:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, rt)
            await ed.ws.send_str(text)
            reply = await ed.receive()
            # The connection is still up and answers.
            pong = await ed.reply({"type": "ping"})
            await ed.ws.close()
            return reply, pong

    reply, pong = run(scenario())
    assert reply["type"] == "error"
    assert expect in reply["message"]
    assert pong["type"] == "pong"
    assert oplog_rows(rt) == before


def test_invalid_ops_are_refused_whole_and_name_the_op(rt: RuntimeProcess) -> None:
    ok_handler = b.http("GET", "/batch-ok", 1)
    ghost = b.int_(5)
    before = oplog_rows(rt)

    async def scenario() -> dict:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, rt)
            # The first op is fine, the second addresses a node that does not exist.
            reply = await ed.deploy([
                CreateToplevel(ok_handler),
                ReplaceNode(ok_handler.tlid, 999, ghost, b.int_(6)),
            ])
            await ed.ws.close()
            return reply

    reply = run(scenario())
    assert reply["type"] == "error" and reply["op_index"] == 1
    assert "999" in reply["message"] and "Nothing was changed" in reply["message"]
    assert oplog_rows(rt) == before
    assert rt.get("/batch-ok")[0] == 404


def test_a_stale_op_is_refused(rt: RuntimeProcess) -> None:
    lit = b.str_("one")
    h = b.http("GET", "/stale", lit)

    async def scenario() -> dict:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, rt)
            assert (await ed.deploy([CreateToplevel(h)]))["type"] == "ack"
            two = b.str_("two")
            assert (await ed.deploy([ReplaceNode(h.tlid, lit.id, lit, two)]))["type"] == "ack"
            # A second editor that still believes the literal is "one".
            reply = await ed.deploy([ReplaceNode(h.tlid, lit.id, lit, b.str_("three"))])
            await ed.ws.close()
            return reply

    reply = run(scenario())
    assert reply["type"] == "error"
    assert rt.get("/stale") == (200, "two")


def test_oversized_messages_get_an_error(rt: RuntimeProcess) -> None:
    before = oplog_rows(rt)
    big = json.dumps({"schema": 1, "type": "ping", "pad": "x" * (5 * 1024 * 1024)})

    async def scenario() -> dict:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, rt)
            await ed.ws.send_str(big)
            reply = await ed.receive()
            pong = await ed.reply({"type": "ping"})
            assert pong["type"] == "pong"
            await ed.ws.close()
            return reply

    reply = run(scenario())
    assert reply["type"] == "error" and "larger than" in reply["message"]
    assert oplog_rows(rt) == before


def test_other_editors_get_broadcasts_and_a_reconnect_gets_what_it_missed(
    rt: RuntimeProcess,
) -> None:
    h = b.http("GET", "/shared", "v1")

    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            alice = await EditorSession.open(http, rt)
            bob = await EditorSession.open(http, rt)
            ack = await alice.deploy([CreateToplevel(h)])
            seen = await bob.receive()
            assert seen["type"] == "broadcast" and seen["seq"] == ack["seq"]
            assert wire.decode_ops(seen["ops"]) == [CreateToplevel(h)]
            last_seen = seen["seq"]
            await bob.ws.close()
            # Bob is away while Alice renames the route twice.
            body = h.body
            new_body = b.str_("v2")
            await alice.deploy([ReplaceNode(h.tlid, body.id, body, new_body)])
            v3 = b.str_("v3")
            await alice.deploy([ReplaceNode(h.tlid, new_body.id, new_body, v3)])
            back = await EditorSession.open(http, rt, since=last_seen)
            assert back.hello["resumed_from"] == last_seen
            missed = [await back.receive(), await back.receive()]
            assert [m["seq"] for m in missed] == [last_seen + 1, last_seen + 2]
            await alice.ws.close()
            await back.ws.close()

    run(scenario())
    assert rt.get("/shared") == (200, "v3")


def test_set_name_renames_a_let_live(rt: RuntimeProcess) -> None:
    let = b.let("x", 3, b.var("x"))
    h = b.http("GET", "/rename", let)

    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, rt)
            await ed.deploy([CreateToplevel(h)])
            # Renaming only the binding leaves the use unbound: an error, answered 500.
            await ed.deploy([SetName(h.tlid, let.id, "x", "y")])
            await ed.ws.close()

    run(scenario())
    status, body = rt.get("/rename")
    assert status == 500 and "unbound" in body["error"]


def test_canvas_isolation(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running(data) as rt:
        pass
    export = {"schema": 1, "export": {"canvas": "other", "toplevels": [
        wire.encode_toplevel(b.http("GET", "/secret", "other's"))]}}
    (tmp_path / "other.json").write_text(json.dumps(export))
    from gloam.cli import main

    assert main(["canvas", "import", str(tmp_path / "other.json"), "--data-dir", str(data)]) == 0
    with running(data) as rt:
        demo_token, other_token = rt.token("demo"), rt.token("other")

        async def scenario() -> tuple[int, int]:
            async with aiohttp.ClientSession() as http:
                statuses = []
                for canvas, token in (("other", demo_token), ("demo", other_token)):
                    try:
                        await http.ws_connect(f"{rt.editor}/api/canvas/{canvas}/ws",
                                              headers={"Authorization": f"Bearer {token}"})
                        statuses.append(101)
                    except aiohttp.WSServerHandshakeError as e:
                        statuses.append(e.status)
                ok = await EditorSession.open(http, rt, canvas="other", token=other_token)
                assert {t["spec"].get("route") for t in ok.hello["toplevels"]} == {"/secret"}
                await ok.ws.close()
                return statuses[0], statuses[1]

        assert run(scenario()) == (401, 401)
        assert rt.get("/secret", canvas="other") == (200, "other's")
        assert rt.get("/secret", canvas="demo")[0] == 404
