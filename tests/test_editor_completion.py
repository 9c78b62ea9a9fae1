"""Autocomplete and scopes in the editor model (`editor.model.completion`, `editor.model.scope`)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import toplevels

from editor.model.completion import (
    Completion,
    ConstructorTarget,
    build,
    completions,
    match_rank,
)
from editor.model.scope import variables_in_scope
from shared_ast import build as b
from shared_ast import nodes as n
from shared_ast.apply import validate
from shared_ast.checker import INTERNAL_ERROR, TYPE_MISMATCH, NodeInfo, check_toplevel
from shared_ast.eval_context import Budget
from shared_ast.evaluator import evaluate, run_toplevel
from shared_ast.ids import new_id
from shared_ast.ops import ReplaceNode
from shared_ast.program import Program
from shared_ast.stdlib.registry import LIBRARY, LibFunction, LibParam
from shared_ast.toplevels import Handler, Toplevel
from shared_ast.traverse import replace, walk
from shared_ast.type_ast import INT, STRING, UNKNOWN, TDatastore, TList, TOption, TUser
from shared_ast.values import ErrorValue, Incomplete

EMPTY = Program()


def labels(cs: list[Completion]) -> list[str]:
    return [c.label for c in cs]


def find(cs: list[Completion], label: str) -> Completion:
    found = [c for c in cs if c.label == label]
    assert found, f"{label} is not among {labels(cs)}"
    return found[0]


# ------------------------------------------------------------------ scope


def test_a_handler_sees_its_bound_variables_and_the_datastores() -> None:
    users = b.datastore("Users", STRING)
    program = Program.from_toplevels([users])
    h = b.hole()
    tl = b.http("GET", "/u/:id", h)
    scope = variables_in_scope(program, tl, h.id)
    assert scope["id"] == STRING
    assert scope["request"].KIND == "t_record"
    assert scope["Users_v0"] == TDatastore(STRING)
    worker = b.worker("q", h2 := b.hole())
    assert set(variables_in_scope(EMPTY, worker, h2.id)) == {"event"}
    assert variables_in_scope(EMPTY, b.repl("r", h3 := b.hole()), h3.id) == {}


def test_a_function_sees_its_parameters_with_their_declared_types() -> None:
    h = b.hole()
    fn = b.function("f", [("count", INT), ("names", TList(STRING))], INT, h)
    assert variables_in_scope(EMPTY, fn, h.id) == {"count": INT, "names": TList(STRING)}


def test_a_let_binds_in_its_body_only_with_the_type_of_its_rhs() -> None:
    rhs, body = b.hole(), b.hole()
    outer_rhs = b.call("String::toInt_v1", b.var("a"), rail=True)
    inner = b.let("x", b.infix("+", 1, rhs), body)
    tl = b.repl("r", b.let("a", "7", b.let("n", outer_rhs, inner)))
    infos = check_toplevel(tl, EMPTY)
    in_body = variables_in_scope(EMPTY, tl, body.id, infos)
    assert in_body == {"a": STRING, "n": INT, "x": INT}
    in_rhs = variables_in_scope(EMPTY, tl, rhs.id, infos)
    assert "x" not in in_rhs
    assert in_rhs == {"a": STRING, "n": INT}
    # Without the checker's answer the let's type is not known.
    assert variables_in_scope(EMPTY, tl, body.id)["x"] == UNKNOWN


def test_a_let_rhs_sees_an_outer_binding_of_the_same_name_not_its_own() -> None:
    rhs = b.hole()
    tl = b.repl("r", b.let("x", 1, b.let("x", rhs, b.var("x"))))
    infos = check_toplevel(tl, EMPTY)
    assert variables_in_scope(EMPTY, tl, rhs.id, infos) == {"x": INT}


def test_inner_bindings_shadow_outer_ones() -> None:
    h = b.hole()
    tl = b.http("GET", "/a/:a", b.let("a", 5, b.match(b.just(True), (b.pctor("Just", b.pvar("a")),
                                                                     h))))
    infos = check_toplevel(tl, EMPTY)
    assert variables_in_scope(EMPTY, tl, h.id, infos)["a"].KIND == "t_bool"
    scope_in_let = variables_in_scope(EMPTY, tl, tl.body.body.scrutinee.id, infos)
    assert scope_in_let["a"] == INT


def test_lambda_parameters_are_typed_by_the_call_that_takes_the_lambda() -> None:
    body, outside = b.hole(), b.hole()
    lam = b.lam(["item"], body)
    tl = b.repl("r", b.let("xs", [1, 2], b.list_(b.call("List::map_v0", b.var("xs"), lam),
                                                   outside)))
    infos = check_toplevel(tl, EMPTY)
    assert variables_in_scope(EMPTY, tl, body.id, infos) == {"xs": TList(INT), "item": INT}
    assert "item" not in variables_in_scope(EMPTY, tl, outside.id, infos)


def test_pattern_variables_are_seen_in_their_arm_only() -> None:
    first, second = b.hole(), b.hole()
    m = b.match(
        b.call("String::toInt_v1", "3"),
        (b.pctor("Ok", b.pvar("value")), first),
        (b.pctor("Error", b.pvar("why")), second),
    )
    tl = b.repl("r", m)
    infos = check_toplevel(tl, EMPTY)
    assert variables_in_scope(EMPTY, tl, first.id, infos) == {"value": INT}
    assert variables_in_scope(EMPTY, tl, second.id, infos) == {"why": STRING}
    assert variables_in_scope(EMPTY, tl, m.scrutinee.id, infos) == {}
    assert variables_in_scope(EMPTY, tl, m.arms[0].pattern.id, infos) == {}


def test_blank_binders_bind_nothing() -> None:
    let_body, lam_body = b.hole(), b.hole()
    tl = b.repl("r", b.list_(b.let("", 1, let_body),
                             n.ELambda(new_id(), (n.LambdaParam(new_id(), ""),), lam_body)))
    assert variables_in_scope(EMPTY, tl, let_body.id) == {}
    assert variables_in_scope(EMPTY, tl, lam_body.id) == {}


def test_asking_for_a_node_the_toplevel_does_not_have_says_so() -> None:
    tl = b.repl("r", b.hole())
    with pytest.raises(ValueError, match="has no node 424242"):
        variables_in_scope(EMPTY, tl, 424242)
    with pytest.raises(ValueError, match="has no node 424242"):
        completions(EMPTY, tl, 424242, "")


# ------------------------------------------------------------- completion


def string_hole() -> tuple[Handler, n.EHole]:
    """A handler whose hole is the argument of String::toUppercase_v1: a String is expected."""
    h = b.hole()
    return b.http("GET", "/s/:a", b.call("String::toUppercase_v1", h)), h


def test_what_fits_the_hole_comes_first() -> None:
    tl, h = string_hole()
    cs = completions(EMPTY, tl, h.id, "", limit=10_000)
    upper, add = find(cs, "String::toUppercase_v1"), find(cs, "Int::add")
    assert upper.fits and not add.fits
    assert cs.index(upper) < cs.index(add)
    # Every fitting entry is ranked before every entry that does not fit.
    fits = [c.fits for c in cs]
    assert fits == sorted(fits, reverse=True)
    assert find(cs, "a").fits and find(cs, "a").type_text == "String"
    assert not find(cs, "true").fits and find(cs, "if").fits


def test_a_generic_function_fits_through_its_type_variables() -> None:
    h = b.hole()
    tl = b.repl("r", b.call("Int::add_v0", 1, h))
    cs = completions(EMPTY, tl, h.id, "", limit=10_000)
    assert find(cs, "List::getAt_v1").fits  # Option<a> on the rail gives an `a`
    assert find(cs, "String::length_v1").fits
    assert not find(cs, "String::toUppercase_v1").fits
    assert not find(cs, "Just").fits and not find(cs, "Nothing").fits


def test_where_nothing_is_expected_everything_fits() -> None:
    h = b.hole()
    cs = completions(EMPTY, b.repl("r", h), h.id, "", limit=10_000)
    assert cs and all(c.fits for c in cs)


def test_each_function_shows_its_type_and_doc_line() -> None:
    h = b.hole()
    cs = completions(EMPTY, b.repl("r", h), h.id, "Int::add")
    add = find(cs, "Int::add")
    assert add.type_text == "Int -> Int -> Int"
    assert add.doc == LIBRARY["Int::add_v0"].doc
    assert add.kind == "library" and add.target == n.LibFnRef("Int", "add", 0)
    mapped = find(completions(EMPTY, b.repl("r", h), h.id, "List::map"), "List::map")
    assert mapped.type_text == "List<a> -> ((a) -> b) -> List<b>"


def test_matching_is_case_insensitive_by_prefix_then_substring() -> None:
    h = b.hole()
    tl = b.repl("r", b.let("uppercased", "x", h))
    cs = completions(EMPTY, tl, h.id, "TOINT")
    assert labels(cs)[0] == "String::toInt_v1"  # the name after `Module::` starts with the query
    cs = completions(EMPTY, tl, h.id, "upper", limit=10_000)
    assert "String::toUppercase_v1" in labels(cs)
    first_substring = labels(cs).index("String::toUppercase_v1")
    assert labels(cs).index("uppercased") < first_substring
    assert all("upper" in c.label.lower() for c in cs)
    assert completions(EMPTY, tl, h.id, "zzzqqq") == []


def test_prefix_matches_rank_before_substring_matches() -> None:
    h = b.hole()
    tl = b.repl("r", h)
    cs = completions(EMPTY, tl, h.id, "ap", limit=10_000)

    def starts(c: Completion) -> bool:
        return any(k.lower().startswith("ap") for k in (c.label, c.label.split("::")[-1]))

    ranks = [not starts(c) for c in cs]
    assert True in ranks and False in ranks  # both kinds are present
    assert ranks == sorted(ranks)


def test_variables_rank_before_keywords_before_functions() -> None:
    h = b.hole()
    fn = b.function("letterCount", [], INT, 1)
    tl = b.repl("r", b.let("lettuce", 1, h))
    cs = completions(Program.from_toplevels([fn]), tl, h.id, "le", limit=10_000)
    assert labels(cs)[:3] == ["lettuce", "let", "letterCount"]
    assert find(cs, "letterCount").kind == "function"


def test_the_empty_query_lists_every_kind_and_the_limit_holds() -> None:
    h = b.hole()
    enum = b.enum_type("Color", [("Red", []), ("Rgb", [("r", INT)])])
    fn = b.function("double", [("x", INT)], INT, b.var("x"))
    program = Program.from_toplevels([enum, fn])
    tl = b.http("GET", "/", b.let("y", 1, h))
    cs = completions(program, tl, h.id, "", limit=10_000)
    kinds = {c.kind for c in cs}
    assert kinds == {"variable", "keyword", "literal", "constructor", "library", "function"}
    assert {"let", "if", "match", "|>", "flag", "true", "false", "null"} <= set(labels(cs))
    assert {"Just", "Nothing", "Ok", "Error", "Red", "Rgb", "double", "y"} <= set(labels(cs))
    assert "\\" not in labels(cs)
    assert len(completions(program, tl, h.id, "", limit=7)) == 7


def test_deprecated_library_versions_are_hidden_unless_the_canvas_calls_them() -> None:
    assert LIBRARY["List::head_v0"].deprecated is not None
    h = b.hole()
    tl = b.repl("r", h)
    cs = completions(EMPTY, tl, h.id, "head", limit=10_000)
    head = find(cs, "List::head_v1")
    assert head.target == n.LibFnRef("List", "head", 1) and not head.deprecated
    assert not any(c.target == n.LibFnRef("List", "head", 0) for c in cs)
    # A function entirely deprecated (renamed) is not listed at all.
    assert "String::isSubstring_v1" not in labels(completions(EMPTY, tl, h.id, "isSub"))

    # Used by this toplevel: both versions listed, labelled by version, the old one after.
    tl = b.repl("r", b.list_(b.call("List::head_v0", [1]), h))
    cs = completions(EMPTY, tl, h.id, "head", limit=10_000)
    old, new = find(cs, "List::head"), find(cs, "List::head_v1")
    assert old.deprecated and not new.deprecated
    assert "deprecated" in old.doc.lower()
    assert cs.index(new) < cs.index(old)


def test_deprecated_versions_called_elsewhere_on_the_canvas_are_listed() -> None:
    h = b.hole()
    tl = b.repl("r", h)
    elsewhere = b.http("GET", "/", b.call("String::isSubstring_v1", "a", "b"))
    cs = completions(EMPTY, tl, h.id, "isSub", canvas=[elsewhere, tl])
    assert labels(cs) == ["String::isSubstring_v1"]
    assert cs[0].deprecated
    # A user function that calls one counts too, without passing the canvas.
    fn = b.function("old", [], UNKNOWN, b.call("Dict::get_v0", b.var("d"), "k"))
    cs = completions(Program.from_toplevels([fn]), tl, h.id, "Dict::get", limit=10_000)
    assert {"Dict::get", "Dict::get_v2"} <= set(labels(cs))
    assert "Dict::get_v1" not in labels(cs)


def test_only_the_newest_version_of_a_library_function_is_listed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(version: int) -> LibFunction:
        return LibFunction("Fake", "thing", version, (LibParam("x", INT),), INT,
                           f"version {version}", True, lambda ctx, x: x)

    for version in (0, 1, 3):
        monkeypatch.setitem(LIBRARY, f"Fake::thing_v{version}", fake(version))
    h = b.hole()
    cs = completions(EMPTY, b.repl("r", h), h.id, "Fake::")
    assert [(c.label, c.target) for c in cs] == [("Fake::thing_v3", n.LibFnRef("Fake", "thing", 3))]
    tl = b.repl("r", b.list_(b.call("Fake::thing_v1", 1), h))
    cs = completions(EMPTY, tl, h.id, "Fake::")
    assert labels(cs) == ["Fake::thing_v1", "Fake::thing_v3"]


def test_user_functions_list_the_newest_version_and_those_called() -> None:
    v0 = b.function("total", [("xs", TList(INT))], INT, 0, fn_id=77, description="Adds up.\nMore")
    v1 = b.function("total", [("xs", TList(INT))], INT, 1, fn_id=77, version=1,
                    description="Adds up, v1.")
    program = Program.from_toplevels([v0, v1])
    h = b.hole()
    cs = completions(program, b.repl("r", h), h.id, "tot")
    assert [(c.label, c.target, c.doc) for c in cs] == [
        ("total_v1", n.UserFnRef(77, 1), "Adds up, v1.")]
    assert cs[0].type_text == "List<Int> -> Int"
    tl = b.repl("r", b.list_(b.user_call(v0, [1]), h))
    cs = completions(program, tl, h.id, "tot")
    assert [(c.label, c.target, c.doc) for c in cs] == [
        ("total", n.UserFnRef(77, 0), "Adds up."), ("total_v1", n.UserFnRef(77, 1),
                                                        "Adds up, v1.")]


def test_a_function_can_complete_a_call_of_itself() -> None:
    h = b.hole()
    fn = b.function("countdown", [("n", INT)], INT, h)
    cs = completions(EMPTY, fn, h.id, "countd")
    assert labels(cs) == ["countdown"] and cs[0].fits


def test_user_enum_cases_are_constructors_with_their_type() -> None:
    enum = b.enum_type("Color", [("Red", []), ("Rgb", [("r", INT), ("g", INT)])])
    program = Program.from_toplevels([enum])
    h = b.hole()
    tl = b.function("pick", [], TUser(enum.type_id, 0), h)
    cs = completions(program, tl, h.id, "R")
    rgb = find(cs, "Rgb")
    assert rgb.fits and rgb.type_text == "Int -> Int -> Color_v0"
    assert rgb.target == ConstructorTarget("Rgb", 2, n.TypeRef(enum.type_id, 0))
    built, caret = build(rgb)
    assert isinstance(built, n.EConstructor) and built.type_ref == n.TypeRef(enum.type_id, 0)
    assert len(built.args) == 2 and caret == built.args[0].id
    assert not find(cs, "Error").fits  # a Result is not a Color


def test_option_and_result_calls_go_on_the_error_rail() -> None:
    h = b.hole()
    tl = b.http("GET", "/n/:a", b.let("n", h, b.infix("+", b.var("n"), 1)))
    cs = completions(EMPTY, tl, h.id, "String::toInt")
    to_int = find(cs, "String::toInt_v1")
    assert to_int.on_rail and to_int.type_text == "String -> Result<Int, String>"
    built, caret = build(to_int)
    assert isinstance(built, n.ECall) and built.on_rail
    filled = replace(tl, h.id, replace(built, caret, b.var("a")))
    infos = check_toplevel(filled, EMPTY)
    assert infos[built.id].type == INT
    assert not any(info.marks for info in infos.values())
    assert not find(completions(EMPTY, tl, h.id, "Int::add"), "Int::add").on_rail


def test_in_a_pipe_step_calls_take_the_piped_value_first() -> None:
    step = b.hole()
    tl = b.repl("r", b.pipe("gloam", step))
    cs = completions(EMPTY, tl, step.id, "", limit=10_000)
    upper, add = find(cs, "String::toUppercase_v1"), find(cs, "Int::add")
    assert upper.fits and upper.piped and not add.fits
    assert cs.index(upper) < cs.index(add)
    built, caret = build(upper)
    assert isinstance(built, n.ECall) and isinstance(built.args[0], n.EPipeTarget)
    assert caret == built.id  # nothing left to fill
    assert run_toplevel(replace(tl, step.id, built), {}) == "GLOAM"
    built, caret = build(find(cs, "String::append_v1"))
    assert isinstance(built.args[0], n.EPipeTarget) and caret == built.args[1].id


def test_keywords_build_their_construct_with_holes() -> None:
    h = b.hole()
    cs = completions(EMPTY, b.repl("r", h), h.id, "", limit=10_000)
    let, caret = build(find(cs, "let"))
    assert isinstance(let, n.ELet) and let.name == "" and caret == let.id
    assert isinstance(let.rhs, n.EHole) and isinstance(let.body, n.EHole)
    if_, caret = build(find(cs, "if"))
    assert isinstance(if_, n.EIf) and caret == if_.cond.id
    match, caret = build(find(cs, "match"))
    assert isinstance(match, n.EMatch) and caret == match.scrutinee.id
    assert [type(a.pattern) for a in match.arms] == [n.PHole]
    pipe, caret = build(find(cs, "|>"))
    assert isinstance(pipe, n.EPipe) and caret == pipe.head.id and len(pipe.steps) == 1
    flag, caret = build(find(cs, "flag"))
    assert isinstance(flag, n.EFlag) and re.fullmatch(r"flag-[0-9a-f]{4}", flag.name)
    assert caret == flag.cond.id
    true, caret = build(find(cs, "true"))
    assert true == n.EBool(caret, True)
    null, caret = build(find(cs, "null"))
    assert null == n.ENull(caret)


def test_built_expressions_have_fresh_ids_every_time() -> None:
    h = b.hole()
    c = find(completions(EMPTY, b.repl("r", h), h.id, "match"), "match")
    one, _ = build(c)
    two, _ = build(c)
    ids_one = {node.id for node in walk(one)}
    assert len(ids_one) == len(list(walk(one)))
    assert ids_one.isdisjoint(node.id for node in walk(two))


def test_build_refuses_a_hand_made_completion_it_cannot_build() -> None:
    bogus = Completion("x", "keyword", "", "", True, False, "while")
    with pytest.raises(ValueError, match="not a keyword"):
        build(bogus)
    with pytest.raises(ValueError, match="cannot build"):
        build(Completion("x", "library", "", "", True, False, "Int::add"))


def test_a_partial_completes_with_the_expected_type_of_its_place() -> None:
    p = b.partial("up", b.hole())
    tl = b.repl("r", b.call("String::length_v1", p))
    cs = completions(EMPTY, tl, p.id, "up")
    assert labels(cs)[0] == "String::toUppercase_v1" and cs[0].fits


# ------------------------------------------------- everything builds and runs


def _fill(tl: Toplevel, program: Program, node: n.Expr, c: Completion
          ) -> tuple[n.Expr, dict[int, NodeInfo]]:
    """Puts what `c` builds in place of `node`; checks it is a valid edit that checks and runs."""
    built, caret = build(c)
    assert caret in {x.id for x in walk(built)}
    op = ReplaceNode(tl.tlid, node.id, node, built)
    problem = validate(op, tl)
    assert problem is None, f"{c.label}: {problem}"
    filled = replace(tl, node.id, built)
    assert isinstance(filled, Toplevel)
    infos = check_toplevel(filled, program)
    assert built.id in infos
    assert not [m for info in infos.values() for m in info.marks if m.kind == INTERNAL_ERROR]
    result = run_toplevel(filled, {}, program, budget=Budget(max_steps=5_000))
    assert not (isinstance(result, ErrorValue) and "internal error" in result.message), result
    return built, infos


def _real_programs() -> list[tuple[Program, Toplevel, n.Expr]]:
    enum = b.enum_type("Color", [("Red", []), ("Rgb", [("r", INT)])])
    fn = b.function("double", [("x", INT)], INT, b.infix("*", b.var("x"), 2))
    users = b.datastore("Users", STRING)
    program = Program.from_toplevels([enum, fn, users])
    h1, h2, h3, h4 = b.hole(), b.hole(), b.hole(), b.hole()
    handler = b.http("GET", "/sum/:a/:b", b.let("x", b.call("String::toInt_v1", b.var("a"),
                                                             rail=True),
                                                 b.infix("+", b.var("x"), h1)))
    piped = b.repl("r", b.pipe([1, 2], h2, b.lam(["ys"], h3)))
    fn_body = b.function("pick", [("n", INT)], TOption(INT), b.match(b.var("n"), (b.pint(0), h4)))
    return [(program, handler, h1), (program, piped, h2), (program, piped, h3),
            (program, fn_body, h4)]


@pytest.mark.parametrize("case", range(4))
def test_every_completion_of_real_programs_builds_code_that_checks_and_runs(case: int) -> None:
    program, tl, hole = _real_programs()[case]
    cs = completions(program, tl, hole.id, "", limit=10_000)
    assert len(cs) > 150
    pipe_step = any(c.piped for c in cs)  # there `fits` is about the piped value instead
    for c in cs:
        built, infos = _fill(tl, program, hole, c)
        if not pipe_step:
            # `fits` agrees with the checker: what fits is not marked as a mismatch there.
            mismatch = any(m.kind == TYPE_MISMATCH for m in infos[built.id].marks)
            assert c.fits != mismatch, c


@settings(max_examples=400)
@given(tl=toplevels(max_leaves=8), data=st.data())
def test_any_completion_at_any_expression_leaves_code_that_checks_and_runs(
        tl: Toplevel, data: st.DataObject) -> None:
    exprs = [node for node in walk(tl) if isinstance(node, n.Expr)]
    if not exprs:
        return  # a type or datastore has no code to complete
    node = data.draw(st.sampled_from(exprs))
    program = Program.from_toplevels([tl])
    query = data.draw(st.sampled_from(["", "", "a", "St", "le", "ju", "|", "zzz"]))
    cs = completions(program, tl, node.id, query, limit=10_000)
    if query == "":
        assert cs  # there is always something to type
    # What is typed ranks first; within a match tier, what fits the hole comes first.
    tiers = [(match_rank(c, query.lower()), not c.fits) for c in cs]
    assert [t for t, _ in tiers] == sorted(t for t, _ in tiers)
    if cs:
        _fill(tl, program, node, data.draw(st.sampled_from(cs)))


def test_evaluating_a_built_call_with_holes_is_incomplete_not_an_error() -> None:
    h = b.hole()
    built, _ = build(find(completions(EMPTY, b.repl("r", h), h.id, "Int::add"), "Int::add"))
    assert isinstance(evaluate(built), Incomplete)


# ------------------------------------------- what is typed ranks first (issue 12, item 7)


@settings(max_examples=150, deadline=None)
@given(tl=toplevels(max_leaves=6), data=st.data())
def test_every_completion_the_query_starts_ranks_before_any_it_does_not(
        tl: Toplevel, data: st.DataObject) -> None:
    exprs = [node for node in walk(tl) if isinstance(node, n.Expr)]
    if not exprs:
        return
    node = data.draw(st.sampled_from(exprs))
    program = Program.from_toplevels([tl])
    everything = completions(program, tl, node.id, "", limit=10_000)
    # A prefix of some label (so both kinds are usually present), in any case.
    label = data.draw(st.sampled_from([c.label for c in everything]))
    query = label[:data.draw(st.integers(1, max(1, min(4, len(label)))))]
    query = data.draw(st.sampled_from([query, query.lower(), query.upper()]))
    cs = completions(program, tl, node.id, query, limit=10_000)
    starts = [c.label.lower().startswith(query.lower()) for c in cs]
    assert starts == sorted(starts, reverse=True), [c.label for c in cs]
    exact = [c.label.lower() == query.lower() for c in cs]
    assert exact == sorted(exact, reverse=True)


def test_the_name_being_typed_beats_what_fits_the_type() -> None:
    h = b.hole()
    tl = b.http("GET", "/sum/:a/:rows", b.let("x", 1, b.infix("+", b.var("x"), h)))
    first = {q: completions(EMPTY, tl, h.id, q)[0].label for q in ("r", "ro", "toI", "x", "le")}
    # `r` and `ro` start the route parameter `rows` (a String, not the Int wanted here).
    assert first == {"r": "rows", "ro": "rows", "toI": "String::toInt_v1", "x": "x", "le": "let"}
    cs = completions(EMPTY, tl, h.id, "round")
    assert labels(cs)[0] == "Float::round"       # a word of the label, then substrings
    assert labels(cs).index("Float::round") < labels(cs).index("Float::roundDown")
