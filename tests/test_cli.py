"""`gloam eval`, `gloam check` and `gloam demo` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from runtime_harness import ROOT

from shared_ast import wire

EXAMPLES = ROOT / "assets" / "examples"


def gloam(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gloam.cli", *args], cwd=ROOT, check=False,
                          capture_output=True, text=True, timeout=60)


def test_eval_prints_the_value_in_the_wire_format() -> None:
    out = gloam("eval", str(EXAMPLES / "squares.json"))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["schema"] == wire.SCHEMA_VERSION
    assert wire.decode_value(doc["value"]) == 385


def test_eval_live_prints_every_nodes_value() -> None:
    out = gloam("eval", str(EXAMPLES / "sum.json"), "--live")
    doc = json.loads(out.stdout)
    expr = wire.loads_document((EXAMPLES / "sum.json").read_text(), "expr")
    live = wire.decode_live_values(doc["live"])
    assert live[expr.id][0] == 7
    assert {arg.id for arg in expr.left.args} <= set(live)


def test_incomplete_elements_are_dropped_and_a_flag_without_condition_runs_old() -> None:
    assert wire.decode_value(json.loads(gloam("eval", str(EXAMPLES / "incomplete.json")).stdout)[
        "value"]) == (1, 3)
    assert wire.decode_value(json.loads(gloam("eval", str(EXAMPLES / "flag.json")).stdout)[
        "value"]) == "hello"


def test_a_file_that_does_not_decode_exits_2_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": 1, "expr": {"kind": "int", "id": 1, "value": "x"}}))
    out = gloam("eval", str(bad))
    assert out.returncode == 2 and "$.expr.value" in out.stderr
    missing = gloam("eval", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    assert gloam("eval", str(junk)).returncode == 2


def test_check_reports_marks(tmp_path: Path) -> None:
    doc = {"schema": 1, "expr": {"kind": "variable", "id": 1, "name": "nowhere"}}
    path = tmp_path / "unbound.json"
    path.write_text(json.dumps(doc))
    out = gloam("check", str(path))
    assert out.returncode == 0 and "unbound_variable" in out.stdout and "1 problem" in out.stdout
    clean = gloam("check", str(EXAMPLES / "squares.json"))
    assert "type: Int" in clean.stdout and "0 problem" in clean.stdout


def test_demo_evaluates_every_example() -> None:
    out = gloam("demo")
    assert out.returncode == 0
    assert out.stdout.count("$ gloam eval") == len(list(EXAMPLES.glob("*.json")))
    assert "-> 385" in out.stdout
