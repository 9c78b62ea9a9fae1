"""A throwaway PostgreSQL server for tests: initdb into a temp folder, start, stop.

Why a real server: the PostgreSQL store leans on what only a server does
(`FOR UPDATE SKIP LOCKED`, `LISTEN/NOTIFY`, connections that drop), and a
fake would test the fake. The test run starts its own cluster on a free
loopback port, so no test is skipped for want of PostgreSQL and nothing on
the machine is touched: the data folder is removed at the end.

The server refuses to run as root, so when the tests run as root every
server command runs as the `postgres` system user (`runuser`), in a folder
that user owns. A `gloam` superuser logs in without a password on loopback
(trust): the cluster lives for one test run and listens on 127.0.0.1 only.

Use the session fixture `pg_cluster` (made available to every test module by
`tests/conftest.py`), or `with PgCluster() as cluster:` in a script.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

SUPERUSER = "gloam"
APT_COMMAND = "apt-get update && apt-get install -y postgresql"


def _version_key(bin_dir: str) -> tuple[int, ...]:
    version = Path(bin_dir).parent.name
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def find_bin_dir() -> Path:
    """The newest installed PostgreSQL's bin folder, installing it with apt when root."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key)
    found = [d for d in found if Path(d, "initdb").exists()]
    if found:
        return Path(found[-1])
    on_path = shutil.which("initdb") or shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    if os.geteuid() != 0:
        raise RuntimeError(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found in "
            f"/usr/lib/postgresql/*/bin or on PATH. Install them: sudo sh -c '{APT_COMMAND}'"
        )
    subprocess.run(["apt-get", "update"], check=True, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "postgresql"], check=True, capture_output=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key)
    if not found:
        raise RuntimeError(f"`{APT_COMMAND}` ran but installed no server binaries")
    return Path(found[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One PostgreSQL server in a temp folder, on a free port of 127.0.0.1.

    `fsync=False` makes commits faster and a crash of the machine lose the data:
    fine for a throwaway cluster, but off by default so tests see real commit costs.
    """

    def __init__(self, *, fsync: bool = True, port: int | None = None) -> None:
        self.fsync = fsync
        self.port = port or _free_port()
        self.bin_dir = find_bin_dir()
        self.root: Path | None = None
        self.running = False
        self._databases = 0

    # -------------------------------------------------------------- paths

    @property
    def data_dir(self) -> Path:
        assert self.root is not None, "start() the cluster first"
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.root is not None, "start() the cluster first"
        return self.root / "sock"

    @property
    def log_file(self) -> Path:
        assert self.root is not None, "start() the cluster first"
        return self.root / "server.log"

    # ------------------------------------------------------------ running

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            # The server refuses to run as root.
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = ""
            if self.root is not None and self.log_file.exists():
                log = self.log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}{log}"
            )
        return done

    def start(self) -> PgCluster:
        """initdb a new cluster (first time) and start the server; returns self."""
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="gloam-pg-"))
            self.socket_dir.mkdir()
            if os.geteuid() == 0:
                shutil.chown(self.root, "postgres", "postgres")
                shutil.chown(self.socket_dir, "postgres", "postgres")
            # --no-sync: initdb's own fsync of a folder removed after the run buys nothing.
            self._run("initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust",
                      "-E", "UTF8", "--no-locale", "--no-sync")
        self.unblock()
        return self

    def unblock(self) -> None:
        """Start the server again on the same port and data folder (after `block`)."""
        if self.running:
            return
        options = (
            f"-k {self.socket_dir} -p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=200 "
            "-c shared_buffers=32MB"
        )
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir),
                  "-l", str(self.log_file), "-o", options)
        self.running = True

    def block(self) -> None:
        """Make the server unreachable: stop it (fast: every connection is cut)."""
        if not self.running:
            return
        self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data_dir))
        self.running = False

    def restart(self) -> None:
        self.block()
        self.unblock()

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if self.root is None:
            return
        with contextlib.suppress(RuntimeError):
            self.block()
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------- databases

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database (a copy of template1, which is fast); returns its URL."""
        if name is None:
            self._databases += 1
            name = f"db{self._databases}_{os.getpid()}_{int(time.time() * 1000) % 100000}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL server for the whole test run; each test makes its own database."""
    with PgCluster() as cluster:
        yield cluster
