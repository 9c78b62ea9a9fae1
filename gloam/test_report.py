"""`gloam canvas test NAME`: a canvas's tests from the command line, for people and CI.

The tests run on the live runtime (its editor API's `run_tests`, reached with the
canvas's editor token, as the editor reaches it) or, with `--file`, locally on an
exported canvas (`gloam canvas export NAME > export.json`) with `shared_ast.testing`,
no runtime needed. Either way the results are the `run_tests` JSON of
docs/protocol.md, and this module reports them: a summary (one line per test; under
a failing test, a line per failing flag state with its message), the exit code (1 when
any test failed or stopped with an error, 0 otherwise: a test with holes or no checks
yet is listed as incomplete and does not fail the run, unless `--strict`), and JUnit
XML (`--junit out.xml`: one testsuite for the canvas, one testcase per test with
classname the canvas, a `failure` or `error` element per failing flag state, `skipped`
for an incomplete test).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from runtime.config import RuntimeConfig, read_state
from runtime.control.test_api import run_tests
from runtime.control.transfer import TransferError, parse_export
from runtime.tokens import read_tokens
from shared_ast import wire
from shared_ast.values import show

__all__ = ["TestsUnavailable", "exit_code", "junit_xml", "live_results", "report_lines"]

#: The environment variable that can hold the canvas's editor token (else tokens.json).
TOKEN_ENV = "GLOAM_TOKEN"

_MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "incomplete": "TODO"}


class TestsUnavailable(Exception):
    """The tests could not run (no runtime, no token, a bad file); the message says why."""

    __test__ = False


#: What XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE/U+FFFF): a test's
#: name and a String value can hold them, and a CI's XML parser refuses the whole file.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` with what XML cannot hold written as an escape (`\\x01`, `\\ud800`)."""
    return _NOT_XML.sub(lambda m: (f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100
                                   else f"\\u{ord(m[0]):04x}"), text)


def printable(line: str) -> str:
    """`line` as it can be printed (a lone surrogate in a name or value as an escape)."""
    return line.encode("utf-8", "backslashreplace").decode("utf-8")


def _state(run: dict[str, Any]) -> str:
    return ", ".join(f"flag {f['name']} {'new' if f['new'] else 'old'}" for f in run["state"])


def _failing(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in result["runs"] if r["status"] in ("failed", "error")]


def report_lines(canvas: str, results: Sequence[dict[str, Any]]) -> list[str]:
    """The summary: a count line, then each test, failing flag states under it."""
    count = {s: sum(1 for r in results if r["status"] == s) for s in _MARK}
    lines = [f"canvas {canvas}: {len(results)} test(s): {count['passed']} passed, "
             f"{count['failed']} failed, {count['error']} error(s), "
             f"{count['incomplete']} incomplete"]
    for r in results:
        lines.append(f"  {_MARK.get(r['status'], r['status']):5} {r['summary']}")
        failing = _failing(r)
        if len(failing) > 1:  # the summary names the first
            for run in failing:
                lines.append(f"        {_state(run) or 'no flags'}: {run['message']}")
    if not results:
        lines.append("  (no tests yet: make one in the editor, or from a trace)")
    return [printable(line) for line in lines]


def exit_code(results: Sequence[dict[str, Any]], strict: bool = False) -> int:
    """1 when a test failed or stopped with an error (or, `strict`, is incomplete)."""
    bad = {"failed", "error"} | ({"incomplete"} if strict else set())
    return 1 if any(r["status"] in bad for r in results) else 0


def _shown(raw: Any) -> str:
    """A value of a result (wire JSON) as Gloam shows it."""
    try:
        return show(wire.decode_value(raw), 500)
    except wire.WireError:
        return json.dumps(raw)[:500]


def junit_xml(canvas: str, results: Sequence[dict[str, Any]], seconds: float = 0.0) -> str:
    count = {s: sum(1 for r in results if r["status"] == s) for s in _MARK}
    attrs = {"tests": str(len(results)), "failures": str(count["failed"]),
             "errors": str(count["error"]), "skipped": str(count["incomplete"]),
             "time": f"{seconds:.3f}"}
    root = ET.Element("testsuites", {"name": f"gloam canvas {canvas}", **attrs})
    suite = ET.SubElement(root, "testsuite", {"name": canvas, **attrs})
    for r in results:
        case = ET.SubElement(suite, "testcase", {"classname": canvas,
                                                 "name": xml_text(r["name"])})
        if r["status"] == "incomplete":
            ET.SubElement(case, "skipped", {"message": xml_text(r["summary"])})
        for run in _failing(r):
            state = _state(run)
            message = f"{state}: {run['message']}" if state else run["message"]
            tag = "failure" if run["status"] == "failed" else "error"
            element = ET.SubElement(case, tag, {"message": xml_text(message),
                                                "type": run["status"]})
            element.text = xml_text("\n".join(
                f"expected {_shown(c['expected'])}, got {_shown(c['actual'])}"
                for c in run["checks"] if not c["passed"]) or message)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def file_results(path: str) -> tuple[str, list[dict[str, Any]]]:
    """Run the tests of an exported canvas here; (its name, the results)."""
    try:
        text = Path(path).read_text(encoding="utf-8") if path != "-" else sys.stdin.read()
    except (OSError, UnicodeDecodeError) as e:
        raise TestsUnavailable(f"{path}: cannot read it ({e})") from None
    try:
        canvas, toplevels, _rows = parse_export(text)
    except TransferError as e:
        raise TestsUnavailable(f"{path}: {e}; make one with `gloam canvas export NAME`") \
            from None
    return canvas, run_tests(toplevels)


def live_results(config: RuntimeConfig, canvas: str, token: str | None = None,
                 timeout: float = 600.0) -> list[dict[str, Any]]:
    """Ask the running runtime to run `canvas`'s tests (`run_tests`)."""
    state = read_state(config.data_dir)
    if not state:
        raise TestsUnavailable(
            f"the runtime is not running (data folder {config.data_dir}): start it with "
            "`gloam runtime start`, or run an exported canvas with --file export.json")
    token = token or os.environ.get(TOKEN_ENV) or read_tokens(config.data_dir).get(canvas)
    if not token:
        raise TestsUnavailable(
            f"no editor token for canvas {canvas!r} on this machine: pass --token, or set "
            f"{TOKEN_ENV}")
    url = f"http://{state.get('editor_host')}:{state.get('editor_port')}/api/canvas/{canvas}/ws"
    return asyncio.run(_ask(url, token, timeout))


async def _ask(url: str, token: str, timeout: float) -> list[dict[str, Any]]:
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(
                url, params={"author": "gloam canvas test"}, max_msg_size=0,
                headers={"Authorization": f"Bearer {token}"}) as ws:
            await ws.send_str(json.dumps({"schema": wire.SCHEMA_VERSION, "type": "run_tests",
                                          "id": "cli-tests"}))
            async with asyncio.timeout(timeout):
                async for msg in ws:
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    reply = json.loads(msg.data)
                    if reply.get("id") != "cli-tests":
                        continue  # the hello, broadcasts of other editors' edits
                    if reply.get("type") == "error":
                        raise TestsUnavailable(f"the runtime refused: {reply.get('message')}")
                    return list(reply["results"])
    except aiohttp.WSServerHandshakeError as e:
        if e.status == 401:
            raise TestsUnavailable("the runtime refused the editor token for this canvas "
                                   "(or there is no such canvas)") from None
        raise TestsUnavailable(f"the runtime refused the connection: {e}") from None
    except (aiohttp.ClientError, OSError) as e:
        raise TestsUnavailable(f"cannot reach the runtime at {url} ({e}): is it running? "
                               "`gloam runtime status` says") from None
    except TimeoutError:
        raise TestsUnavailable(f"the tests took more than {timeout:g} s; try --timeout") \
            from None
    raise TestsUnavailable("the runtime closed the connection before answering")
