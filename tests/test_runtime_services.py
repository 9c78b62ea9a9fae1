"""runtime/services.py: traces kept off the request path, encoded only when retention keeps them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from runtime.config import RuntimeConfig
from runtime.services import TRACE_DELAY, RuntimeServices
from runtime.store.sqlite import SQLiteStore
from runtime.traffic.live import LiveTable


def test_only_the_traces_retention_keeps_are_encoded_and_stored(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "g.sqlite3")
    store.create_canvas("c", "hash")
    services = RuntimeServices(RuntimeConfig(data_dir=tmp_path, trace_keep_last=10), store,
                               LiveTable())
    encoded: list[str] = []

    def encoder(trace_id: str) -> Callable[[], tuple[str, str, str]]:
        def encode() -> tuple[str, str, str]:
            encoded.append(trace_id)
            return "{}", "{}", "[]"
        return encode

    async def traffic() -> None:
        services.loop = asyncio.get_running_loop()
        for i in range(25):  # 20 requests of handler 1, 5 of handler 2, one batch
            services.record_trace(canvas="c", tlid=2 if i % 5 == 0 else 1,
                                  description="GET /x", trace_id=f"t{i:02d}",
                                  encode=encoder(f"t{i:02d}"), duration_ms=0.1)
        await asyncio.sleep(TRACE_DELAY * 4)

    asyncio.run(traffic())
    newest_of_1 = [f"t{i:02d}" for i in range(25) if i % 5][-10:]
    all_of_2 = [f"t{i:02d}" for i in range(0, 25, 5)]
    assert sorted(encoded) == sorted(newest_of_1 + all_of_2)
    assert sorted(t.trace_id for t in store.traces("c", 1, 100)) == sorted(newest_of_1)
    assert sorted(t.trace_id for t in store.traces("c", 2, 100)) == sorted(all_of_2)
    assert services.traced == 25
    store.close()
