"""The daemon commands as a user runs them: start, status, curl, stop, start again."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from runtime_harness import ROOT, eventually, http_request


def gloam(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gloam.cli", *args], cwd=ROOT, capture_output=True, text=True,
        check=False,
        timeout=120,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_start_status_curl_stop_start_again(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    port, editor_port = free_port(), free_port()
    opts = ["--data-dir", data, "--port", str(port), "--editor-port", str(editor_port),
            "--workers", "3"]
    started = gloam("runtime", "start", *opts)
    try:
        assert started.returncode == 0, started.stderr
        assert f"http://CANVAS.localhost:{port}" in started.stdout
        assert "canvas demo: editor token" in started.stdout

        again = gloam("runtime", "start", *opts)
        assert again.returncode == 1 and "already running" in again.stderr

        status = gloam("runtime", "status", "--json", "--data-dir", data)
        info = json.loads(status.stdout)
        assert info["running"] is True and info["http_port"] == port
        assert info["editor_port"] == editor_port and info["canvases"] == ["demo"]
        assert info["data_dir"] == data and isinstance(info["pid"], int)
        # The traffic workers: three processes of their own, serving, none restarted yet.
        workers = info["workers"]
        assert [w["index"] for w in workers] == [0, 1, 2]
        assert all(w["serving"] and w["restarts"] == 0 for w in workers)
        assert len({w["pid"] for w in workers} | {info["pid"]}) == 4
        assert info["store"].startswith("SQLite ") and info["store_available"] is True

        assert http_request("GET", f"http://127.0.0.1:{port}/c/demo/hello") == (
            200, "Hello from Gloam!\n")
        # Each worker's connection counters and compiler fallbacks, from its beats.
        def counted() -> list[dict[str, Any]] | None:
            ws = json.loads(gloam("runtime", "status", "--json", "--data-dir", data).stdout)[
                "workers"]
            return ws if all("malformed" in w["connections"] for w in ws) else None
        counters = eventually(counted)
        assert counters is not None
        assert all(isinstance(w["compiler_fallbacks"], dict) for w in counters)
        assert not any(k.startswith("bug") for w in counters for k in w["compiler_fallbacks"])

        stopped = gloam("runtime", "stop", "--data-dir", data)
        assert stopped.returncode == 0, stopped.stderr
        assert json.loads(gloam("runtime", "status", "--json", "--data-dir", data).stdout)[
            "running"] is False

        restarted = gloam("runtime", "start", *opts)
        assert restarted.returncode == 0, restarted.stderr
        assert http_request("GET", f"http://127.0.0.1:{port}/c/demo/sum/1/2") == (200, 3)
        logs = gloam("runtime", "logs", "--data-dir", data)
        assert "listening" in logs.stdout
    finally:
        gloam("runtime", "stop", "--data-dir", data)


def test_a_stale_pid_file_is_cleaned(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "runtime.pid").write_text("999999")
    status = gloam("runtime", "status", "--data-dir", str(data))
    assert status.returncode == 3 and "not running" in status.stdout
    assert not (data / "runtime.pid").exists()


def test_stop_when_not_running_says_so(tmp_path: Path) -> None:
    result = gloam("runtime", "stop", "--data-dir", str(tmp_path))
    assert result.returncode == 1 and "not running" in result.stderr


def test_export_then_import_round_trips_a_canvas(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    port, editor_port = free_port(), free_port()
    opts = ["--data-dir", data, "--port", str(port), "--editor-port", str(editor_port)]
    assert gloam("runtime", "start", *opts).returncode == 0
    try:
        exported = gloam("canvas", "export", "demo", "--data-dir", data)
        assert exported.returncode == 0, exported.stderr
        doc = json.loads(exported.stdout)
        assert doc["schema"] == 1 and doc["export"]["canvas"] == "demo"
        path = tmp_path / "demo.json"
        path.write_text(exported.stdout)
        imported = gloam("canvas", "import", str(path), "--as", "copy", "--data-dir", data)
        assert imported.returncode == 0, imported.stderr
        assert "serves it now" in imported.stdout
        assert http_request("GET", f"http://127.0.0.1:{port}/c/copy/sum/2/2") == (200, 4)
        clash = gloam("canvas", "import", str(path), "--as", "copy", "--data-dir", data)
        assert clash.returncode != 0 and "already holds" in clash.stderr
    finally:
        gloam("runtime", "stop", "--data-dir", data)
    # One name rule wherever a name enters: import refuses what `canvas new` refuses.
    for name in ["../evil", "a/b", "UPPER", " ", "a\u202eb", "x-"]:
        refused = gloam("canvas", "import", str(path), "--as", name, "--data-dir", data)
        assert refused.returncode == 2 and "cannot name a canvas" in refused.stderr, name
        assert gloam("canvas", "new", name, "--data-dir", data).returncode == 1
    listed = json.loads(gloam("canvas", "export", "copy", "--data-dir", data).stdout)
    assert listed["export"]["canvas"] == "copy"
    assert not (Path(data).parent / "evil").exists()
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    broken = gloam("canvas", "import", str(bad), "--data-dir", data)
    assert broken.returncode == 2 and "not JSON" in broken.stderr


def test_a_stale_pid_file_naming_a_live_stranger_is_never_signalled(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    # A runtime died long ago; its pid now belongs to an unrelated process.
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        (data / "runtime.pid").write_text(str(stranger.pid))
        stopped = gloam("runtime", "stop", "--data-dir", str(data))
        assert stopped.returncode == 1 and "not running" in stopped.stderr
        assert stranger.poll() is None  # alive: nobody sent it SIGTERM
        status = gloam("runtime", "status", "--data-dir", str(data))
        assert status.returncode == 3
        assert not (data / "runtime.pid").exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_a_second_runtime_on_the_same_data_folder_is_refused(tmp_path: Path) -> None:
    from runtime_harness import running

    with running(tmp_path / "data", ["--workers", "1"]) as first:
        second = gloam("runtime", "serve", "--data-dir", str(tmp_path / "data"),
                       "--port", "0", "--editor-port", "0", "--workers", "1")
        assert second.returncode == 1
        assert f"pid {first.proc.pid}" in second.stderr and "is running on" in second.stderr
        assert first.get("/hello")[0] == 200
