"""Workers and crons: handlers that run without an HTTP request.

These loops run in every traffic worker process, on every node; the store's
claims make each event and each cron run happen once among them all.

Workers: `Emit::emit_v0(value, queue)` stores an event durably; the worker
loop claims due events and runs every worker handler of that queue with the
event bound as `event`. A claim is a lease (`LEASE_SECONDS`, far beyond a
run's time limit): an event whose process died mid-run is claimed again once
its lease expires, by any process (at-least-once delivery; exactly once
unless a process dies mid-run). A run that ends incomplete, in an error or on
the error rail is retried with exponential backoff; after `MAX_ATTEMPTS` the
event goes to the dead-letter list, which the editor can show.

Crons: each cron handler runs when its interval has passed since its last
run, unless paused; `claim_cron` lets one process take each run. Every worker
and cron run is stored as a trace.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from runtime.services import RuntimeServices, impure_to_json, new_trace_id
from runtime.store.protocol import QueuedEvent, StoreError
from runtime.traffic.host import CanvasHost
from shared_ast import wire
from shared_ast.eval_context import ImpureLog
from shared_ast.evaluator import run_toplevel
from shared_ast.toplevels import CronSpec, Handler
from shared_ast.values import is_special, show

log = logging.getLogger("gloam.background")

MAX_ATTEMPTS = 5
#: How long a claimed event is this process's before another may claim it again.
LEASE_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 300.0


def backoff_seconds(attempts: int, base: float = 1.0) -> float:
    return float(min(base * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS))


def run_traced(
    services: RuntimeServices,
    canvas: str,
    handler: Handler,
    inputs: dict[str, Any],
    description: str,
) -> Any:
    """Run a handler outside HTTP and store the run as a trace; returns its value."""
    state = services.live.get(canvas)
    if state is None:
        raise LookupError(canvas)
    started = time.perf_counter()
    impure = ImpureLog()
    trace_id = new_trace_id()
    try:
        host = CanvasHost(services, canvas, state.program, tlid=handler.tlid, traffic=True)
        compiled = state.compiled_for(handler)
        budget = services.budget(canvas)
        if compiled is not None:
            # The fast path (issue 6); it agrees with the reference evaluator.
            value = compiled.run(inputs, budget=budget, impure=impure, host=host)
        else:
            value = run_toplevel(handler, inputs, state.program, budget=budget, impure=impure,
                                 host=host)
    except Exception as e:
        log.exception("crash while running %s (trace %s)", description, trace_id)
        value = None
        failure: str | None = f"Gloam crashed: {e}"
    else:
        failure = describe_failure(value)
    services.record_trace(
        canvas=canvas,
        tlid=handler.tlid,
        description=description,
        trace_id=trace_id,
        encode=lambda: (
            wire.json_text({k: wire.encode_value(v) for k, v in inputs.items()}),
            wire.json_text({"value": wire.encode_value(value), "failure": failure}),
            impure_to_json(impure)),
        duration_ms=(time.perf_counter() - started) * 1000,
    )
    if failure is not None:
        raise RunFailed(failure)
    return value


class RunFailed(Exception):
    pass


def describe_failure(value: Any) -> str | None:
    return f"ended with {show(value)}" if is_special(value) else None


async def worker_loop(services: RuntimeServices) -> None:
    store = services.store
    while True:
        # Checked on the loop's own read connection first: an idle poll, 20 times a
        # second, then costs a small read instead of two thread hand-offs.
        try:
            due = store.has_due_events(time.time())
            events = (await asyncio.to_thread(store.claim_events, time.time(), 5,
                                              LEASE_SECONDS) if due else [])
        except StoreError as e:
            log.warning("worker events not claimed: %s", e)
            await asyncio.sleep(max(1.0, services.config.worker_poll_seconds))
            continue
        for event in events:
            # User code runs in a thread, never on the loop that serves requests.
            await asyncio.to_thread(_run_and_settle, services, event)
        if not events:
            await asyncio.sleep(services.config.worker_poll_seconds)


def _run_and_settle(services: RuntimeServices, event: QueuedEvent) -> None:
    _settle(services, event, _run_event(services, event))


def _run_event(services: RuntimeServices, event: QueuedEvent) -> str | None:
    """Run every worker of the event's queue; the failure to record, or None."""
    state = services.live.get(event.canvas)
    workers = state.workers.get(event.queue, ()) if state else ()
    if not workers:
        return f"no worker handles queue {event.queue!r} on canvas {event.canvas!r} yet"
    try:
        payload = wire.decode_value(wire.json_load(event.payload_json))
    except (ValueError, wire.WireError) as e:
        return f"the stored event does not decode: {e}"
    failures = []
    for handler in workers:
        try:
            run_traced(services, event.canvas, handler, {"event": payload}, f"WORKER {event.queue}")
        except (RunFailed, LookupError) as e:
            failures.append(str(e))
    return "; ".join(failures) or None


def _settle(services: RuntimeServices, event: QueuedEvent, failure: str | None) -> None:
    if failure is None:
        services.store.finish_event(event.event_id)
        return
    attempts = event.attempts + 1
    dead = attempts >= MAX_ATTEMPTS
    delay = backoff_seconds(attempts, services.config.worker_backoff_seconds)
    services.store.retry_event(event.event_id, failure, time.time() + delay, dead)
    if dead:
        log.warning(
            "event %s on %s/%s is dead after %s attempts: %s",
            event.event_id,
            event.canvas,
            event.queue,
            attempts,
            failure,
        )


async def cron_loop(services: RuntimeServices) -> None:
    while True:
        now = time.time()
        for state in services.live.states():
            for handler in state.crons:
                assert isinstance(handler.spec, CronSpec)
                try:
                    mine = await asyncio.to_thread(
                        services.store.claim_cron, state.name, handler.tlid, now,
                        handler.spec.interval_seconds)
                except StoreError as e:
                    log.warning("cron %s on %s not claimed: %s", handler.spec.name,
                                state.name, e)
                    continue
                if not mine:
                    continue  # not due, paused, or another process runs it
                try:
                    await asyncio.to_thread(run_traced, services, state.name, handler, {},
                                            f"CRON {handler.spec.name}")
                except (RunFailed, LookupError) as e:
                    log.warning("cron %s on %s: %s", handler.spec.name, state.name, e)
        await asyncio.sleep(services.config.cron_poll_seconds)


def start_background(services: RuntimeServices) -> list[asyncio.Task[None]]:
    tasks = [
        asyncio.create_task(worker_loop(services), name="gloam-workers"),
        asyncio.create_task(cron_loop(services), name="gloam-crons"),
    ]
    for task in tasks:
        task.add_done_callback(_log_crash)
    return tasks


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped: %r; worker events or crons no longer run in this process",
                  task.get_name(), task.exception(), exc_info=task.exception())
