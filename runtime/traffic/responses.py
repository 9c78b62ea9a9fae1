"""From a handler's value to an HTTP answer.

- a `Response` (from `Http::response_v0` and friends) is sent as it says: a
  String body as text, anything else as JSON;
- incomplete code → 500 saying which handler is incomplete;
- an error → 500 naming the error and the node that raised it;
- the error rail → 404 for `Nothing` and for `Error e` (with `e`): what the
  client asked for is missing or unusable, as Dark answered;
- any other value → 200 with the value as JSON.

Error answers are JSON objects `{"error": ..., "hint": ...}`: what happened
and what to do.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from shared_ast.stdlib.json_fns import to_json
from shared_ast.toplevels import Handler, HttpSpec
from shared_ast.values import ErrorRail, ErrorValue, Incomplete, Response, show

JSON = "application/json"
TEXT = "text/plain"


@attrs.frozen
class HttpAnswer:
    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()

    def summary(self) -> dict[str, Any]:
        """What a trace keeps of the answer."""
        return {
            "status": self.status,
            "content_type": self.content_type,
            "headers": [list(h) for h in self.headers],
            "body": self.body.decode("utf-8", errors="replace")[:65536],
        }


def handler_label(handler: Handler) -> str:
    """How answers name a handler: `the handler for GET /users/:id`."""
    if isinstance(handler.spec, HttpSpec):
        return f"the handler for {handler.spec.method} {handler.spec.route}"
    return f"handler {handler.tlid}"


def error_answer(status: int, error: str, hint: str) -> HttpAnswer:
    body = json.dumps({"error": error, "hint": hint}, ensure_ascii=False).encode()
    return HttpAnswer(status, body)


def _json_body(value: Any, label: str) -> HttpAnswer:
    try:
        return HttpAnswer(200, to_json(value).encode())
    except Exception as e:
        return error_answer(
            500,
            f"{label} returned a value that cannot be sent as JSON: {e}",
            "Return a record, list, string or number, or build a response with Http::response_v0.",
        )


def answer_for(value: Any, label: str, trace_id: str | None = None) -> HttpAnswer:
    """The answer to a handler's value; `trace_id`, when given, is named in error
    answers, so the person who got one can find the run in the editor."""
    match value:
        case Response(status=status, body=body, headers=headers):
            content_type = TEXT if isinstance(body, str) else JSON
            extra = []
            for k, v in headers:
                if k.lower() == "content-type":
                    content_type = v
                else:
                    extra.append((k, v))
            if isinstance(body, str):
                data = body.encode()
            elif isinstance(body, bytes):
                data = body
            else:
                inner = _json_body(body, label)
                if inner.status != 200:
                    return inner
                data = inner.body
            return HttpAnswer(status, data, content_type, tuple(extra))
        case Incomplete(node_id=node_id):
            return error_answer(
                500,
                f"{label} is incomplete" + (f" (at node {node_id})" if node_id else "") + ".",
                "Fill in the holes marked in the editor; the handler answers once it is complete.",
            )
        case ErrorValue(message=message, node_id=node_id):
            return error_answer(
                500,
                f"{label} failed: {message}" + (f" (at node {node_id})" if node_id else ""),
                "The node is marked in the editor; pick this request's trace"
                + (f" ({trace_id})" if trace_id else "") + " to see the values.",
            )
        case ErrorRail(value=variant):
            if variant.name == "Nothing":
                return error_answer(
                    404,
                    f"{label} found nothing: a call on the error rail returned Nothing.",
                    "This is the error rail's answer for a missing value.",
                )
            # As Dark did: the rail is how a handler says what was asked for is not there
            # or not usable (`Int::parse` of a route parameter that is not a number), which
            # is the client's to fix, so it is a 4xx like Nothing, not a crash (5xx).
            detail = show(variant.args[0]) if variant.args else ""
            return error_answer(
                404,
                f"{label} found nothing it could use: a call on the error rail returned "
                f"Error {detail}",
                "Check what the request sends (route parameters, query, body) against "
                "what the handler expects.",
            )
    return _json_body(value, label)
