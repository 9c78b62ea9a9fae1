"""Traffic workers: separate processes, each deploy live in all of them before its ack,
and a worker that dies or stops answering replaced while the others keep serving."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
from runtime_harness import EditorSession, RuntimeProcess, http_request, run, running

from shared_ast import build as b
from shared_ast.ops import CreateToplevel, ReplaceNode


def admin_status(rt: RuntimeProcess) -> dict[str, Any]:
    token = (rt.data_dir / "admin.token").read_text().strip()
    status, body = http_request("GET", f"{rt.editor}/api/admin/status",
                                headers={"Authorization": f"Bearer {token}"})
    assert status == 200, body
    return dict(body)


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


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
        served = [w["requests"] for w in admin_status(rt)["workers"]]
    stale = [(version, answers) for version, answers in seen if set(answers) != {version}]
    assert stale == []
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
        after = wait_for(lambda: [w for w in admin_status(rt)["workers"]
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
            replaced = wait_for(lambda: [w for w in admin_status(rt)["workers"]
                                         if w["index"] == 1 and w["serving"]
                                         and w["pid"] != stuck])
            assert replaced and replaced[0]["restarts"] == 1
            assert "stopped answering" in rt.log()
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(stuck, signal.SIGCONT)
