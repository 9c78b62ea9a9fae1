"""`gloam canvas new NAME` as a user runs it: with the runtime running or not,
and the clear refusals for a name that is taken or cannot name a canvas."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from runtime_harness import ROOT, EditorSession, running


def gloam(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gloam.cli", *args], cwd=ROOT, check=False,
                          capture_output=True, text=True, timeout=60)


def printed_token(out: str, name: str) -> str:
    found = re.search(rf"^editor token for {name}: (\S+)$", out, re.MULTILINE)
    assert found, out
    return found.group(1)


async def hello(rt: object, canvas: str, token: str) -> dict[str, object]:
    async with aiohttp.ClientSession() as http:
        ed = await EditorSession.open(http, rt, canvas=canvas, token=token)  # type: ignore[arg-type]
        await ed.ws.close()
        return ed.hello


def test_a_new_canvas_is_served_at_once_by_a_running_runtime(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running(data) as rt:
        out = gloam("canvas", "new", "shop", "--data-dir", str(data))
        assert out.returncode == 0, out.stderr
        token = printed_token(out.stdout, "shop")
        assert "serves it now" in out.stdout
        assert f"http://shop.localhost:{rt.state['http_port']}/" in out.stdout
        assert f"127.0.0.1:{rt.state['editor_port']}" in out.stdout
        assert json.loads((data / "tokens.json").read_text())["shop"] == token
        greeting = asyncio.run(hello(rt, "shop", token))
        assert greeting["toplevels"] == [] and greeting["canvas"] == "shop"
        status, body = rt.get("/anything", canvas="shop")
        assert status == 404 and "No handler" in body["error"]  # the canvas exists, empty
        # The demo token does not open the new canvas.
        with pytest.raises(aiohttp.WSServerHandshakeError):
            asyncio.run(hello(rt, "shop", rt.token("demo")))


def test_a_new_canvas_waits_for_the_runtime_to_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = gloam("canvas", "new", "later", "--data-dir", str(data))
    assert out.returncode == 0, out.stderr
    assert "not running" in out.stdout
    token = printed_token(out.stdout, "later")
    with running(data) as rt:
        assert asyncio.run(hello(rt, "later", token))["toplevels"] == []


def test_a_taken_or_invalid_name_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert gloam("canvas", "new", "shop", "--data-dir", str(data)).returncode == 0
    again = gloam("canvas", "new", "shop", "--data-dir", str(data))
    assert again.returncode == 1
    assert "already a canvas named 'shop'" in again.stderr and again.stdout == ""
    for bad in ("Shop", "_shop", "shop-", "a/b", "two words", "x" * 64, ""):
        out = gloam("canvas", "new", bad, "--data-dir", str(data))
        assert out.returncode == 1, bad
        assert "cannot name a canvas" in out.stderr, (bad, out.stderr)
    assert set(json.loads((data / "tokens.json").read_text())) == {"shop"}
