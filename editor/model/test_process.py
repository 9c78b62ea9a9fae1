"""Running the editor's tests in a process of their own (no Qt here).

A worker thread alone would share the interpreter's lock with the UI thread:
a keystroke arriving while a test runs waits for the lock, again and again,
and typing stutters. So `ProcessRun` (the `run` of `test_runs.TestWorker`)
hands each `RunRequest` to a child process, `python -m editor.model.test_process`,
and waits for its report without holding the lock; the UI thread only pickles
the toplevels that changed since the last request (the child keeps its copy of
the canvas) and the worker thread unpickles the results.

Wire, over the child's stdin and stdout: frames of a 4-byte big-endian length
and a pickle. Parent → child: ("run", generation, updates {tlid: toplevel},
removed tlids, changed, tests, everything), ("abort",) and ("stop",). Child →
parent: ("report",) followed by a frame of the pickled RunReport (the parent
hands it on still pickled, `PackedReport`), ("aborted",) when an "abort" came before its run
ended (it looks between tests), ("unpicklable",) when a result holds a value
pickle cannot carry (the parent then runs that request itself, in its thread),
("error", text) when the run raised.

The child starts with the first canvas that has a test. When it cannot start
or dies, the request runs in the worker thread (`run_request`), and the next
request starts a new child.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import struct
import subprocess
import sys
from collections.abc import Callable
from typing import IO, Any

from editor.model.test_runs import (
    PackedReport,
    RunReport,
    RunRequest,
    chosen_tests,
    run_request,
)
from shared_ast.testing import Suite
from shared_ast.toplevels import Test, Toplevel

__all__ = ["ProcessRun", "main"]

_HEADER = struct.Struct(">I")


def _write(stream: IO[bytes], message: object, data: bytes | None = None) -> None:
    body = data if data is not None else pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def _read_exactly(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            raise EOFError("the test process closed its pipe")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int) -> bytes:
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size))
    return _read_exactly(fd, size)


def _read(fd: int) -> Any:
    return pickle.loads(_read_frame(fd))


def _ready(fd: int, timeout: float) -> bool:
    return bool(select.select([fd], [], [], timeout)[0])


class ProcessRun:
    """Runs requests in a child process; a callable for `TestWorker(run=...)`."""

    def __init__(self, poll_s: float = 0.01) -> None:
        self.poll_s = poll_s
        self._proc: subprocess.Popen[bytes] | None = None
        #: The canvas the child has (by identity of its toplevels).
        self._sent: dict[int, Toplevel] = {}
        #: Why the last start failed, if it did (the thread runs the tests then).
        self.problem = ""

    def _child(self) -> subprocess.Popen[bytes] | None:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._sent = {}
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "editor.model.test_process"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=os.environ.copy())
        except OSError as e:
            self.problem = f"the test process did not start ({e}); tests run in a thread"
            self._proc = None
        return self._proc

    def __call__(self, request: RunRequest,
                 superseded: Callable[[], bool]) -> RunReport | PackedReport | None:
        if self._proc is None and not any(isinstance(tl, Test)
                                          for tl in request.canvas.values()):
            # No tests yet: nothing worth a process (it starts with the first test).
            return run_request(request, superseded)
        proc = self._child()
        if proc is None or proc.stdin is None or proc.stdout is None:
            return run_request(request, superseded)
        canvas = dict(request.canvas)
        updates = {t: tl for t, tl in canvas.items() if self._sent.get(t) is not tl}
        removed = frozenset(set(self._sent) - set(canvas))
        try:
            _write(proc.stdin, ("run", request.generation, updates, removed, request.changed,
                                request.tests, request.everything))
            self._sent = canvas
            out = proc.stdout.fileno()
            aborting = False
            while not _ready(out, self.poll_s):
                if not aborting and superseded():
                    _write(proc.stdin, ("abort",))
                    aborting = True
            kind, frame = _read(out), b""
            if kind == ("report",):
                frame = _read_frame(out)  # left pickled: unpickled where it is shown
        except (OSError, EOFError, pickle.UnpicklingError, struct.error):
            self.stop()  # the next request starts a new child with the whole canvas
            return run_request(request, superseded)
        match kind:
            case ("report",):
                return PackedReport(request.generation, frame)
            case ("aborted",):
                return None
            case ("error", str(text)):
                raise RuntimeError(text)
        return run_request(request, superseded)  # "unpicklable": run it here

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        self._sent = {}
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                _write(proc.stdin, ("stop",))
                proc.stdin.close()
            proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            proc.kill()
            proc.wait()
        finally:
            if proc.stdout is not None:
                proc.stdout.close()


def main() -> int:
    """The child: runs each request on its copy of the canvas, looking for an abort
    between tests."""
    fd = sys.stdin.buffer.fileno()
    # Background work: when the cores are busy, the editor's own process goes first.
    with contextlib.suppress(AttributeError, OSError):
        os.nice(10)
    # Frames go to the real stdout; anything else printed goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    canvas: dict[int, Toplevel] = {}
    while True:
        try:
            message = _read(fd)
        except EOFError:
            return 0
        if message[0] == "stop":
            return 0
        if message[0] != "run":
            continue  # an abort that came after its run ended
        _, generation, updates, removed, changed, tests, everything = message
        canvas.update(updates)
        for tlid in removed:
            canvas.pop(tlid, None)
        request = RunRequest(generation, dict(canvas), changed, tests, everything)
        aborted = False
        try:
            suite = Suite(request.canvas)
            results = []
            for test in chosen_tests(suite, request):
                if _ready(fd, 0):
                    aborted = _read(fd)[0] in ("abort", "stop")
                    if aborted:
                        break
                results.append(suite.run(test))
        except Exception as e:  # say it; the parent reports it
            _write(out, ("error", f"{type(e).__name__}: {e}"))
            continue
        if aborted:
            _write(out, ("aborted",))
            continue
        report = RunReport(generation, tuple(results), frozenset(suite.tests))
        try:
            data = pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            _write(out, ("unpicklable",))
            continue
        _write(out, ("report",))
        _write(out, None, data)


if __name__ == "__main__":
    sys.exit(main())
