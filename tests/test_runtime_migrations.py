"""Datastore migrations on a real runtime: rows read through both versions over HTTP, the
background conversion when code moves (and back when it is abandoned), failing rows that
block it until the conversion is fixed or the row deleted, conversions that loop, the
deploy path's refusals, the editor API's messages and `gloam runtime status`; a kill -9 in
the middle of converting; two nodes on one PostgreSQL database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest
from pg_cluster import PgCluster
from runtime_harness import (
    ROOT,
    EditorSession,
    RuntimeProcess,
    admin_status,
    eventually,
    run,
    running,
)

from runtime.config import DB_FILE
from runtime.store import open_store
from shared_ast import build as b
from shared_ast import wire
from shared_ast.ops import CreateToplevel, DeleteToplevel, Op, ReplaceNode, SetType
from shared_ast.toplevels import Datastore, Handler, Toplevel, UserFunction
from shared_ast.type_ast import INT, STRING, TRecord, TRecordField, Type
from shared_ast.values import FrozenDict


def rec(**fields: Type) -> TRecord:
    return TRecord(tuple(TRecordField(k, v) for k, v in fields.items()))


def r(name: str) -> Any:
    return b.field(b.var("row"), name)


ROW = rec(name=STRING, n=INT)
#: v0 → v1 adds one to `n` (a row converted twice would show it), and v1 → v0 takes it off.
PLUS_ONE = b.record(name=r("name"), n=b.infix("+", r("n"), 1))
MINUS_ONE = b.record(name=r("name"), n=b.infix("-", r("n"), 1))


@attrs.frozen
class Chain:
    v0: Datastore
    v1: Datastore
    forward: UserFunction
    back: UserFunction

    @property
    def storage(self) -> str:
        return f"{self.v0.name}_v0"


def make_chain(name: str, forward: Any = PLUS_ONE, back: Any = MINUS_ONE,
               schema: Type = ROW, schema1: Type = ROW) -> Chain:
    v0 = b.datastore(name, schema)
    v1, fwd, bwd = b.datastore_version(v0, schema1, forward, back)
    return Chain(v0, v1, fwd, bwd)


def fails_on(name: str) -> Any:
    """PLUS_ONE, except that the row named `name` makes the conversion fail (an error)."""
    return b.record(name=r("name"), n=b.if_(b.infix("==", r("name"), name),
                                            b.call("Int::divide_v0", 1, 0),
                                            b.infix("+", r("n"), 1)))


def handlers(prefix: str, ds: Datastore) -> list[Handler]:
    """POST /prefix/:key stores the body through `ds`; GET /prefix/:key reads it."""
    return [b.http("POST", f"/{prefix}/:key",
                   b.call("DB::set_v1", b.field(b.var("request"), "body"), b.var("key"),
                          b.var(ds.qualified))),
            b.http("GET", f"/{prefix}/:key",
                   b.call("DB::get_v2", b.var("key"), b.var(ds.qualified), rail=True))]


async def _editor(rt: RuntimeProcess, messages: Sequence[dict[str, Any]],
                  token: str | None = None) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        ed = await EditorSession.open(http, rt, token=token)
        replies = [await ed.reply(m) for m in messages]
        await ed.ws.close()
        return replies


def ask(rt: RuntimeProcess, message: dict[str, Any], token: str | None = None
        ) -> dict[str, Any]:
    """One editor API message and its reply (with the token of the node's own data
    folder, unless given)."""
    return dict(run(_editor(rt, [message], token))[0])


def deploy(rt: RuntimeProcess, ops: Sequence[Op]) -> dict[str, Any]:
    return ask(rt, {"type": "ops", "ops": wire.encode_ops(list(ops))})


def create(rt: RuntimeProcess, toplevels: Sequence[Toplevel]) -> None:
    got = deploy(rt, [CreateToplevel(t) for t in toplevels])
    assert got["type"] == "ack", got


def delete(rt: RuntimeProcess, toplevels: Sequence[Toplevel]) -> dict[str, Any]:
    return deploy(rt, [DeleteToplevel(t) for t in toplevels])


def progress(rt: RuntimeProcess, storage: str, canvas: str = "demo") -> dict[str, Any] | None:
    """The migration state of `storage` as `/api/admin/status` shows it."""
    for state in admin_status(rt).get("migrations", {}).get(canvas, []):
        if state["storage"] == storage:
            return dict(state)
    return None


def reaches(rt: RuntimeProcess, storage: str, phase: str, timeout: float = 30.0
            ) -> dict[str, Any]:
    """Wait for the migration of `storage` to be in `phase`; its state then."""
    got = eventually(lambda: (s := progress(rt, storage)) is not None and s["state"] == phase
                     and s, timeout=timeout)
    assert got, (progress(rt, storage), rt.log())
    return dict(got)


def record(**fields: Any) -> Any:
    return wire.encode_value(FrozenDict(fields))


def gloam_status(rt: RuntimeProcess) -> str:
    done = subprocess.run([sys.executable, "-m", "gloam.cli", "runtime", "status",
                           "--data-dir", str(rt.data_dir)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


# ---------------------------------------------------------------- one node


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    """A runtime whose lock window is 0: a version code stops naming is out of use at once."""
    with running(tmp_path_factory.mktemp("mig") / "data", ["--workers", "1"]) as proc:
        yield proc


@pytest.fixture(scope="module")
def windowed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    """A runtime with a lock window of 2 s."""
    with running(tmp_path_factory.mktemp("win") / "data",
                 ["--workers", "1", "--lock-window", "2"]) as proc:
        yield proc


def test_rows_read_through_both_versions_and_convert_once_code_moved_and_the_window_passed(
        windowed: RuntimeProcess) -> None:
    rt = windowed
    chain = make_chain("Users")
    old = handlers("u0", chain.v0)
    create(rt, [chain.v0, *old])
    assert rt.request("POST", "/u0/x", body={"name": "x", "n": 1})[0] == 200
    assert rt.request("POST", "/u0/y", body={"name": "y", "n": 2})[0] == 200
    create(rt, [chain.v1, chain.forward, chain.back, *handlers("u1", chain.v1)])
    # Both versions over one set of keys: each row converted as it is read.
    assert rt.get("/u1/x") == (200, {"name": "x", "n": 2})
    assert rt.request("POST", "/u1/z", body={"name": "z", "n": 10})[0] == 200
    assert rt.get("/u0/z") == (200, {"name": "z", "n": 9})
    assert rt.get("/u0/x") == (200, {"name": "x", "n": 1})
    # Code names both: nothing converts.
    assert reaches(rt, chain.storage, "idle")["in_use"] == [0, 1]
    assert ask(rt, {"type": "get_migration", "tlid": chain.v1.tlid})["versions"] == {
        "0": 2, "1": 1}

    time.sleep(2.2)  # the old handlers' traffic leaves the lock window: they may go
    assert delete(rt, old)["type"] == "ack"
    # No code names v0 now, but it was named a moment ago: the window runs first.
    waiting = reaches(rt, chain.storage, "waiting", timeout=5)
    assert waiting["target"] == 1 and waiting["waiting_until"] > time.time() - 1, waiting
    done = reaches(rt, chain.storage, "done")
    assert done["versions"] == {"1": 3} and done["done"] == 3 and done["left"] == 0, done
    # Each row converted exactly once.
    assert rt.get("/u1/x") == (200, {"name": "x", "n": 2})
    assert rt.get("/u1/y") == (200, {"name": "y", "n": 3})
    assert rt.get("/u1/z") == (200, {"name": "z", "n": 10})
    # v0 holds nothing now and no code names it: it may go, and the rows stay readable.
    assert delete(rt, [chain.v0])["type"] == "ack"
    assert rt.get("/u1/y") == (200, {"name": "y", "n": 3})


def test_a_failing_row_stays_as_it_was_and_blocks_until_the_rollforward_is_fixed(
        rt: RuntimeProcess) -> None:
    chain = make_chain("Orders", forward=fails_on("bad"))
    old = handlers("o0", chain.v0)
    create(rt, [chain.v0, *old])
    for key, n in (("a", 1), ("bad", 5), ("c", 3)):
        assert rt.request("POST", f"/o0/{key}", body={"name": key, "n": n})[0] == 200
    create(rt, [chain.v1, chain.forward, chain.back, *handlers("o1", chain.v1)])
    assert delete(rt, old)["type"] == "ack"
    blocked = reaches(rt, chain.storage, "blocked")
    assert blocked["failed"] == 1 and blocked["left"] == 1 and blocked["done"] == 2, blocked
    [failure] = blocked["failures"]
    assert failure["key"] == "bad" and failure["version"] == 0 and failure["kind"] == "error"
    assert "Orders_v1_rollforward" in failure["reason"], failure
    assert rt.get("/o1/a") == (200, {"name": "a", "n": 2})
    # The failing row is as it was written, in v0.
    shown = ask(rt, {"type": "get_migration", "tlid": chain.v0.tlid})
    bad = next(row for row in shown["rows"] if row["key"] == "bad")
    assert bad["version"] == 0 and bad["value"] == record(name="bad", n=5), bad
    line = [ln for ln in gloam_status(rt).splitlines() if "Orders" in ln]
    assert len(line) == 1 and "blocked to v1" in line[0] and "1 failed" in line[0], line

    # Fix the rollforward in place (a deploy): the blocked migration runs again.
    fixed = deploy(rt, [ReplaceNode(chain.forward.tlid, chain.forward.body.id,
                                    chain.forward.body, PLUS_ONE)])
    assert fixed["type"] == "ack", fixed
    done = reaches(rt, chain.storage, "done")
    assert done["versions"] == {"1": 3} and done["failures"] == [], done
    assert rt.get("/o1/bad") == (200, {"name": "bad", "n": 6})
    assert rt.get("/o1/a") == (200, {"name": "a", "n": 2})


def test_abandoning_moves_code_back_and_rows_written_through_v1_roll_back(
        rt: RuntimeProcess) -> None:
    chain = make_chain("Notes")
    create(rt, [chain.v0, *handlers("n0", chain.v0)])
    newer = handlers("n1", chain.v1)
    create(rt, [chain.v1, chain.forward, chain.back, *newer])
    assert rt.request("POST", "/n1/x", body={"name": "x", "n": 10})[0] == 200
    assert rt.request("POST", "/n0/y", body={"name": "y", "n": 1})[0] == 200
    assert reaches(rt, chain.storage, "idle")["in_use"] == [0, 1]
    assert ask(rt, {"type": "get_migration", "tlid": chain.v0.tlid})["versions"] == {
        "0": 1, "1": 1}
    assert delete(rt, newer)["type"] == "ack"  # code back on v0 alone
    done = reaches(rt, chain.storage, "done")
    assert done["target"] == 0 and done["versions"] == {"0": 2}, done
    assert rt.get("/n0/x") == (200, {"name": "x", "n": 9})
    assert rt.get("/n0/y") == (200, {"name": "y", "n": 1})
    # v1 holds no row and no code names it: it can go.
    assert delete(rt, [chain.v1, chain.forward, chain.back])["type"] == "ack"
    assert rt.get("/n0/x") == (200, {"name": "x", "n": 9})


def spins() -> Any:
    """A conversion that loops (a million and more steps) for the row named "spin"."""
    forever = b.call("List::map_v0", b.call("List::range_v0", 1, 5000),
                     b.lam(["i"], b.call("List::map_v0", b.call("List::range_v0", 1, 5000),
                                         b.lam(["j"], b.var("j")))))
    return b.record(name=r("name"), n=b.if_(
        b.infix("==", r("name"), "spin"),
        b.call("List::length_v0", forever), b.infix("+", r("n"), 1)))


def test_a_conversion_that_loops_hits_the_run_limits_and_deleting_the_row_unblocks(
        rt: RuntimeProcess) -> None:
    chain = make_chain("Spins", forward=spins())
    old = handlers("s0", chain.v0)
    create(rt, [chain.v0, *old])
    for key in ("a", "spin", "z"):
        assert rt.request("POST", f"/s0/{key}", body={"name": key, "n": 1})[0] == 200
    create(rt, [chain.v1, chain.forward, chain.back, *handlers("s1", chain.v1)])
    assert delete(rt, old)["type"] == "ack"
    blocked = reaches(rt, chain.storage, "blocked")
    [failure] = blocked["failures"]
    assert failure["key"] == "spin" and failure["kind"] == "error", failure
    assert "Stopped" in failure["reason"], failure
    assert blocked["versions"] == {"0": 1, "1": 2}, blocked

    # An explicit deletion (the editor's Delete row) is the other way out.
    unknown = ask(rt, {"type": "delete_row", "datastore": "Nope_v0", "key": "spin"})
    assert unknown["type"] == "error" and "Nope_v0" in unknown["message"], unknown
    missing = ask(rt, {"type": "delete_row", "datastore": "Spins_v1", "key": "nobody"})
    assert missing["type"] == "error" and "nothing was deleted" in missing["message"]
    gone = ask(rt, {"type": "delete_row", "datastore": "Spins_v1", "key": "spin"})
    assert gone == {"schema": wire.SCHEMA_VERSION, "type": "row_deleted", "id": gone["id"],
                    "datastore": "Spins_v1", "key": "spin"}
    done = reaches(rt, chain.storage, "done")
    assert done["versions"] == {"1": 2}, done
    assert "deleted by test from the editor" in rt.log()


def test_deleting_or_reshaping_a_version_that_code_or_rows_still_use_is_refused(
        rt: RuntimeProcess) -> None:
    chain = make_chain("Keeps")
    old = handlers("k0", chain.v0)
    create(rt, [chain.v0, *old])
    assert rt.request("POST", "/k0/a", body={"name": "a", "n": 1})[0] == 200

    named = delete(rt, [chain.v0])
    assert named["type"] == "error" and "still named by code" in named["message"], named
    assert "POST /k0/:key" in named["message"] and "Nothing was changed" in named["message"]
    reshaped = deploy(rt, [SetType(chain.v0.tlid, chain.v0.tlid, ROW, rec(name=STRING))])
    assert reshaped["type"] == "error", reshaped
    assert "1 row(s) stored in it" in reshaped["message"]
    assert "New datastore version" in reshaped["message"], reshaped

    assert delete(rt, old)["type"] == "ack"
    stored = delete(rt, [chain.v0])
    assert stored["type"] == "error" and "1 row(s) stored in it" in stored["message"], stored
    assert "Delete the rows first" in stored["message"], stored
    assert ask(rt, {"type": "delete_row", "datastore": "Keeps_v0", "key": "a"})["type"] \
        == "row_deleted"
    # Without rows, the schema may change and the version may go.
    assert deploy(rt, [SetType(chain.v0.tlid, chain.v0.tlid, ROW, rec(name=STRING))]
                  )["type"] == "ack"
    assert delete(rt, [attrs.evolve(chain.v0, schema=rec(name=STRING))])["type"] == "ack"


def test_no_other_path_reshapes_a_version_with_rows_or_deletes_a_conversion_rows_need(
        rt: RuntimeProcess) -> None:
    chain = make_chain("Remade")
    old = handlers("rm0", chain.v0)
    create(rt, [chain.v0, *old])
    assert rt.request("POST", "/rm0/a", body={"name": "a", "n": 1})[0] == 200
    assert delete(rt, old)["type"] == "ack"
    # Deleted and made again with another schema in one batch, or made a second time:
    # the rows stored in Remade_v0 would be read as rows of a schema they were not.
    other = b.datastore("Remade", rec(x=INT))
    remade = deploy(rt, [DeleteToplevel(chain.v0), CreateToplevel(other)])
    assert remade["type"] == "error" and "1 row(s) stored in it" in remade["message"], remade
    assert "New datastore version" in remade["message"], remade
    twice = deploy(rt, [CreateToplevel(other)])
    assert twice["type"] == "error" and "Remade_v0 has 1 row(s)" in twice["message"], twice

    # The rollforward reads the v0 row through v1: deleting it is refused, and the row
    # still reads. (Code names both versions, so nothing converts the row meanwhile.)
    create(rt, [chain.v1, chain.forward, chain.back, *handlers("rm1", chain.v1),
                *handlers("rm0b", chain.v0)])
    gone = delete(rt, [chain.forward])
    assert gone["type"] == "error" and "Remade_v1's rollforward" in gone["message"], gone
    assert rt.get("/rm1/a") == (200, {"name": "a", "n": 2})


def test_the_migration_preview_shows_converted_rows_failures_and_data_loss(
        rt: RuntimeProcess) -> None:
    # v1 drops `age`: rolling back gives 0, so every row whose age is not 0 loses data.
    chain = make_chain("People", schema=rec(name=STRING, age=INT), schema1=rec(name=STRING),
                       forward=b.record(name=b.if_(b.infix("==", r("name"), "bad"),
                                                   b.call("Int::divide_v0", 1, 0), r("name"))),
                       back=b.record(name=r("name"), age=0))
    toplevels = [chain.v0, *handlers("p0", chain.v0), chain.v1, chain.forward, chain.back,
                 *handlers("p1", chain.v1)]

    async def scenario() -> tuple[dict[str, Any], ...]:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, rt)
            ack = await ed.deploy([CreateToplevel(t) for t in toplevels])
            assert ack["type"] == "ack", ack
            # The new chain's state is pushed to the canvas's editors, with no id.
            pushed: dict[str, Any] = {}
            async with asyncio.timeout(30):
                while not pushed:
                    got = await ed.receive()
                    if got["type"] == "migrations" and any(
                            s["storage"] == "People_v0" for s in got["migrations"]):
                        pushed = got
            for key, age in (("ada", 36), ("bad", 1), ("zed", 0)):
                status, _ = await asyncio.to_thread(
                    rt.request, "POST", f"/p0/{key}", body={"name": key, "age": age})
                assert status == 200
            shown = await ed.reply({"type": "get_migration", "tlid": chain.v1.tlid,
                                    "limit": 2})
            listed = await ed.reply({"type": "get_migrations"})
            wrong = await ed.reply({"type": "get_migration", "tlid": chain.forward.tlid})
            await ed.ws.close()
            return shown, listed, wrong, pushed

    shown, listed, wrong, pushed = run(scenario())
    assert shown["type"] == "migration" and shown["datastore"] == "People_v1", shown
    assert shown["storage"] == "People_v0" and shown["versions"] == {"0": 3}
    assert shown["scanned"] == 3 and shown["total"] == 3
    assert [row["key"] for row in shown["rows"]] == ["ada", "bad"]
    ada, bad = shown["rows"]
    assert ada["value"] == record(name="ada", age=36) and ada["read"] == record(name="ada")
    assert ada["failure"] is None and bad["read"] is None
    assert bad["failure"]["kind"] == "error" and "People_v1_rollforward" in bad["failure"][
        "reason"]
    assert [(f["key"], f["version"], f["kind"]) for f in shown["failures"]] == [
        ("bad", 0, "error")]
    loss = shown["loss"]
    assert loss["stored"]["checked"] == 2 and loss["stored"]["lost"] == 1, loss
    assert loss["stored"]["keys"] == ["ada"]
    assert loss["generated"]["checked"] > 0 and loss["generated"]["lost"] > 0, loss
    example = wire.decode_value(loss["generated"]["example"])
    assert example["age"] != 0, example
    assert shown["progress"]["state"] == "idle" and shown["progress"]["in_use"] == [0, 1]
    assert "cursor" not in shown["progress"]
    assert [s["storage"] for s in listed["migrations"] if s["name"] == "People"] == [
        "People_v0"]
    assert wrong["type"] == "error" and "datastore version" in wrong["message"], wrong
    assert any(s["storage"] == "People_v0" for s in pushed["migrations"]), pushed


# ---------------------------------------------------------------- kill -9


ROWS = 20_000


def test_a_kill_9_while_converting_loses_no_row_and_converts_none_twice(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    chain = make_chain("Counters")
    rt = RuntimeProcess(data, ["--workers", "1"]).start()
    try:
        create(rt, [chain.v0])
    finally:
        rt.stop()
    store = open_store(str(data / DB_FILE))
    try:
        for i in range(ROWS):
            store.ds_set("demo", chain.storage, f"k{i:05d}",
                         wire.json_text(record(name=f"r{i}", n=i)), 0)
    finally:
        store.close()

    rt = RuntimeProcess(data, ["--workers", "1"]).start()
    try:
        create(rt, [chain.v1, chain.forward, chain.back, handlers("c1", chain.v1)[1]])
        midway = eventually(lambda: (s := progress(rt, chain.storage)) is not None
                            and s["state"] == "converting" and s["done"] >= 1000
                            and s["left"] >= 2000 and s, timeout=60)
        assert midway, progress(rt, chain.storage)
        rt.kill9()
        # Killed in the middle: some rows are converted, some not.
        store = open_store(str(data / DB_FILE))
        try:
            between = store.ds_version_counts("demo", chain.storage)
        finally:
            store.close()
        assert between[0] > 0 and between[1] > 0 and sum(between.values()) == ROWS, between
        rt = RuntimeProcess(data, ["--workers", "1"]).start()
        done = reaches(rt, chain.storage, "done", timeout=120)
        assert done["versions"] == {"1": ROWS}, done
        assert rt.get("/c1/k12345") == (200, {"name": "r12345", "n": 12346})
    finally:
        rt.stop()
    store = open_store(str(data / DB_FILE))
    try:
        rows = store.ds_items("demo", chain.storage)
    finally:
        store.close()
    assert len(rows) == ROWS
    wrong = [(key, version, text) for key, version, text in rows
             if version != 1 or wire.json_load(text) != record(name=f"r{int(key[1:])}",
                                                              n=int(key[1:]) + 1)]
    assert wrong == [], wrong[:5]


# ------------------------------------------------------- two nodes, one database


def test_two_nodes_on_one_database_one_converts_and_the_other_shows_the_progress(
        pg_cluster: PgCluster, tmp_path: Path) -> None:
    url = pg_cluster.create_database()
    chain = make_chain("Shared")
    rows = 3000
    a = RuntimeProcess(tmp_path / "a", ["--store", url, "--workers", "1"]).start()
    b_node: RuntimeProcess | None = None
    try:
        b_node = RuntimeProcess(tmp_path / "b", ["--store", url, "--workers", "1",
                                                 "--no-demo"]).start()
        create(a, [chain.v0])
        store = open_store(url)
        try:
            for i in range(rows):
                store.ds_set("demo", chain.storage, f"k{i:05d}",
                             wire.json_text(record(name=f"r{i}", n=i)), 0)
        finally:
            store.close()
        token = a.token()

        async def watch() -> dict[str, list[dict[str, Any]]]:
            """Deploy v1 on A, and collect what both nodes push to their editors until
            each has pushed the finished conversion."""
            seen: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
            async with aiohttp.ClientSession() as http:
                eds = {name: await EditorSession.open(http, node, token=token)
                       for name, node in (("a", a), ("b", b_node))}
                ack = await eds["a"].deploy([CreateToplevel(t) for t in (
                    chain.v1, chain.forward, chain.back, handlers("sh1", chain.v1)[1])])
                assert ack["type"] == "ack", ack
                async with asyncio.timeout(90):  # the server's heartbeats keep each
                    for name, ed in eds.items():  # receive alive: one deadline for all
                        while not seen[name] or seen[name][-1]["state"] != "done":
                            got = await ed.receive()
                            if got["type"] == "migrations":
                                seen[name] += [m for m in got["migrations"]
                                               if m["storage"] == chain.storage]
                        await ed.ws.close()
            return seen

        seen = run(watch())
        holders = {s["holder"] for states in seen.values() for s in states}
        assert len(holders) == 1, holders  # one converter, seen from both nodes
        [holder] = holders
        assert holder.endswith((str(tmp_path / "a"), str(tmp_path / "b"))), holder
        other = b_node if holder.endswith(str(tmp_path / "a")) else a
        assert seen["a"][-1]["versions"] == seen["b"][-1]["versions"] == {"1": rows}
        # The node that did not convert shows the progress to its editors too.
        listed = ask(other, {"type": "get_migrations"}, token=token)
        [state] = [s for s in listed["migrations"] if s["storage"] == chain.storage]
        assert state["state"] == "done" and state["holder"] == holder
        assert state["versions"] == {"1": rows}
        assert eventually(lambda: other.get("/sh1/k00007") == (200, {"name": "r7", "n": 8}))
    finally:
        a.stop()
        if b_node is not None:
            b_node.stop()
    store = open_store(url)
    try:
        stored = store.ds_items("demo", chain.storage)
    finally:
        store.close()
    assert len(stored) == rows
    assert all(version == 1 and wire.json_load(text) == record(name=f"r{int(key[1:])}",
                                                               n=int(key[1:]) + 1)
               for key, version, text in stored)
