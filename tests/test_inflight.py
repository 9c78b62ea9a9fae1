"""runtime.inflight: the control process holds every connection a worker has open,
and answers 503 exactly those with a request in flight when the worker dies."""

from __future__ import annotations

import os
import socket
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.inflight import Keeper, Ledger


class Transport:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def get_extra_info(self, name: str) -> Any:
        return self.sock if name == "socket" else None


# A step: open a connection, or close / start a request on / answer the k-th open one.
steps = st.lists(st.tuples(st.sampled_from(["open", "close", "busy", "answered"]),
                           st.integers(0, 20)), max_size=60)


@settings(max_examples=60, deadline=None)
@given(steps)
def test_the_control_holds_what_the_worker_has_open_and_answers_what_is_busy(
    script: list[tuple[str, int]],
) -> None:
    keeper = Keeper()
    keeper_fd, state_fd = keeper.child_fds()
    ledger = Ledger(os.dup(keeper_fd), os.dup(state_fd))
    keeper.started_without_loop()
    open_conns: list[tuple[object, socket.socket, socket.socket]] = []
    busy: set[int] = set()
    closed_clients: list[socket.socket] = []
    try:
        for step, k in script:
            if step == "open":
                server, client = socket.socketpair()
                conn = object()
                ledger.opened(conn, Transport(server))  # type: ignore[arg-type]
                open_conns.append((conn, server, client))
                continue
            if not open_conns:
                continue
            conn, server, client = open_conns[k % len(open_conns)]
            if step == "close":
                ledger.closed(conn)
                server.close()
                open_conns.remove((conn, server, client))
                busy.discard(id(conn))
                closed_clients.append(client)
            elif step == "busy":
                ledger.busy(conn)
                busy.add(id(conn))
            else:
                ledger.answered(conn)
                busy.discard(id(conn))
        # Connections the worker closed ended at once for their clients,
        # though the control process has not read the worker's messages yet.
        for client in closed_clients:
            client.settimeout(2)
            assert client.recv(10) == b""
            client.close()
        keeper.drain()
        assert len(keeper.held) == len(open_conns)
        # The worker dies: its copies go, the control's stay.
        for _, server, _ in open_conns:
            server.close()
        ledger.sock.close()
        assert keeper.answer_in_flight("died") == len(busy)
        for conn, _, client in open_conns:
            client.settimeout(2)
            data = b""
            while chunk := client.recv(65536):
                data += chunk
            if id(conn) in busy:
                assert data.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
                assert b"The traffic worker running this request died" in data
            else:
                assert data == b""
            client.close()
    finally:
        keeper.close()
