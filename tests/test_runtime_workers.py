"""Traffic workers: separate processes, each deploy live in all of them before its ack,
and a worker that dies or stops answering replaced while the others keep serving."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
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


def _address(rt: RuntimeProcess) -> tuple[str, int]:
    host, port = rt.http.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def worker_holding(rt: RuntimeProcess, client: socket.socket) -> int:
    """The pid of the traffic worker that accepted `client`'s connection (by the
    server-side socket's inode, from /proc/net/tcp)."""
    _, port = _address(rt)
    client_port = client.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) == client_port:
            inode = fields[9]
    assert inode is not None, "the connection is not in /proc/net/tcp"
    for worker in admin_status(rt)["workers"]:
        fds = Path(f"/proc/{worker['pid']}/fd")
        for fd in fds.iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == f"socket:[{inode}]":
                    return int(worker["pid"])
    raise AssertionError("no worker holds the connection")


def half_sent_request(rt: RuntimeProcess) -> socket.socket:
    """A connection whose request is in flight: headers sent, the body not all, so
    the handler waits for the rest as long as the test likes."""
    sock = socket.create_connection(_address(rt))
    sock.sendall(b"POST /c/demo/hello HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
                 b"Content-Length: 10\r\n\r\nabc")
    sock.settimeout(15)
    return sock


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def idle_connection(rt: RuntimeProcess) -> socket.socket:
    """A keep-alive connection that has had its answer and waits for the next request."""
    sock = socket.create_connection(_address(rt))
    sock.settimeout(15)
    sock.sendall(b"GET /c/demo/hello HTTP/1.1\r\nHost: t\r\n\r\n")
    assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    return sock


def test_a_killed_workers_requests_in_flight_are_answered_503_and_its_idle_ones_closed(
    tmp_path: Path,
) -> None:
    with running(tmp_path / "data", ["--workers", "2"]) as rt:
        in_flight = [half_sent_request(rt) for _ in range(6)]
        idle = [idle_connection(rt) for _ in range(6)]
        time.sleep(0.3)  # every request has reached its handler
        victim = worker_holding(rt, in_flight[0])
        theirs = [s for s in in_flight if worker_holding(rt, s) == victim]
        others = [s for s in in_flight if s not in theirs]
        idle_theirs = [s for s in idle if worker_holding(rt, s) == victim]
        os.kill(victim, signal.SIGKILL)
        for sock in theirs:
            head, _, body = read_all(sock).partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 503 "), head
            assert b"Connection: close" in head
            error = json.loads(body)
            assert "worker running this request exited with code -9" in error["error"]
            assert "send it again" in error["hint"]
        for sock in idle_theirs:
            assert read_all(sock) == b""  # closed, not left hanging
        # The other worker's requests are untouched: they finish when their body does, and
        # get their canvas's answer (404: the demo has no POST /hello).
        for sock in others:
            sock.sendall(b"defghij")
            answer = read_all_until_answer(sock)
            assert answer.startswith(b"HTTP/1.1 404") and b"X-Gloam-Trace" in answer
        assert all(rt.get("/hello") == (200, "Hello from Gloam!\n") for _ in range(10))
        assert "answered" in rt.log() and "request(s) in flight 503" in rt.log()


def read_all_until_answer(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    return data


def test_a_stuck_workers_requests_in_flight_are_answered_503_when_it_is_replaced(
    tmp_path: Path,
) -> None:
    with running(tmp_path / "data", ["--workers", "2", "--stall-seconds", "1"]) as rt:
        sock = half_sent_request(rt)
        time.sleep(0.3)
        stuck = worker_holding(rt, sock)
        os.kill(stuck, signal.SIGSTOP)
        try:
            head, _, body = read_all(sock).partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 503 "), head
            assert "stopped answering for" in json.loads(body)["error"]
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(stuck, signal.SIGCONT)


def test_connections_a_worker_closes_end_at_once_though_the_control_holds_them_too(
    tmp_path: Path,
) -> None:
    with running(tmp_path / "data", ["--workers", "1"]) as rt:
        assert rt.proc is not None
        control = rt.proc.pid
        fds_before = len(os.listdir(f"/proc/{control}/fd"))
        for _ in range(50):
            sock = socket.create_connection(_address(rt))
            sock.settimeout(5)
            sock.sendall(b"GET /c/demo/hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            # The worker closes after its answer; the client must see the end now, not
            # when the control process lets its copy go.
            assert read_all(sock).startswith(b"HTTP/1.1 200")
            sock.close()
        # While connections are open the control process holds a copy of each, and
        # lets it go when the connection ends: no descriptor leaks.
        def control_fds() -> int:
            return len(os.listdir(f"/proc/{control}/fd"))

        idle = [idle_connection(rt) for _ in range(30)]
        assert eventually(lambda: control_fds() >= fds_before + 30 or None, timeout=10)
        for sock in idle:
            sock.close()
        eventually(lambda: control_fds() <= fds_before + 2 or None, timeout=10)
        assert control_fds() <= fds_before + 2
