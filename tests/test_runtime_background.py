"""Datastores, workers and crons against a real runtime."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from runtime_harness import EditorSession, RuntimeProcess, create_toplevels, run, running

from shared_ast import build as b
from shared_ast.type_ast import INT, STRING, TRecord, TRecordField


def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll until `check` returns something truthy (background work takes a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> RuntimeProcess:
    data = tmp_path_factory.mktemp("bg") / "data"
    with running(data, ["--worker-backoff", "0.05"]) as proc:
        people = TRecord((TRecordField("name", STRING), TRecordField("age", INT)))
        toplevels = [
            b.datastore("People", people),
            b.http("POST", "/people/:key",
                   b.call("DB::set_v1", b.field(b.var("request"), "body"), b.var("key"),
                          b.var("People_v0"))),
            b.http("GET", "/people/:key",
                   b.call("DB::get_v2", b.var("key"), b.var("People_v0"), rail=True)),
            b.http("GET", "/people",
                   b.record(count=b.call("DB::count_v0", b.var("People_v0")),
                            keys=b.call("DB::keys_v1", b.var("People_v0")),
                            adults=b.call("DB::query_v4", b.var("People_v0"),
                                          b.lam(["p"], b.infix(">=", b.field(b.var("p"), "age"),
                                                               18))))),
            b.http("DELETE", "/people/:key",
                   b.call("DB::delete_v1", b.var("key"), b.var("People_v0"))),
            b.http("POST", "/jobs", b.call("Emit::emit_v0", b.field(b.var("request"), "body"),
                                           "jobs")),
            b.worker("jobs", b.call("DB::set_v1",
                                    b.record(name=b.field(b.var("event"), "name"), age=0),
                                    b.field(b.var("event"), "name"), b.var("People_v0"))),
            b.http("POST", "/doomed", b.call("Emit::emit_v0", 1, "doomed")),
            b.worker("doomed", b.call("Int::divide_v0", b.var("event"), 0)),
            b.datastore("Ticks", INT),
            b.cron("tick", 1, b.call("DB::set_v1", b.call("Int::add_v0", 1, b.call(
                "Option::withDefault_v0", b.call("DB::get_v2", "n", b.var("Ticks_v0")), 0)),
                "n", b.var("Ticks_v0"))),
            b.http("GET", "/ticks", b.call("DB::get_v2", "n", b.var("Ticks_v0"), rail=True)),
        ]

        create_toplevels(proc, toplevels)
        yield proc


def test_a_datastore_stores_reads_queries_and_deletes(rt: RuntimeProcess) -> None:
    assert rt.request("POST", "/people/ada", body={"name": "Ada", "age": 36})[0] == 200
    assert rt.request("POST", "/people/kid", body={"name": "Kid", "age": 9})[0] == 200
    assert rt.get("/people/ada") == (200, {"name": "Ada", "age": 36})
    assert rt.get("/people/nobody")[0] == 404
    status, listing = rt.get("/people")
    assert status == 200 and {"ada", "kid"} <= set(listing["keys"])
    assert {"name": "Ada", "age": 36} in listing["adults"]
    assert {"name": "Kid", "age": 9} not in listing["adults"]
    assert rt.request("DELETE", "/people/kid")[0] == 200
    assert rt.get("/people/kid")[0] == 404


def test_a_value_that_does_not_fit_the_schema_is_refused_naming_the_field(
    rt: RuntimeProcess,
) -> None:
    status, body = rt.request("POST", "/people/bad", body={"name": "Bad", "age": "old"})
    assert status == 500
    assert "People_v0" in body["error"] and "age" in body["error"]
    assert rt.get("/people/bad")[0] == 404


def test_emitted_events_reach_their_worker(rt: RuntimeProcess) -> None:
    assert rt.request("POST", "/jobs", body={"name": "from-a-job"})[0] == 200
    got = eventually(lambda: rt.get("/people/from-a-job")[0] == 200)
    assert got, rt.log()
    assert rt.get("/people/from-a-job") == (200, {"name": "from-a-job", "age": 0})


def test_an_event_that_keeps_failing_goes_to_the_dead_letters(rt: RuntimeProcess) -> None:
    assert rt.request("POST", "/doomed")[0] == 200

    async def dead() -> list[dict]:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, rt)
            reply = await ed.reply({"type": "get_dead_letters"})
            await ed.ws.close()
            return [e for e in reply["events"] if e["queue"] == "doomed"]

    events = eventually(lambda: run(dead()), timeout=30)
    assert events, rt.log()
    assert events[0]["attempts"] == 5 and "zero" in events[0]["last_error"].lower()


def test_a_cron_runs_on_its_interval_and_can_be_paused(rt: RuntimeProcess) -> None:
    assert eventually(lambda: rt.get("/ticks")[0] == 200)
    first = rt.get("/ticks")[1]
    assert eventually(lambda: rt.get("/ticks")[1] > first, timeout=10)

    async def pause() -> dict:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, rt)
            tlid = next(t["tlid"] for t in ed.hello["toplevels"]
                        if t["kind"] == "handler" and t["spec"]["kind"] == "cron")
            reply = await ed.reply({"type": "set_cron_paused", "tlid": tlid, "paused": True})
            await ed.ws.close()
            return reply

    assert run(pause())["paused"] is True
    time.sleep(1.5)  # let a tick that was already running finish
    frozen = rt.get("/ticks")[1]
    time.sleep(2.5)
    assert rt.get("/ticks")[1] == frozen
