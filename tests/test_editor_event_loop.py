"""editor/event_loop.py: callbacks in qasync's last pass after a stop still see their loop."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import qasync

from editor.event_loop import EditorLoop


def last_pass_sees(loop: Any) -> list[object]:
    """Run a coroutine whose last act schedules a callback that runs only after the
    loop was told to stop; return what that callback found as the running loop."""
    seen: list[object] = []

    def late() -> None:
        try:
            seen.append(asyncio.get_running_loop())
        except RuntimeError as e:
            seen.append(e)

    async def body() -> None:
        # Scheduled before the loop's stop, it schedules `late` after the stop.
        loop.call_soon(lambda: loop.call_soon(late))

    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(body())
        # Anything still due runs the next time Qt processes events.
        if not seen:
            loop.run_until_complete(asyncio.sleep(0.01))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return seen


def test_plain_qasync_runs_late_callbacks_with_no_running_loop(qapp: Any) -> None:
    # The behaviour EditorLoop exists for; if qasync fixes it, this test says so.
    seen = last_pass_sees(qasync.QEventLoop(qapp))
    assert len(seen) == 1 and isinstance(seen[0], RuntimeError), seen


def test_the_editor_loop_is_the_running_loop_in_its_last_pass(qapp: Any) -> None:
    loop = EditorLoop(qapp)
    seen = last_pass_sees(loop)
    assert seen == [loop]
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()  # and it is not left running afterwards


def test_a_queue_woken_in_the_last_pass_keeps_working(qapp: Any) -> None:
    """The failure seen in the end-to-end tests: a consumer woken after the stop ran
    without a running loop, and its next `queue.get()` raised "bound to a different
    event loop", so it took one item and died (with qasync.QEventLoop, `got` is ["one"])."""
    loop = EditorLoop(qapp)
    asyncio.set_event_loop(loop)
    got: list[str] = []

    async def consume(queue: asyncio.Queue[str]) -> None:
        while True:
            got.append(await queue.get())

    async def start() -> tuple[asyncio.Queue[str], asyncio.Task[None]]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        return queue, asyncio.ensure_future(consume(queue))

    try:
        queue, task = loop.run_until_complete(start())
        for word in ("one", "two", "three"):
            async def put(w: str = word) -> None:
                loop.call_soon(queue.put_nowait, w)  # wakes the consumer after the stop
            loop.run_until_complete(put())
        loop.run_until_complete(asyncio.sleep(0.05))
        assert got == ["one", "two", "three"]
        assert not task.done()
        task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def test_a_refused_nested_run_leaves_the_running_loop_alone(qapp: Any) -> None:
    loop = EditorLoop(qapp)
    asyncio.set_event_loop(loop)
    seen: list[object] = []

    async def body() -> None:
        inner = asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="already running"):
            loop.run_until_complete(inner)
        inner.close()
        seen.append(asyncio.get_running_loop())
        await asyncio.sleep(0)  # and the loop still runs tasks

    try:
        loop.run_until_complete(body())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    assert seen == [loop]
