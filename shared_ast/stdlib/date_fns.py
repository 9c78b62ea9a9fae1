"""The `Date` module of the Gloam standard library: points in time.

A Date is an aware `datetime` in UTC with whole seconds, as in the system the
seed describes: `Date::now_v0` drops the fraction of the current second, and
`Date::parse_v0` drops any fraction it reads, so every Date prints and
compares the way it is shown.

`Date::parse_v0` reads ISO 8601 (what Python's `datetime.fromisoformat`
accepts): `2019-07-28T22:42:36Z`, `2019-07-28T22:42:36+02:00` (converted to
UTC), `2019-07-28 22:42:36` and `2019-07-28` (both taken as UTC). It returns a
`Result`: `Error` with a message naming the expected format when the text is
not a date. `Date::toString_v0` writes `2019-07-28T22:42:36Z`, always with
four year digits, and `Date::parse_v0` reads that back exactly.

The module also provides `format_date`, which `Json::serialize_v0` uses.
"""

from __future__ import annotations

import datetime as dt

from shared_ast.stdlib.registry import CallContext, register
from shared_ast.type_ast import DATE, STRING, TResult
from shared_ast.values import Variant, error, ok

__all__ = ["format_date", "parse_date"]

_EXAMPLE = "2019-07-28T22:42:36Z"

# ---------------------------------------------------------------- helpers


def format_date(d: dt.datetime) -> str:
    """`d` in UTC as `2019-07-28T22:42:36Z` (four-digit year, no fraction)."""
    u = d.astimezone(dt.UTC) if d.tzinfo is not None else d
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}"
        f"T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"
    )


def parse_date(s: str) -> dt.datetime | str:
    """The Date that ISO 8601 text `s` spells, or an error message."""
    bad = f"Expected an ISO 8601 date like {_EXAMPLE!r}, got {s[:60]!r}"
    if len(s) > 64:
        return bad
    try:
        d = dt.datetime.fromisoformat(s)
    except ValueError:
        return bad
    try:
        d = d.replace(tzinfo=dt.UTC) if d.tzinfo is None else d.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return f"The date {s[:60]!r} is outside the range of Dates (years 1 to 9999 in UTC)"
    return d.replace(microsecond=0)


# ---------------------------------------------------------------- functions


@register(
    "Date", "now", 0, [], DATE,
    "Returns the current time in UTC, to the second.",
    pure=False,
)
def now_v0(ctx: CallContext) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@register(
    "Date", "parse", 0, [("s", STRING)], TResult(DATE, STRING),
    "Ok of the Date ISO 8601 text s spells (like 2019-07-28T22:42:36Z), else Error.",
)
def parse_v0(ctx: CallContext, s: str) -> Variant:
    d = parse_date(s)
    return error(d) if isinstance(d, str) else ok(d)


@register(
    "Date", "toString", 0, [("date", DATE)], STRING,
    "Returns date as ISO 8601 text in UTC, like 2019-07-28T22:42:36Z.",
)
def to_string_v0(ctx: CallContext, date: dt.datetime) -> str:
    return format_date(date)
