"""The editor's asyncio loop: qasync's, with its last pass after stopping fixed.

`qasync.QEventLoop.run_until_complete` stops the loop and then processes Qt's
events once more, after it has already told asyncio that no loop is running.
Asyncio callbacks due in that pass (a session's writer woken by a queued
message, a task's next step) run without a running loop, and anything in them
that asks for one fails: `asyncio.Queue.get` raises "bound to a different event
loop", `create_task` and `wait_for` raise "no running event loop". A session's
writer died that way in the editor's end-to-end tests, and every later request
went unanswered. This loop keeps itself the running loop through that pass.
"""

from __future__ import annotations

import asyncio
from typing import Any

import qasync


class EditorLoop(qasync.QEventLoop):  # type: ignore[misc]  # qasync is untyped: a base of type Any
    _finishing = False

    def run_until_complete(self, future: Any) -> Any:
        if self.is_running():  # refused by qasync; the running loop must stay as it is
            return super().run_until_complete(future)
        self._finishing = True
        try:
            return super().run_until_complete(future)
        finally:
            self._finishing = False
            asyncio.events._set_running_loop(None)

    def _after_run_forever(self) -> None:
        super()._after_run_forever()
        if self._finishing:
            # run_forever has just cleared the running loop; its caller,
            # run_until_complete, still has one pass of Qt events to process.
            asyncio.events._set_running_loop(self)
