"""The `Http` module of the Gloam standard library: building HTTP responses.

An HTTP handler returns a value; when it is a `Response` (built here) the
runtime sends that status, those headers and that body. Any other value is
sent as a 200 by the runtime's own rules.

Every function checks what a client would otherwise choke on: a status code
must lie in 100..599, header names must be HTTP tokens and header values must
not contain line breaks (which would let a value inject headers of its own).

- `Http::response_v0(body, code)` and
  `Http::responseWithHeaders_v0(body, headers, code)`: any body; headers are a
  `Dict<String>`, kept in the dict's order.
- `Http::redirectTo_v0(url)`: 302 with a `Location` header and an empty body.
- `Http::notFound_v0()`: 404 with the body `"Not found"`.
- `Http::badRequest_v0(message)`: 400 with `message` as the body.
"""

from __future__ import annotations

import re
from typing import Any

from shared_ast.stdlib.bool_fns import describe
from shared_ast.stdlib.registry import CallContext, LibError, register
from shared_ast.type_ast import INT, RESPONSE, STRING, TDict, TVar
from shared_ast.values import FrozenDict, Response

__all__ = ["check_header", "check_status"]

# RFC 9110 token characters.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

# ---------------------------------------------------------------- helpers


def check_status(code: int) -> int:
    """`code` if it is a valid HTTP status (100..599), else a `LibError`."""
    if not 100 <= code <= 599:
        raise LibError(f"Expected an HTTP status code between 100 and 599, but it was {code}")
    return code


def check_header(name: Any, value: Any) -> tuple[str, str]:
    """A header as a pair, or a `LibError` saying what is wrong with it."""
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        raise LibError(
            f"Expected a header name made of letters, digits and !#$%&'*+-.^_`|~,"
            f" but it was {describe(name)}"
        )
    if not isinstance(value, str):
        raise LibError(
            f"Expected the value of header {name!r} to be a String,"
            f" but it was {describe(value)}"
        )
    if any(c in value for c in "\r\n\0"):
        raise LibError(
            f"The value of header {name!r} contains a line break or NUL character;"
            " expected a single line of text"
        )
    return (name, value)


# ---------------------------------------------------------------- functions


@register(
    "Http", "response", 0, [("body", TVar("a")), ("code", INT)], RESPONSE,
    "Returns an HTTP response with the given body and status code (100..599).",
)
def response_v0(ctx: CallContext, body: Any, code: int) -> Response:
    return Response(check_status(code), body)


@register(
    "Http", "responseWithHeaders", 0,
    [("body", TVar("a")), ("headers", TDict(STRING)), ("code", INT)], RESPONSE,
    "Returns an HTTP response with the given body, headers (a Dict of Strings) and status code.",
)
def response_with_headers_v0(
    ctx: CallContext, body: Any, headers: FrozenDict, code: int
) -> Response:
    status = check_status(code)
    pairs = tuple(check_header(k, v) for k, v in headers.items())
    return Response(status, body, pairs)


@register(
    "Http", "redirectTo", 0, [("url", STRING)], RESPONSE,
    "Returns a 302 response redirecting the client to url (a Location header, empty body).",
)
def redirect_to_v0(ctx: CallContext, url: str) -> Response:
    return Response(302, "", (check_header("Location", url),))


@register(
    "Http", "notFound", 0, [], RESPONSE,
    "Returns a 404 Not Found response.",
)
def not_found_v0(ctx: CallContext) -> Response:
    return Response(404, "Not found")


@register(
    "Http", "badRequest", 0, [("message", STRING)], RESPONSE,
    "Returns a 400 Bad Request response with message as its body.",
)
def bad_request_v0(ctx: CallContext, message: str) -> Response:
    return Response(400, message)
