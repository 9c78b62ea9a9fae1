"""A failed write is never silent, against a real runtime (issue 12, item 15).

`let _ = DB::set name (Uuid::generate) Users_v0` (the store wants a String key):
in language version 2 the handler answers 500 naming DB::set and the key's
type, stores nothing, and its trace shows the failure at the call; in version 1
it keeps its old answer. A worker whose write fails is retried and ends in the
dead letters with the reason. (In-process: `test_failed_calls.py`.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aiohttp
import attrs
import pytest
from runtime_harness import (
    EditorSession,
    RuntimeProcess,
    create_toplevels,
    eventually,
    run,
    running,
)

from shared_ast import build as b
from shared_ast import wire
from shared_ast.nodes import ECall
from shared_ast.toplevels import Handler
from shared_ast.type_ast import STRING


def signup(route: str, version: int) -> tuple[Handler, ECall]:
    write = b.call("DB::set_v1", b.field(b.var("request"), "body"), b.call("Uuid::generate_v0"),
                   b.var("Users_v0"))
    body = b.let("_", write, b.call("Http::response_v0", "created", 201))
    return b.http("POST", route, body, language_version=version), write


NEW, NEW_WRITE = signup("/signup", 2)
OLD, _ = signup("/signup-v1", 1)
WORKER_WRITE = b.call("DB::set_v1", b.var("event"), b.call("Uuid::generate_v0"),
                      b.var("Users_v0"))


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    data = tmp_path_factory.mktemp("failed") / "data"
    with running(data, ["--worker-backoff", "0.05"]) as proc:
        create_toplevels(proc, [
            b.datastore("Users", STRING),
            NEW,
            OLD,
            b.http("GET", "/count", b.call("DB::count_v0", b.var("Users_v0")),
                   language_version=2),
            b.http("POST", "/enqueue", b.call("Emit::emit_v0", b.field(b.var("request"), "body"),
                                              "signups"), language_version=2),
            b.worker("signups", b.let("_", WORKER_WRITE, 0), language_version=2),
        ])
        yield proc


async def _ask(rt: RuntimeProcess, message: dict[str, Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        ed = await EditorSession.open(http, rt)
        reply = await ed.reply(message)
        await ed.ws.close()
        return reply


def test_a_failed_write_answers_500_naming_the_call_and_stores_nothing(
        rt: RuntimeProcess) -> None:
    status, body = rt.request("POST", "/signup", body="Ada")
    assert status == 500, body
    assert "DB::set_v1" in body["error"] and "String for key" in body["error"]
    assert "nothing after the call ran" in body["error"]
    assert body["hint"]
    assert rt.get("/count") == (200, 0)

    # The trace keeps the answer, and running it shows the failure at the call's node.
    traces = run(_ask(rt, {"type": "get_traces", "tlid": NEW.tlid}))["traces"]
    failed = [t for t in traces if t["output"]["status"] == 500]
    assert failed and "DB::set_v1" in failed[0]["output"]["body"]
    result = run(_ask(rt, {"type": "run", "tlid": NEW.tlid, "trace_id": failed[0]["trace_id"]}))
    assert result["value"]["kind"] == "error" and result["value"]["node_id"] == NEW_WRITE.id
    # Live values, version 2: each node's values per iteration; this one ran once.
    (shown,) = (entry["value"] for entry in result["live"]["nodes"][str(NEW_WRITE.id)])
    assert shown["kind"] == "error" and "String for key" in shown["message"]


def test_a_version_1_handler_keeps_its_old_answer_and_replay_shows_the_change(
        rt: RuntimeProcess) -> None:
    status, body = rt.request("POST", "/signup-v1", body="Bob")
    assert (status, body) == (201, "created")
    assert rt.get("/count") == (200, 0)
    # Before moving it to version 2, a replay of its stored requests shows the new answer.
    candidate = attrs.evolve(OLD, language_version=2)
    report = run(_ask(rt, {"type": "replay", "tlid": OLD.tlid,
                           "toplevel": wire.encode_toplevel(candidate)}))
    assert report["differ"] >= 1, report
    row = report["rows"][0]
    assert row["old"]["status"] == 201 and row["new"]["status"] == 500
    assert "DB::set_v1" in row["new"]["body"]


def test_a_worker_whose_write_fails_is_retried_then_dead_lettered_with_the_reason(
        rt: RuntimeProcess) -> None:
    assert rt.request("POST", "/enqueue", body="Cy")[0] == 200

    def dead() -> list[dict[str, Any]]:
        events = run(_ask(rt, {"type": "get_dead_letters"}))["events"]
        return [e for e in events if e["queue"] == "signups"]

    events = eventually(dead, timeout=30)
    assert events, rt.log()
    assert events[0]["attempts"] == 5
    assert "DB::set_v1" in events[0]["last_error"]
    assert "String for key" in events[0]["last_error"]
    assert rt.get("/count") == (200, 0)
