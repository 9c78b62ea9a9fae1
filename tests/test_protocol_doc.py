"""docs/protocol.md against the wire format, so the document cannot drift from the code.

Every kind of node, type, handler spec, toplevel, op and value must have its
own `### \\`kind\\`` heading in its section and appear in an example there;
every ```json block must decode with the decoder of its section (documents in
the "Documents" and "Errors" sections are whole documents, and each example
in "Errors" must fail with exactly the message shown after it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from shared_ast import nodes as n
from shared_ast import ops as o
from shared_ast import toplevels as t
from shared_ast import type_ast as ty
from shared_ast import wire

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"

DOCUMENTS = "Documents and schema versions"
ERRORS = "Errors"
MESSAGES = "Messages between editor and runtime"

def decode_message(raw: Any) -> Any:
    """An editor↔runtime message: its envelope, and every payload in it, must decode."""
    from runtime.control.editor_api import MESSAGE_TYPES

    replies = {"hello", "ack", "error", "broadcast", "traces", "404s", "result",
               "replay_report", "in_use", "flags", "info", "dead_letters", "cron_paused", "limits",
               "pong", "migration", "migrations", "row_deleted", "test_results", "trace_test"}
    if not isinstance(raw, dict) or raw.get("schema") != wire.SCHEMA_VERSION:
        raise ValueError("a message is an object with \"schema\": 1")
    kind = raw.get("type")
    if kind not in set(MESSAGE_TYPES) | replies:
        raise ValueError(f"unknown message type {kind!r}")
    if "ops" in raw:
        wire.decode_ops(raw["ops"])
    for tl in raw.get("toplevels", []):
        wire.decode_toplevel(tl)
    if "toplevel" in raw:
        wire.decode_toplevel(raw["toplevel"])
    if "value" in raw:
        wire.decode_value(raw["value"])
    if "live" in raw:
        wire.decode_live_values(raw["live"])
    for event in raw.get("events", []):
        wire.decode_value(event["event"])
    for trace in raw.get("traces", []):
        wire.decode_value(trace["input"])
    return raw


def decode_export(raw: Any) -> Any:
    from runtime.control.transfer import parse_export

    return parse_export(json.dumps(raw))


#: Section → the decoder for its ```json examples.
DECODERS: dict[str, Callable[[Any], Any]] = {
    "Expressions": wire.decode_expr,
    "Patterns": wire.decode_pattern,
    "Elements": wire.decode_node,
    "Function references": wire.decode_expr,
    "Types": wire.decode_type,
    "Handler specs": wire.decode_toplevel,
    "Type definitions": wire.decode_toplevel,
    "Toplevels": wire.decode_toplevel,
    "Ops": wire.decode_op,
    "Values": wire.decode_value,
    "Live values": wire.decode_live_iterations,
    MESSAGES: decode_message,
    "Exports": decode_export,
}
#: Section → the kinds it must document, one `### \`kind\`` heading each.
FAMILIES: dict[str, list[str]] = {
    "Expressions": [k.KIND for k in n.EXPR_KINDS],
    "Patterns": [k.KIND for k in n.PATTERN_KINDS],
    "Elements": [k.KIND for k in n.ELEMENT_KINDS],
    "Function references": ["lib_fn", "user_fn"],
    "Types": [k.KIND for k in ty.TYPE_KINDS],
    "Handler specs": [k.KIND for k in t.SPEC_KINDS],
    "Type definitions": [t.RecordDef.KIND, t.EnumDef.KIND],
    "Toplevels": [k.KIND for k in t.TOPLEVEL_KINDS],
    "Ops": [k.KIND for k in o.OP_KINDS],
    "Values": list(wire.VALUE_KINDS),
}


@attrs.frozen
class Block:
    section: str
    heading: str
    lang: str
    text: str
    line: int


def blocks(doc: str) -> list[Block]:
    """The fenced code blocks of `doc`, each with the `##` and `###` headings it is under."""
    found: list[Block] = []
    section = heading = ""
    lines = doc.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section, heading = line[3:].strip(), ""
        elif line.startswith("### "):
            heading = line[4:].strip()
        elif line.startswith("```"):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            found.append(Block(section, heading, line[3:].strip(), "\n".join(lines[i + 1:end]),
                               i + 1))
            i = end
        i += 1
    return found


def headings(doc: str) -> dict[str, set[str]]:
    """Section → the `### \\`kind\\`` names under it."""
    out: dict[str, set[str]] = {}
    section = ""
    for line in doc.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif m := re.fullmatch(r"### `([a-z_]+)`", line.strip()):
            out.setdefault(section, set()).add(m.group(1))
    return out


def kinds_in(raw: Any) -> Iterator[str]:
    if isinstance(raw, dict):
        if isinstance(raw.get("kind"), str):
            yield raw["kind"]
        for value in raw.values():
            yield from kinds_in(value)
    elif isinstance(raw, list):
        for value in raw:
            yield from kinds_in(value)


def undocumented(doc: str) -> dict[str, list[str]]:
    """Section → kinds without their own heading there, or not shown in any example there."""
    named = headings(doc)
    shown: dict[str, set[str]] = {}
    for block in blocks(doc):
        if block.lang == "json" and block.section in FAMILIES:
            try:
                shown.setdefault(block.section, set()).update(kinds_in(json.loads(block.text)))
            except ValueError:
                continue  # undecodable() reports it
    missing = {
        section: [k for k in kinds
                  if k not in named.get(section, set()) or k not in shown.get(section, set())]
        for section, kinds in FAMILIES.items()
    }
    return {section: kinds for section, kinds in missing.items() if kinds}


def _document_kind(text: str) -> str:
    keys = [k for k in json.loads(text) if k != "schema"]
    return keys[0] if keys else "expr"


def undecodable(doc: str) -> list[str]:
    """Every ```json example that does not decode with its section's decoder, and why."""
    problems = []
    for block in blocks(doc):
        if block.lang != "json" or block.section == ERRORS:
            continue
        where = f"line {block.line} ({block.section} / {block.heading})"
        try:
            if block.section == DOCUMENTS:
                wire.loads_document(block.text, _document_kind(block.text))
            elif block.section in DECODERS:
                DECODERS[block.section](json.loads(block.text))
            else:
                problems.append(f"{where}: no decoder for the section; add it to DECODERS")
        except (wire.WireError, ValueError) as e:
            problems.append(f"{where}: {e}")
    return problems


def error_examples(doc: str) -> list[tuple[Block, Block | None]]:
    """The (document, expected message) pairs of the Errors section."""
    in_errors = [b for b in blocks(doc) if b.section == ERRORS]
    pairs = []
    for i, block in enumerate(in_errors):
        if block.lang == "json":
            after = in_errors[i + 1] if i + 1 < len(in_errors) else None
            pairs.append((block, after if after is not None and after.lang == "text" else None))
    return pairs


def wrong_error_examples(doc: str) -> list[str]:
    problems = []
    for block, expected in error_examples(doc):
        where = f"line {block.line}"
        if expected is None:
            problems.append(f"{where}: no ```text block with the expected error after it")
            continue
        try:
            kind = _document_kind(block.text)
        except ValueError:
            kind = "expr"
        try:
            wire.loads_document(block.text, kind)
        except wire.WireError as e:
            if str(e) != expected.text:
                problems.append(f"{where}: the error is now {str(e)!r}")
        else:
            problems.append(f"{where}: decodes, but the doc shows it failing")
    return problems


# --------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def test_every_kind_has_a_heading_and_an_example(doc: str) -> None:
    assert undocumented(doc) == {}


def test_every_json_example_decodes_with_its_sections_decoder(doc: str) -> None:
    assert undecodable(doc) == []


def test_every_error_example_fails_with_the_message_shown(doc: str) -> None:
    assert len(error_examples(doc)) >= 5
    assert wrong_error_examples(doc) == []


def test_examples_are_in_the_form_the_encoder_writes(doc: str) -> None:
    encoders: dict[str, Callable[[Any], Any]] = {
        "Expressions": wire.encode_expr, "Patterns": wire.encode_pattern,
        "Elements": wire.encode_node, "Function references": wire.encode_expr,
        "Types": wire.encode_type, "Handler specs": wire.encode_toplevel,
        "Type definitions": wire.encode_toplevel, "Toplevels": wire.encode_toplevel,
        "Ops": wire.encode_op, "Values": wire.encode_value,
        "Live values": wire.encode_live_values,
    }
    for block in blocks(doc):
        if block.lang == "json" and block.section in encoders:
            raw = json.loads(block.text)
            if block.section == "Live values" and "version" not in raw:
                continue  # version 1, shown as old runtimes wrote it; the encoder writes 2
            again = encoders[block.section](DECODERS[block.section](raw))
            # Same text, so also the same field order: "kind" first, fields as declared.
            assert json.dumps(again) == json.dumps(raw), f"line {block.line}"


def test_the_runtime_messages_have_their_heading_waiting(doc: str) -> None:
    assert f"## {MESSAGES}" in doc.splitlines()


def test_every_document_kind_is_in_the_documents_table(doc: str) -> None:
    section = doc.split(f"## {DOCUMENTS}", 1)[1].split("\n## ", 1)[0]
    missing = [k for k in wire.DOCUMENT_KINDS if f"| `{k}` |" not in section]
    assert missing == []


# ----------------------------------------------- the checks above can fail


def _without_subsection(doc: str, section: str, kind: str) -> str:
    head, rest = doc.split(f"## {section}\n", 1)
    body, sep, tail = rest.partition("\n## ")
    start = body.index(f"### `{kind}`")
    end = body.find("\n### ", start + 1)
    body = body[:start] + (body[end + 1:] if end != -1 else "")
    return f"{head}## {section}\n{body}{sep}{tail}"


def test_a_missing_subsection_is_reported(doc: str) -> None:
    assert undocumented(_without_subsection(doc, "Expressions", "flag")) == {
        "Expressions": ["flag"]}
    assert undocumented(_without_subsection(doc, "Values", "error_rail")) == {
        "Values": ["error_rail"]}


def test_a_heading_without_an_example_is_reported(doc: str) -> None:
    broken = doc.replace('"kind": "set_description"', '"kind": "set_language_version"')
    assert undocumented(broken)["Ops"] == ["set_description"]


def test_an_example_that_no_longer_decodes_is_reported(doc: str) -> None:
    broken = doc.replace('"interval_seconds": 86400', '"interval_seconds": "daily"', 1)
    problems = undecodable(broken)
    assert len(problems) == 1
    assert "Handler specs / `cron`" in problems[0] and "$.spec.interval_seconds" in problems[0]


def test_an_example_in_a_section_without_decoder_is_reported(doc: str) -> None:
    broken = doc + '\n## Something new\n\n```json\n{"kind": "hole", "id": 1}\n```\n'
    assert any("no decoder for the section" in p for p in undecodable(broken))


def test_a_stale_error_message_is_reported(doc: str) -> None:
    broken = doc.replace("(also at $.expr.id)", "(also at $.expr.items)")
    assert len(wrong_error_examples(broken)) == 1
