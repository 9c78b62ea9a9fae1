"""The request a trace keeps: stored raw, turned into a Gloam value when read.

A handler sees its request as a Gloam value (`request_value`). Encoding that
value to the wire format for every trace cost a request about as much as
running a small handler, and most traces are never read. So an HTTP trace
stores the request's raw parts as plain JSON (`{"raw_request": {...}}`), and
readers (the editor's trace list, replay) rebuild the value with the same
`request_value` the handler's run used: what the editor shows is what the
handler saw. HTTP traces written before raw requests hold the request as one
wire value; workers' and crons' traces hold their inputs by name, each a wire
value. Both are read as they always were.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from shared_ast import wire
from shared_ast.stdlib.json_fns import from_json
from shared_ast.values import FrozenDict

RAW_KEY = "raw_request"


def parse_body(text: str | None, is_json: bool) -> Any:
    """The body as the handler sees it: parsed JSON, the text, or None (raises LibError)."""
    if text is None:
        return None
    return from_json(text) if is_json else text


def request_value(method: str, path: str, query: dict[str, str], headers: dict[str, str],
                  body: Any) -> FrozenDict:
    return FrozenDict(
        method=method,
        path=path,
        body=body,
        query=FrozenDict(query),
        headers=FrozenDict(headers),
    )


@attrs.frozen
class RawRequest:
    """An HTTP request's parts, as a trace stores them (headers lowercased)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body_text: str | None
    is_json: bool

    def to_json(self) -> str:
        # json.dumps with its default options reuses one encoder; any option builds a
        # new one per call, which cost a request more than the encoding itself.
        return json.dumps({RAW_KEY: {
            "method": self.method, "path": self.path, "query": self.query,
            "headers": self.headers, "body": self.body_text, "json": self.is_json,
        }})

    def value(self) -> FrozenDict:
        return request_value(self.method, self.path, self.query, self.headers,
                             parse_body(self.body_text, self.is_json))


def _raw(stored: Any) -> RawRequest | None:
    if not isinstance(stored, dict) or set(stored) != {RAW_KEY}:
        return None
    r = stored[RAW_KEY]
    return RawRequest(r["method"], r["path"], r["query"], r["headers"], r["body"], r["json"])


def _is_wire_value(stored: Any) -> bool:
    return isinstance(stored, dict) and isinstance(stored.get("kind"), str)


def trace_bindings(input_json: str) -> dict[str, Any]:
    """The variables a trace's run was given, by name. An HTTP trace holds the request
    (raw, or as one wire value in traces written before raw requests); a worker's or
    cron's holds its inputs by name (`{"event": wire value}`, or `{}`)."""
    stored = wire.json_load(input_json)
    raw = _raw(stored)
    if raw is not None:
        return {"request": raw.value()}
    if _is_wire_value(stored):
        return {"request": wire.decode_value(stored)}
    if not isinstance(stored, dict):
        raise wire.WireError(f"a trace's input is neither a request nor named inputs: "
                             f"{input_json[:80]}")
    return {name: wire.decode_value(value) for name, value in stored.items()}


def input_wire(input_json: str) -> Any:
    """The input as the editor reads it (see docs/protocol.md): an HTTP trace's request
    as one wire value, a worker's or cron's inputs as stored (a wire value by name)."""
    stored = wire.json_load(input_json)
    raw = _raw(stored)
    if raw is None:
        return stored
    # from_json reads at most 500 levels, well inside what the wire format allows.
    return wire.encode_value(raw.value())
