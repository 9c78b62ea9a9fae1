"""The serving and deploy baselines: the benchmark handlers written as a plain aiohttp app.

    python benchmarks/native_app.py PORT [VERSION]

`GET /hello` returns a small string; `GET /fizzbuzz` returns FizzBuzz 1..100
as a JSON list of strings; `GET /sum/{a}/{b}` parses two ints from the route
and returns their sum as JSON; `POST /json` parses a JSON body and returns a
record built from it (the same work the Gloam handlers do, with no traces);
`GET /version` returns VERSION, which the deploy benchmark's reloader
baseline edits on disk. `GET /other` is the steady background traffic.
"""

from __future__ import annotations

import json
import re
import sys

from aiohttp import web

VERSION = 0


def slugify(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


async def hello(_request: web.Request) -> web.Response:
    return web.Response(text="Hello from Gloam!\n")


def fizzbuzz_list() -> list[str]:
    return ["FizzBuzz" if i % 15 == 0 else "Fizz" if i % 3 == 0 else "Buzz" if i % 5 == 0
            else str(i) for i in range(1, 101)]


async def fizzbuzz(_request: web.Request) -> web.Response:
    return web.json_response(fizzbuzz_list())


async def add(request: web.Request) -> web.Response:
    return web.json_response(int(request.match_info["a"]) + int(request.match_info["b"]))


async def record(request: web.Request) -> web.Response:
    body = json.loads(await request.read())
    name = body["name"]
    out = {
        "name": name.upper(),
        "slug": slugify(name),
        "tags": len(body["tags"]),
        "total": body["a"] + body["b"],
    }
    return web.json_response(out)


async def version(_request: web.Request) -> web.Response:
    return web.json_response(VERSION)


def app() -> web.Application:
    application = web.Application()
    application.router.add_get("/hello", hello)
    application.router.add_get("/fizzbuzz", fizzbuzz)
    application.router.add_get("/sum/{a}/{b}", add)
    application.router.add_post("/json", record)
    application.router.add_get("/version", version)
    application.router.add_get("/other", hello)
    return application


if __name__ == "__main__":
    web.run_app(app(), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
