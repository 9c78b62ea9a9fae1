"""The `Flag` module of the Gloam standard library: conditions for feature flags.

`Flag::justMe_v0` is true only for requests the editor sends with its token
(the runtime checks it and strips it from the request before the code or the
trace sees it), so a flag whose condition it is runs new code for the
programmer alone, in production.

`Flag::rollout_v0 key percent` turns a flag on for a stable share of keys (user
ids, say). A key's bucket is a hash of the flag's name and the key, the same in
every process and on every machine, so a user stays in or out as long as the
percentage does not change, a user inside at 10% is still inside at 50%, and
two flags bucket the same users independently.
"""

from __future__ import annotations

import hashlib

from shared_ast.stdlib.registry import CallContext, LibError, register
from shared_ast.type_ast import BOOL, INT, STRING

__all__ = ["bucket"]

#: Buckets per percent: percentages are whole numbers, buckets are finer so
#: the split over many keys is close to the percentage.
BUCKETS = 10_000


def bucket(flag: str, key: str) -> int:
    """The key's bucket for this flag, 0 to BUCKETS - 1; stable across processes."""
    digest = hashlib.sha256(f"{flag}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


@register(
    "Flag", "rollout", 0, [("key", STRING), ("percent", INT)], BOOL,
    "True for a stable percent (0 to 100) of keys; a key inside stays inside as it grows.",
)
def rollout_v0(ctx: CallContext, key: str, percent: int) -> bool:
    if not 0 <= percent <= 100:
        raise LibError(f"Flag::rollout_v0 takes a percentage from 0 to 100, not {percent}")
    flag = getattr(ctx, "flag", "")
    return bucket(flag, key) < percent * (BUCKETS // 100)


@register(
    "Flag", "justMe", 0, [], BOOL,
    "True for requests the editor sends (Send as me): a flag as a private sandbox in production.",
)
def just_me_v0(ctx: CallContext) -> bool:
    # The runtime sets `from_editor` when the request carried this canvas's editor token.
    return bool(getattr(getattr(ctx, "host", None), "from_editor", False))
