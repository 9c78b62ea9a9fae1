"""Editor tokens: one or more per canvas, stored only as SHA-256 digests.

The store keeps digests, so a copied database file grants no access. For the
local user's convenience the plain token of each canvas created on this
machine is also kept in `tokens.json` in the data folder, readable only by
its owner; `gloam runtime start` prints it and the editor remembers it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from runtime.store.protocol import FirstBatch, Store, StoreError

TOKENS_FILE = "tokens.json"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hashes: Iterable[str]) -> bool:
    """Constant-time: every stored digest is compared, whichever matches."""
    digest = hash_token(token)
    ok = False
    for stored in stored_hashes:
        ok |= hmac.compare_digest(digest, stored)
    return ok


def read_tokens(data_dir: Path) -> dict[str, str]:
    """Canvas → editor token, for the canvases created on this machine."""
    try:
        data = json.loads((data_dir / TOKENS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def save_token(data_dir: Path, canvas: str, token: str) -> None:
    tokens = read_tokens(data_dir)
    tokens[canvas] = token
    _write_tokens(data_dir, tokens)


def _write_tokens(data_dir: Path, tokens: dict[str, str]) -> None:
    """Replace the file whole (write, fsync, rename), so a crash leaves the old or the new."""
    path = data_dir / TOKENS_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(tokens, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def create_canvas(store: Store, data_dir: Path, name: str,
                  first: FirstBatch | None = None) -> str:
    """Create a canvas, its first editor token and (when given) its first code; returns
    the token.

    The token is written to `tokens.json` before the canvas is committed (with the
    token's digest and the code, in one transaction): a crash in between leaves a
    token for a canvas that does not exist, never a canvas nobody can edit.
    """
    if name in {c.name for c in store.canvases()}:
        raise StoreError(f"there is already a canvas named {name!r}")
    token = secrets.token_urlsafe(24)
    previous = read_tokens(data_dir).get(name)
    save_token(data_dir, name, token)
    try:
        store.create_canvas(name, hash_token(token), first)
    except BaseException:
        if previous is None:
            forget_token(data_dir, name)
        else:
            save_token(data_dir, name, previous)
        raise
    return token


def forget_token(data_dir: Path, canvas: str) -> None:
    tokens = read_tokens(data_dir)
    if tokens.pop(canvas, None) is not None:
        _write_tokens(data_dir, tokens)


ADMIN_TOKEN_FILE = "admin.token"


def ensure_admin_token(data_dir: Path) -> str:
    """The token local commands use to tell a running daemon to reload a canvas."""
    existing = read_admin_token(data_dir)
    if existing:
        return existing
    token = secrets.token_urlsafe(24)
    path = data_dir / ADMIN_TOKEN_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return token


def read_admin_token(data_dir: Path) -> str | None:
    try:
        return (data_dir / ADMIN_TOKEN_FILE).read_text().strip() or None
    except OSError:
        return None
