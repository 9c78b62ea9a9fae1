"""`gloam canvas test`'s report (gloam/test_report.py): the summary, the exit code and the
JUnit XML agree with the results they are made from, whatever the results."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gloam.test_report import exit_code, junit_xml, report_lines, xml_text
from shared_ast import names, wire
from shared_ast.values import show

STATUSES = ["passed", "incomplete", "failed", "error"]
NAMES = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=20)


@st.composite
def results(draw: Any) -> list[dict[str, Any]]:
    found = []
    for tlid in range(draw(st.integers(0, 6))):
        flags = draw(st.integers(0, 2))
        runs = []
        for state in range(2 ** flags):
            status = draw(st.sampled_from(STATUSES))
            check = {"node_id": 1, "actual": wire.encode_value(draw(st.integers())),
                     "expected": wire.encode_value(2), "passed": status != "failed"}
            runs.append({"state": [{"flag_id": f, "name": f"f{f}", "new": bool(state >> f & 1)}
                                   for f in range(flags)],
                         "status": status, "message": "" if status == "passed" else "why <&>",
                         "checks": [check]})
        worst = max((r["status"] for r in runs), key=STATUSES.index)
        found.append({"tlid": tlid, "name": draw(NAMES), "status": worst,
                      "summary": f"summary {tlid}", "flags": [], "runs": runs})
    return found


@given(results(), st.booleans())
def test_the_junit_xml_counts_what_the_results_hold(got: list[dict[str, Any]],
                                                    strict: bool) -> None:
    root = ET.fromstring(junit_xml("shop", got, 1.5))
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [r["name"] for r in got]
    assert {c.get("classname") for c in cases} <= {"shop"}
    count = {s: sum(1 for r in got if r["status"] == s) for s in STATUSES}
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"),
            suite.get("skipped")) == (str(len(got)), str(count["failed"]),
                                      str(count["error"]), str(count["incomplete"]))
    for case, r in zip(cases, got, strict=True):
        failing = [run for run in r["runs"] if run["status"] in ("failed", "error")]
        assert len(case.findall("failure")) + len(case.findall("error")) == len(failing)
        assert (case.find("skipped") is not None) == (r["status"] == "incomplete")
    bad = count["failed"] + count["error"] + (count["incomplete"] if strict else 0)
    assert exit_code(got, strict) == (1 if bad else 0)
    lines = report_lines("shop", got)
    assert lines[0].startswith(f"canvas shop: {len(got)} test(s): {count['passed']} passed")
    assert sum(1 for line in lines if line.startswith("  ") and not line.startswith("    ")) \
        == max(len(got), 1)
    # Under a test failing in several flag states, a line for each (the summary names one).
    failing = [sum(1 for run in r["runs"] if run["status"] in ("failed", "error")) for r in got]
    assert sum(1 for line in lines if line.startswith("        ")) \
        == sum(n for n in failing if n > 1)


#: Any name a test may have (one line, not empty), control characters and lone surrogates
#: included: `names.test_name_problem` lets them through, and a String value holds anything.
ANY_NAMES = st.text(min_size=1, max_size=20).filter(lambda s: names.test_name_problem(s) is None)


@given(ANY_NAMES, st.text(max_size=10), st.text(max_size=10))
def test_the_junit_xml_parses_whatever_the_names_and_values_hold(
        name: str, actual: str, message: str) -> None:
    run = {"state": [], "status": "failed", "message": message,
           "checks": [{"node_id": 1, "actual": wire.encode_value(actual),
                       "expected": wire.encode_value("x"), "passed": False}]}
    got = [{"tlid": 1, "name": name, "status": "failed", "summary": f"{name}: {message}",
            "flags": [], "runs": [run]},
           {"tlid": 2, "name": name, "status": "incomplete", "summary": message, "flags": [],
            "runs": [{**run, "status": "incomplete", "checks": []}]}]
    text = junit_xml("shop", got)
    root = ET.fromstring(text.encode("utf-8"))  # a CI reads the file's bytes
    cases = root.findall("testsuite/testcase")
    # A name XML can hold reads back as it is; one it cannot, with escapes for what it cannot.
    assert [c.get("name") for c in cases] == [xml_text(name)] * 2
    if xml_text(name) == name:
        assert cases[0].get("name") == name
    (failure,) = cases[0].findall("failure")
    # (An XML parser reads a carriage return in text as a line feed.)
    shown = xml_text(show(actual, 500)).replace("\r\n", "\n").replace("\r", "\n")
    assert shown in (failure.text or "")
    # The summary printed on the terminal can be written out too.
    for line in report_lines("shop", got):
        line.encode("utf-8")


def test_a_name_with_a_control_character_is_escaped_in_the_xml() -> None:
    got = [{"tlid": 1, "name": "bell \x07 <&\"'>", "status": "failed", "summary": "s",
            "flags": [], "runs": [{"state": [], "status": "failed", "message": "m \x00",
                                   "checks": []}]}]
    case = ET.fromstring(junit_xml("shop", got)).find("testsuite/testcase")
    assert case is not None
    assert case.get("name") == "bell \\x07 <&\"'>"
    failure = case.find("failure")
    assert failure is not None and failure.get("message") == "m \\x00"
