"""Connections to PostgreSQL for `PostgresStore`: a small pool, errors, the deploy listener.

Why not psycopg_pool: during an outage its callers wait for its timeout while
it reconnects in the background with exponential backoff, so a call during an
outage hangs for seconds and the first calls after one can still fail. A store
should instead fail at once with an error that says what to do, and the very
next call after the server is back should simply work. So this pool is
deliberately plain: idle connections on a stack, a new connection when none
is idle, and when a connection turns out dead every idle one is dropped with
it (a server restart kills them all). A transaction that failed on a reused
connection before anything was sent for commit is retried once on a fresh
connection, which makes a server restart invisible to callers.

Notifications: one dedicated connection in a daemon thread LISTENs on the
deploy channel; when it is lost it reconnects and tells subscribers to catch
up from the ops log, since notifications sent meanwhile are gone.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from typing import TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from runtime.store.protocol import StoreError, StoreUnavailable

T = TypeVar("T")
log = logging.getLogger("gloam.store")

#: The channel every commit notifies, with payload `["canvas", seq]`.
DEPLOY_CHANNEL = "gloam_deploys"


def _one_line(e: BaseException) -> str:
    return re.sub(r"\s+", " ", str(e)).strip() or type(e).__name__


def describe_url(url: str) -> tuple[str, str]:
    """(`host:port`, `user@host:port/db`) of a connection URL, never its password."""
    params = conninfo_to_dict(url)
    host = str(params.get("host") or "localhost")
    port = str(params.get("port") or 5432)
    user = str(params.get("user") or "")
    dbname = str(params.get("dbname") or user)
    where = f"{host}:{port}"
    return where, f"{user + '@' if user else ''}{where}/{dbname}"


def explain(e: psycopg.Error, where: str) -> StoreError:
    """A database refusal (not a lost connection) as a StoreError that says what to do."""
    text = _one_line(e)
    if isinstance(e, pg_errors.DiskFull):
        return StoreError(f"the disk of the PostgreSQL server at {where} is full ({text}); "
                          "nothing was changed. Free some space on the server and try again.")
    if isinstance(e, pg_errors.UntranslatableCharacter) or "NUL (0x00)" in text:
        return StoreError(f"PostgreSQL cannot store this ({text}): its text and JSON values "
                          "may not contain the character U+0000; nothing was changed.")
    if isinstance(e, pg_errors.InsufficientPrivilege):
        return StoreError(f"the PostgreSQL user may not do this at {where} ({text}); nothing "
                          "was changed. Grant it the rights on Gloam's tables.")
    if isinstance(e, pg_errors.UniqueViolation):
        return StoreError(f"this already exists in the database ({text}); nothing was changed.")
    return StoreError(f"the PostgreSQL database at {where} refused this ({text}); "
                      "nothing was changed.")


def unreachable(e: BaseException, where: str, *, committing: bool = False) -> StoreUnavailable:
    text = _one_line(e)
    if committing:
        return StoreUnavailable(
            f"the connection to the PostgreSQL database at {where} was lost while committing "
            f"({text}); the change may or may not have been saved. Gloam reconnects on the "
            "next call: read the current state back before trying again.")
    hint = "Check that the server is running and reachable; Gloam reconnects on the next call."
    if "does not exist" in text:
        hint = "Create the database (createdb NAME) or fix the name in the URL."
    elif "authentication" in text or "password" in text:
        hint = "Check the user and password in the database URL."
    return StoreUnavailable(
        f"the PostgreSQL database at {where} is unreachable ({text}); nothing was changed. "
        f"{hint}")


class Connections:
    """At most `max_size` connections to one database, each used by one thread at a time."""

    def __init__(self, url: str, *, max_size: int = 8, connect_timeout: float = 5.0) -> None:
        self.where, self.label = describe_url(url)
        # Keepalives: a host that vanished (no FIN) is noticed in seconds, not hours.
        self._conninfo = make_conninfo(
            url, connect_timeout=max(1, round(connect_timeout)), application_name="gloam",
            keepalives=1, keepalives_idle=10, keepalives_interval=3, keepalives_count=3)
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_size)
        self._slot_timeout = max(30.0, connect_timeout)
        self._closed = False
        #: Whether the last contact with the database succeeded.
        self.available = True

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection:
        """A new connection; StoreUnavailable (and `available` False) if none can be made."""
        try:
            conn = psycopg.connect(self._conninfo, autocommit=autocommit)
        except psycopg.Error as e:
            self.available = False
            raise unreachable(e, self.where) from None
        self.available = True
        return conn

    def _take(self) -> tuple[psycopg.Connection, bool]:
        if self._closed:
            raise StoreError("the store is closed")
        if not self._slots.acquire(timeout=self._slot_timeout):
            raise StoreError(f"every connection to the PostgreSQL database at {self.where} "
                             "stayed busy; nothing was changed. Try again.")
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        try:
            return self.connect(), False
        except BaseException:
            self._slots.release()
            raise

    def _give_back(self, conn: psycopg.Connection) -> None:
        try:
            healthy = (not conn.closed and not conn.broken
                       and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE)
            with self._lock:
                if healthy and not self._closed:
                    self._idle.append(conn)
                    return
            conn.close()
        finally:
            self._slots.release()

    def drop_idle(self) -> None:
        """Close every idle connection: after one was found dead the rest are likely dead too."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def run(self, fn: Callable[[psycopg.Connection], T], *, snapshot: bool = False) -> T:
        """Run `fn` in one transaction and commit it; errors come out as StoreError.

        `snapshot`: every read in `fn` sees one moment (REPEATABLE READ).
        """
        for attempt in range(2):
            conn, reused = self._take()
            committing = False
            try:
                if snapshot:
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                result = fn(conn)
                committing = True
                conn.commit()
            except psycopg.Error as e:
                if conn.closed or conn.broken:
                    conn.close()
                    self._slots.release()
                    self.drop_idle()
                    if reused and not committing and attempt == 0:
                        continue  # died while idle (a server restart): nothing was sent
                    self.available = False
                    raise unreachable(e, self.where, committing=committing) from None
                self._rollback(conn)
                self.available = True
                raise explain(e, self.where) from None
            except BaseException:
                self._rollback(conn)
                raise
            self._give_back(conn)
            self.available = True
            return result
        raise AssertionError("unreachable")  # the loop returns or raises

    def _rollback(self, conn: psycopg.Connection) -> None:
        try:
            conn.rollback()
        except psycopg.Error:
            conn.close()
        self._give_back(conn)

    def close(self) -> None:
        self._closed = True
        self.drop_idle()


class Listener:
    """The LISTEN connection and the daemon thread that hands notifications to subscribers."""

    def __init__(self, conns: Connections) -> None:
        self._conns = conns
        self._callbacks: list[Callable[[str, int], None]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._catch_up_first = False

    def add(self, callback: Callable[[str, int], None], wait: float) -> None:
        """Subscribe; waits up to `wait` s for the LISTEN to be in place."""
        with self._lock:
            self._callbacks.append(callback)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="gloam-pg-listen",
                                                daemon=True)
                self._thread.start()
        if not self._listening.wait(wait):
            # The subscriber goes on without us; whatever it misses until we listen,
            # it catches up from the ops log when we say so.
            with self._lock:
                self._catch_up_first = True

    def _deliver(self, canvas: str, seq: int) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(canvas, seq)
            except Exception:
                log.exception("a deploy subscriber failed on %s/%s", canvas, seq)

    def _loop(self) -> None:
        missed = False
        delay = 0.1
        while not self._stop.is_set():
            try:
                conn = self._conns.connect(autocommit=True)
            except StoreError as e:
                if not missed:
                    log.warning("deploy notifications stopped: %s", e)
                missed = True
                self._stop.wait(delay)
                delay = min(delay * 2, 1.0)
                continue
            try:
                conn.execute(f"LISTEN {DEPLOY_CHANNEL}")
                self._listening.set()
                delay = 0.1
                with self._lock:
                    missed, self._catch_up_first = missed or self._catch_up_first, False
                if missed:
                    log.info("deploy notifications are back; catching up from the ops log")
                    # The pool's idle connections died with the server too.
                    self._conns.drop_idle()
                    self._deliver("", -1)
                    missed = False
                while not self._stop.is_set():
                    for note in conn.notifies(timeout=0.5):
                        self._on_notify(note.payload)
            except psycopg.Error as e:
                if not self._stop.is_set():
                    self._listening.clear()
                    self._conns.available = False
                    log.warning("deploy notifications lost (%s); reconnecting", _one_line(e))
                    missed = True
            finally:
                conn.close()

    def _on_notify(self, payload: str) -> None:
        try:
            canvas, seq = json.loads(payload)
        except (ValueError, TypeError):
            log.warning("ignored a malformed deploy notification %r", payload)
            return
        self._deliver(str(canvas), int(seq))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
