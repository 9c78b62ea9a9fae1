"""Traffic workers: separate processes, each deploy live in all of them before its ack,
and a worker that dies or stops answering replaced while the others keep serving."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import aiohttp
from runtime_harness import (
    EditorSession,
    RuntimeProcess,
    admin_status,
    create_toplevels,
    eventually,
    run,
    running,
)

from shared_ast import build as b
from shared_ast.ops import CreateToplevel, ReplaceNode
from shared_ast.type_ast import STRING


def requests_served(rt: RuntimeProcess) -> list[int]:
    return [w["requests"] for w in admin_status(rt)["workers"]]


def test_no_request_that_starts_after_an_ack_runs_the_old_code(tmp_path: Path) -> None:
    literal = b.int_(0)
    handler = b.http("GET", "/version", literal)
    with running(tmp_path / "data", ["--workers", "3"]) as rt:

        async def scenario() -> list[tuple[int, list[Any]]]:
            # A new connection per request, so the kernel spreads them over the workers.
            connector = aiohttp.TCPConnector(force_close=True)
            async with aiohttp.ClientSession(connector=connector) as http:
                ed = await EditorSession.open(http, rt)
                assert (await ed.deploy([CreateToplevel(handler)]))["type"] == "ack"
                url = f"{rt.http}/c/demo/version"

                async def get() -> Any:
                    async with http.get(url) as resp:
                        assert resp.status == 200
                        return await resp.json()

                seen = []
                current = literal
                for version in range(1, 41):
                    new = b.int_(version)
                    ack = await ed.deploy([ReplaceNode(handler.tlid, current.id, current, new)])
                    assert ack["type"] == "ack", ack
                    current = new
                    seen.append((version, list(await asyncio.gather(*(get() for _ in range(6))))))
                await ed.ws.close()
                return seen

        seen = run(scenario())
        # Request counts come with the workers' beats: wait until all 240 are in.
        served = eventually(lambda: requests_served(rt) if sum(requests_served(rt)) >= 240
                          else None)
    stale = [(version, answers) for version, answers in seen if set(answers) != {version}]
    assert stale == []
    assert served is not None, "the workers' request counts never reached 240"
    # The requests really were spread: more than one worker answered them.
    assert sum(1 for n in served if n > 0) >= 2, served


def test_a_killed_worker_is_replaced_while_the_others_keep_serving(tmp_path: Path) -> None:
    with running(tmp_path / "data", ["--workers", "2"]) as rt:
        before = admin_status(rt)["workers"]
        victim = before[0]["pid"]
        os.kill(victim, signal.SIGKILL)
        # Every request after the kill is answered: the listening socket is shared, and
        # the worker left standing takes the connections the dead one no longer accepts.
        answers = [rt.get("/hello") for _ in range(30)]
        assert all(a == (200, "Hello from Gloam!\n") for a in answers)
        after = eventually(lambda: [w for w in admin_status(rt)["workers"]
                                  if w["index"] == 0 and w["serving"] and w["pid"] != victim])
        assert after and after[0]["restarts"] == 1
        assert "traffic worker 0" in rt.log() and "exited with code -9" in rt.log()
        assert rt.get("/sum/2/3") == (200, 5)


def test_a_worker_that_stops_answering_is_replaced_and_a_deploy_still_goes_live(
    tmp_path: Path,
) -> None:
    handler = b.http("GET", "/v", 1)
    with running(tmp_path / "data", ["--workers", "2", "--stall-seconds", "1"]) as rt:

        async def deploy(ops: list[Any]) -> dict[str, Any]:
            async with aiohttp.ClientSession() as http:
                ed = await EditorSession.open(http, rt)
                ack = await ed.deploy(ops)
                await ed.ws.close()
                return ack

        assert run(deploy([CreateToplevel(handler)]))["type"] == "ack"
        stuck = admin_status(rt)["workers"][1]["pid"]
        os.kill(stuck, signal.SIGSTOP)  # alive, but silent: as stuck as a process gets
        try:
            # The deploy waits for the stuck worker only until it is replaced.
            ack = run(deploy([ReplaceNode(handler.tlid, handler.body.id, handler.body,
                                          b.int_(2))]))
            assert ack["type"] == "ack", ack
            answers = {rt.get("/v")[1] for _ in range(20)}
            assert answers == {2}
            replaced = eventually(lambda: [w for w in admin_status(rt)["workers"]
                                         if w["index"] == 1 and w["serving"]
                                         and w["pid"] != stuck])
            assert replaced and replaced[0]["restarts"] == 1
            assert "stopped answering" in rt.log()
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(stuck, signal.SIGCONT)


def test_a_slow_run_gives_the_event_loop_up_so_a_quick_request_overtakes_it(
    tmp_path: Path,
) -> None:
    # A fold of a few hundred thousand steps: tens of milliseconds, every time.
    spin = b.http("GET", "/spin", b.call(
        "List::fold_v0", b.call("List::range_v0", 0, 299_999), 0,
        b.lam(["acc", "x"], b.infix("+", b.var("acc"), b.var("x")))))
    with running(tmp_path / "data", ["--workers", "1"]) as rt:
        create_toplevels(rt, [spin])

        async def scenario() -> list[str]:
            finished: list[str] = []
            async with aiohttp.ClientSession() as http:

                async def get(path: str) -> None:
                    async with http.get(f"{rt.http}/c/demo{path}") as resp:
                        await resp.read()
                        finished.append(path)

                spins = [asyncio.create_task(get("/spin")) for _ in range(8)]
                await asyncio.sleep(0.02)
                await get("/hello")
                await asyncio.gather(*spins)
            return finished

        finished = run(scenario())
        # One worker: on a loop held by each run in turn, /hello would come last.
        assert finished.index("/hello") < len(finished) - 1, finished
        assert rt.get("/spin") == (200, sum(range(300_000)))


def test_a_run_moved_off_the_loop_makes_its_effects_once(tmp_path: Path) -> None:
    # A row under a fresh key, then tens of milliseconds of work: the run is moved to
    # a thread after its write, and started again there. The write (and the random
    # key) must be replayed, not made again.
    write = b.call("DB::set_v1", "x", b.call("Uuid::toString_v0", b.call("Uuid::generate_v0")),
                   b.var("Rows_v0"))
    spin = b.call("List::fold_v0", b.call("List::range_v0", 0, 299_999), 0,
                  b.lam(["acc", "x"], b.infix("+", b.var("acc"), b.var("x"))))
    toplevels = [b.datastore("Rows", STRING),
                 b.http("POST", "/slow-write", b.let("_", write, spin)),
                 b.http("GET", "/rows", b.call("DB::count_v0", b.var("Rows_v0")))]
    with running(tmp_path / "data", ["--workers", "1"]) as rt:
        create_toplevels(rt, toplevels)
        for _ in range(3):
            assert rt.request("POST", "/slow-write") == (200, sum(range(300_000)))
        assert rt.get("/rows") == (200, 3)


def test_a_worker_that_keeps_dying_is_restarted_later_each_time(tmp_path: Path) -> None:
    with running(tmp_path / "data", ["--workers", "2"]) as rt:
        pids: list[int] = []
        for _ in range(3):
            current = eventually(lambda: [w for w in admin_status(rt)["workers"]
                                        if w["index"] == 0 and w["serving"]
                                        and w["pid"] not in pids])
            assert current, rt.log()
            pids.append(current[0]["pid"])
            os.kill(pids[-1], signal.SIGKILL)  # dies at once after every start
        assert eventually(lambda: "next start in 2.0 s" in rt.log()), rt.log()
        delays = [line.rsplit("next start in ", 1)[1] for line in rt.log().splitlines()
                  if "next start in" in line]
        assert delays[:3] == ["0.5 s", "1.0 s", "2.0 s"], delays
        # Meanwhile the other worker serves every request.
        assert all(rt.get("/hello")[0] == 200 for _ in range(10))
