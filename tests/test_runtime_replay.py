"""Replaying stored traces against a candidate handler: a flag committed, a newer language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import attrs

from shared_ast import build as b
from shared_ast import wire
from shared_ast.nodes import EFlag
from shared_ast.ops import SetLanguageVersion
from shared_ast.toplevels import Handler
from tests.runtime_harness import EditorSession, create_toplevels, run, running


def lookup_handler() -> Handler:
    """`GET /lookup/:key` reads a dict; a flag (off) upgrades Dict::get_v0 to Dict::get_v1."""
    d = b.record(a=1, b=2)
    old = b.call("Dict::get_v0", d, b.var("key"))
    new = b.call("Dict::get_v1", b.record(a=1, b=2), b.var("key"), rail=True)
    return b.http("GET", "/lookup/:key", b.flag("get-v1", False, old, new))


async def report(rt: Any, candidate: Handler) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        ed = await EditorSession.open(http, rt)
        got = await ed.reply({"type": "replay", "tlid": candidate.tlid,
                              "toplevel": wire.encode_toplevel(candidate)})
        await ed.ws.close()
        return got


def test_upgrading_dict_get_through_a_flag_lists_exactly_the_traces_that_change(
        tmp_path: Path) -> None:
    handler = lookup_handler()
    with running(tmp_path / "data") as rt:
        create_toplevels(rt, [handler])
        for key in ("a", "zzz", "b", "q"):
            rt.get(f"/lookup/{key}")
        assert rt.get("/lookup/a") == (200, 1)
        assert rt.get("/lookup/zzz") == (200, None)
        flag = handler.body
        assert isinstance(flag, EFlag)
        committed = attrs.evolve(handler, body=flag.new)
        got = run(report(rt, committed))
        assert got["type"] == "replay_report", got
        changed = sorted(r["description"] for r in got["rows"] if not r["same"])
        assert changed == ["GET /lookup/q", "GET /lookup/zzz", "GET /lookup/zzz"]
        assert got["replayed"] == 6 and got["differ"] == 3
        row = next(r for r in got["rows"] if r["description"] == "GET /lookup/q")
        assert row["old"]["status"] == 200 and row["new"]["status"] == 404
        # Replaying changed nothing live: the flag is still off.
        assert rt.get("/lookup/zzz") == (200, None)


def test_a_move_to_language_version_1_is_checked_by_replay_first(tmp_path: Path) -> None:
    # An unfinished element: version 0 leaves it out, version 1 makes the list unfinished.
    handler = b.http("GET", "/items", b.list_(1, b.hole(), 3), language_version=0)
    with running(tmp_path / "data") as rt:
        create_toplevels(rt, [handler])
        assert rt.get("/items") == (200, [1, 3])
        newer = attrs.evolve(handler, language_version=1)
        got = run(report(rt, newer))
        assert got["differ"] == 1
        (row,) = got["rows"]
        assert row["old"]["status"] == 200 and row["new"]["status"] == 500
        assert "incomplete" in row["new"]["body"]

        async def move() -> dict[str, Any]:
            async with aiohttp.ClientSession() as http:
                ed = await EditorSession.open(http, rt)
                ack = await ed.deploy([SetLanguageVersion(handler.tlid, 0, 1)])
                await ed.ws.close()
                return ack

        assert run(move())["type"] == "ack"
        status, _body = rt.get("/items")
        assert status == 500


def test_a_replay_that_names_no_handler_or_another_tlid_is_refused(tmp_path: Path) -> None:
    handler = b.http("GET", "/x", 1)
    other = b.http("GET", "/y", 2)
    with running(tmp_path / "data") as rt:
        create_toplevels(rt, [handler])
        got = run(report(rt, attrs.evolve(other, tlid=other.tlid)))
        assert got["type"] == "error" and "tlid" in got["message"]


def test_a_flag_committed_in_a_called_function_is_replayed_through_changed(
        tmp_path: Path) -> None:
    from shared_ast.type_ast import INT

    fn = b.function("price", [("n", INT)], INT,
                    b.flag("tenfold", False, b.infix("*", b.var("n"), 2),
                           b.infix("*", b.var("n"), 20)))
    handler = b.http("GET", "/price/:n",
                     b.user_call(fn, b.call("Int::parse_v0", b.var("n"), rail=True)))
    flag = fn.body
    assert isinstance(flag, EFlag)
    committed = attrs.evolve(fn, body=flag.new)

    async def ask(extra: dict[str, Any]) -> dict[str, Any]:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, rt)
            got = await ed.reply({"type": "replay", "tlid": handler.tlid,
                                  "toplevel": wire.encode_toplevel(handler), **extra})
            await ed.ws.close()
            return got

    with running(tmp_path / "data") as rt:
        create_toplevels(rt, [fn, handler])
        assert rt.get("/price/3") == (200, 6)
        rt.get("/price/0")
        # The handler alone is unchanged: every answer is the same.
        alone = run(ask({}))
        assert alone["replayed"] == 2 and alone["differ"] == 0, alone
        # With the function's flag committed, the request for 3 answers 60.
        got = run(ask({"changed": [wire.encode_toplevel(committed)]}))
        assert got["replayed"] == 2 and got["differ"] == 1, got
        row = next(r for r in got["rows"] if not r["same"])
        assert row["description"] == "GET /price/3" and row["new"]["body"] == "60"
        # A changed toplevel of another kind, or the handler itself, is refused.
        wrong = run(ask({"changed": [wire.encode_toplevel(attrs.evolve(handler,
                                                                         tlid=fn.tlid))]}))
        assert wrong["type"] == "error" and "same toplevel" in wrong["message"], wrong
        itself = run(ask({"changed": [wire.encode_toplevel(handler)]}))
        assert itself["type"] == "error" and "handler itself" in itself["message"], itself
        assert rt.get("/price/3") == (200, 6)
