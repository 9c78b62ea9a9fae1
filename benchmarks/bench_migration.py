"""Migrations: the background conversion of ROWS rows (goal ≥ 20,000 rows/s on SQLite),
and a handler reading the datastore during it (p99 over p99 before, goal ≤ 2).

Setup: a real `gloam runtime serve` on its SQLite default, `--workers 1`, locking on
with a lock window of LOCK_WINDOW s instead of the default week (the window decides
only when the conversion starts, not how fast it goes, and a week does not fit in a
benchmark). `Users_v0 : {name, email: String, age: Int}` holds ROWS rows, written
straight into the runtime's SQLite file in one transaction (100,000 requests would
take minutes and measure nothing here). The reading handler, with traffic, so locked:

    GET /user/:id  →  match DB::get_v2 id Users_v0
                        Just u  -> {email: u.email, adult: u.age >= 18}
                        Nothing -> Http::response_v0 "no such user" 404

Then `Users_v1 : {first, last, email: String, age: Int}` with its conversions
(rollforward splits the name at its first space and lowercases the email; rollback
joins them) is deployed, and the handler moves to it as a user would on code in use:
wrapped in a flag whose new branch names Users_v1, then the flag committed. From then
no code names Users_v0; a lock window later the runtime converts every row in the
background, in batches of 1,000, each one transaction.

The load: CONCURRENCY clients requesting random ids back to back (aiohttp, keep-alive)
the whole time; latencies are kept with their start times. `migration_read_p99_ratio`
is the p99 of requests that started while the conversion ran over the p99 of those
of the BEFORE_S seconds before anything changed (reading through v0, nothing to
convert): the baseline, in the same run. The conversion's span is the converter's
own timestamps (its first state "converting" and its "done", read from
`/api/admin/status` every POLL_S); `migration_rows_per_s` is ROWS over that span.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import common

from shared_ast import build as b
from shared_ast import wire
from shared_ast.type_ast import INT, STRING, TRecord, TRecordField

ROWS = 100_000
LOCK_WINDOW = 2.0
CONCURRENCY = 4
BEFORE_S = 5.0
POLL_S = 0.1
GOAL_RATE = 20_000
GOAL_RATIO = 2.0

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def rec(**fields: Any) -> TRecord:
    return TRecord(tuple(TRecordField(k, v) for k, v in fields.items()))


def canvas() -> tuple[Any, ...]:
    v0 = b.datastore("Users", rec(name=STRING, email=STRING, age=INT))

    def u(name: str) -> Any:
        return b.field(b.var("u"), name)

    def row(name: str) -> Any:
        return b.field(b.var("row"), name)

    reference = b.var("Users_v0")
    handler = b.http("GET", "/user/:id", b.match(
        b.call("DB::get_v2", b.var("id"), reference),
        (b.pctor("Just", b.pvar("u")),
         b.record(email=u("email"), adult=b.infix(">=", u("age"), 18))),
        (b.pctor("Nothing"), b.call("Http::response_v0", "no such user", 404))))
    parts = b.call("String::split_v1", row("name"), " ")
    v1, forward, back = b.datastore_version(
        v0, rec(first=STRING, last=STRING, email=STRING, age=INT),
        b.let("parts", parts, b.record(
            first=b.call("Option::withDefault_v0", b.call("List::head_v1", b.var("parts")), ""),
            last=b.call("String::join_v0", b.call("List::drop_v0", b.var("parts"), 1), " "),
            email=b.call("String::toLowercase_v1", row("email")),
            age=row("age"))),
        b.record(name=b.call("String::trim_v0", b.infix("++", b.infix("++", row("first"), " "),
                                                        row("last"))),
                 email=row("email"), age=row("age")))
    return v0, handler, reference, v1, forward, back


def fill(db_file: Path) -> None:
    first = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken"]
    last = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"]
    rng = random.Random(7)
    rows = []
    for i in range(ROWS):
        name = f"{rng.choice(first)} {rng.choice(last)}"
        value = {"name": name, "email": f"{name.replace(' ', '.')}{i}@Example.COM",
                 "age": rng.randint(5, 90)}
        from shared_ast.values import FrozenDict

        text = wire.json_text(wire.encode_value(FrozenDict(value)))
        rows.append(("demo", "Users_v0", f"user{i:06}", text, 0))
    db = sqlite3.connect(db_file, timeout=60)
    with db:
        db.executemany("INSERT INTO datastore_rows (canvas, datastore, key, value_json, version) "
                       "VALUES (?, ?, ?, ?, ?)", rows)
    db.close()


def p99(values: list[float]) -> float:
    return round(common.percentile(values, 99), 2) if values else float("nan")


#: The first answer that was not a 200, to say what went wrong.
FIRST_FAILURE: list[str] = []


async def load(url: str, stop: asyncio.Event, out: list[tuple[float, float, int]]) -> None:
    import aiohttp

    rng = random.Random(11)

    async def client(http: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            key = f"user{rng.randrange(ROWS):06}"
            start = time.time()
            t0 = time.perf_counter()
            try:
                async with http.get(f"{url}/user/{key}") as resp:
                    body = await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, OSError) as e:
                status, body = 0, repr(e).encode()
            if status != 200 and not FIRST_FAILURE:
                FIRST_FAILURE.append(f"{status}: {body[:300]!r}")
            out.append((start, (time.perf_counter() - t0) * 1000, status))

    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(client(http) for _ in range(CONCURRENCY)))


async def scenario(rt: Any) -> dict[str, Any]:
    import aiohttp
    from runtime_harness import EditorSession

    from shared_ast.nodes import EFlag
    from shared_ast.ops import CreateToplevel, ReplaceNode

    v0, handler, reference, v1, forward, back = canvas()
    url = f"{rt.http}/c/demo"
    samples: list[tuple[float, float, int]] = []
    polls: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http:
        ed = await EditorSession.open(http, rt)
        got = await ed.deploy([CreateToplevel(v0), CreateToplevel(handler)])
        assert got["type"] == "ack", got
        fill(rt.data_dir / "gloam.sqlite3")
        async with http.get(f"{url}/user/user000001") as resp:
            first = await resp.json()
            assert resp.status == 200 and "email" in first, first
        stop = asyncio.Event()
        loader = asyncio.create_task(load(url, stop, samples))
        await asyncio.sleep(BEFORE_S)
        moved_at = time.time()
        got = await ed.deploy([CreateToplevel(forward), CreateToplevel(back),
                               CreateToplevel(v1)])
        assert got["type"] == "ack", got
        # The handler has traffic: locked. Move it the way the lock allows.
        flag = EFlag(b.new_id(), "users-v1", b.bool_(False), reference, b.var("Users_v1"))
        got = await ed.deploy([ReplaceNode(handler.tlid, reference.id, reference, flag)])
        assert got["type"] == "ack", got
        got = await ed.deploy([ReplaceNode(handler.tlid, flag.id, flag, flag.new)])
        assert got["type"] == "ack", got
        token = (rt.data_dir / "admin.token").read_text().strip()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            async with http.get(f"{rt.editor}/api/admin/status",
                                headers={"Authorization": f"Bearer {token}"}) as resp:
                status = await resp.json()
            states = [s for s in status.get("migrations", {}).get("demo", [])
                      if s.get("storage") == "Users_v0"]
            if states:
                polls.append({"at": time.time(), **states[0]})
                if states[0].get("state") == "done":
                    break
                if states[0].get("state") == "blocked":
                    raise RuntimeError(f"the conversion is blocked: {states[0]}")
            await asyncio.sleep(POLL_S)
        await asyncio.sleep(1.0)  # a little traffic after, so the window is surrounded
        stop.set()
        await loader
        await ed.ws.close()
    converting = [p for p in polls if p.get("state") == "converting"]
    done = [p for p in polls if p.get("state") == "done"]
    if not converting or not done:
        raise RuntimeError(f"the conversion was not seen to run and finish: {polls[-3:]}")
    # The converter's own clock: its first converting state (rows done then) and its "done".
    start, end = converting[0]["updated_at"], done[0]["updated_at"]
    already = int(converting[0].get("done") or 0)
    before = [ms for at, ms, st in samples if at < moved_at and st == 200]
    during = [ms for at, ms, st in samples if start <= at <= end and st == 200]
    failed = sum(1 for _, _, st in samples if st != 200)
    rate = (ROWS - already) / max(end - start, 1e-6)
    return {
        "migration_rows": ROWS,
        "migration_seconds": round(end - start, 2),
        "migration_rows_per_s": round(rate),
        "migration_rows_per_s_goal": GOAL_RATE,
        "migration_rows_per_s_met": rate >= GOAL_RATE,
        "migration_read_p99_before_ms": p99(before),
        "migration_read_p99_during_ms": p99(during),
        "migration_read_p50_before_ms": round(common.percentile(before, 50), 2),
        "migration_read_p50_during_ms": round(common.percentile(during, 50), 2),
        "migration_read_requests_before": len(before),
        "migration_read_requests_during": len(during),
        "migration_read_failed_requests": failed,
        "migration_read_p99_ratio": round(p99(during) / p99(before), 2),
        "migration_read_p99_ratio_goal": GOAL_RATIO,
        "migration_read_p99_ratio_met": p99(during) / p99(before) <= GOAL_RATIO,
        "migration_final_versions": done[0].get("versions"),
    }


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="gloam-bench-migration-") as tmp, \
            common.runtime(Path(tmp) / "data", ["--workers", "1", "--lock-window",
                                                str(LOCK_WINDOW)]) as rt:
        figures = asyncio.run(scenario(rt))
    summary = (f"{figures['migration_rows_per_s']:,} rows/s converting {ROWS:,} rows "
               f"(goal ≥ {GOAL_RATE:,}: {'met' if figures['migration_rows_per_s_met'] else 'MISSED'}); "
               f"read p99 {figures['migration_read_p99_during_ms']} ms during vs "
               f"{figures['migration_read_p99_before_ms']} ms before = "
               f"{figures['migration_read_p99_ratio']}x (goal ≤ {GOAL_RATIO}: "
               f"{'met' if figures['migration_read_p99_ratio_met'] else 'MISSED'})")
    common.report("migration", figures, summary)
    print(json.dumps(figures["migration_final_versions"]))
    if FIRST_FAILURE:
        print(f"first failed request: {FIRST_FAILURE[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
