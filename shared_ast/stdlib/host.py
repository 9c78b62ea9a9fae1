"""What a library function may ask of the process it runs in: datastores and queues.

The language core runs anywhere (the editor previews code, tests evaluate it),
but datastores and worker queues exist only inside the runtime. The runtime
passes a `Host` to the evaluator; library functions reach it as `ctx.host`.
Where there is none (an editor preview, a plain `gloam eval`) these functions
stop with a clear error instead of pretending to write.
"""

from __future__ import annotations

from typing import Any, Protocol

from shared_ast.stdlib.registry import CallContext, LibError
from shared_ast.values import DatastoreRef


class Host(Protocol):
    def ds_set(self, ds: DatastoreRef, key: str, value: Any) -> None:
        """Store `value` under `key`; raises LibError when it does not fit the schema."""
        ...

    def ds_get(self, ds: DatastoreRef, key: str) -> Any | None: ...
    def ds_items(self, ds: DatastoreRef) -> list[tuple[str, Any]]: ...
    def ds_delete(self, ds: DatastoreRef, key: str) -> None: ...
    def ds_count(self, ds: DatastoreRef) -> int: ...
    def emit(self, queue: str, value: Any) -> None: ...


def host_of(ctx: CallContext, what: str) -> Host:
    host = getattr(ctx, "host", None)
    if host is None:
        raise LibError(
            f"{what} runs only inside the Gloam runtime (in a handler, worker or cron); "
            "here there is no runtime to hold the data"
        )
    return host  # type: ignore[no-any-return]
