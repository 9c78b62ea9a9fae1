"""The standard library's registry: every function is there, and every entry is well formed."""

from __future__ import annotations

import inspect

import pytest

from shared_ast import stdlib
from shared_ast.stdlib import LIBRARY, Deprecation, LibFunction, lookup
from shared_ast.stdlib.registry import versions_of
from shared_ast.type_ast import (
    TDict,
    TFn,
    TList,
    TOption,
    TRecord,
    TResult,
    Type,
)

EXPECTED = {
    "Bool": "and_v0 not_v0 or_v0 xor_v0 isError_v0",
    "Int": (
        "absoluteValue_v0 add_v0 clamp_v0 divide_v0 greaterThan_v0 greaterThanOrEqualTo_v0"
        " lessThan_v0 lessThanOrEqualTo_v0 max_v0 min_v0 mod_v0 multiply_v0 negate_v0 power_v0"
        " random_v1 remainder_v0 sqrt_v0 subtract_v0 sum_v0 toFloat_v0 parse_v0"
    ),
    "Float": (
        "absoluteValue_v0 add_v0 ceiling_v0 clamp_v0 divide_v0 floor_v0 greaterThan_v0"
        " greaterThanOrEqualTo_v0 lessThan_v0 lessThanOrEqualTo_v0 max_v0 min_v0 multiply_v0"
        " negate_v0 parse_v0 power_v0 round_v0 roundDown_v0 roundUp_v0 sqrt_v0 subtract_v0"
        " sum_v0 truncate_v0"
    ),
    "String": (
        "append_v1 base64Decode_v0 base64Encode_v0 contains_v0 digest_v0 dropFirst_v0"
        " dropLast_v0 endsWith_v0 first_v0 foreach_v1 fromChar_v1 fromList_v1 htmlEscape_v0"
        " isEmpty_v0 isSubstring_v1 join_v0 last_v0 length_v1 newline_v0 padEnd_v0 padStart_v0"
        " prepend_v0 replaceAll_v0 reverse_v0 sha256_v0 sha384_v0 slice_v0 slugify_v2 split_v1"
        " startsWith_v0 toFloat_v1 toInt_v1 toList_v1 toLowercase_v1 toUppercase_v1 toUUID_v1"
        " trim_v0 trimEnd_v0 trimStart_v0"
    ),
    "List": (
        "all_v0 append_v0 contains_v0 drop_v0 dropWhile_v0 empty_v0 filter_v2 filterMap_v0"
        " findFirst_v2 flatten_v0 fold_v0 getAt_v1 head_v0 head_v1 indexedMap_v0 interleave_v0"
        " interpose_v0 isEmpty_v0 last_v2 length_v0 map_v0 map2_v0 map2shortest_v0 member_v0"
        " partition_v0 push_v0 pushBack_v0 randomElement_v0 range_v0 repeat_v0 reverse_v0"
        " singleton_v0 sort_v0 sortBy_v0 sortByComparator_v0 tail_v0 take_v0 takeWhile_v0"
        " uniqueBy_v0 unzip_v0 zip_v0 zipShortest_v0"
    ),
    "Dict": (
        "empty_v0 filter_v1 filterMap_v0 fromList_v0 fromListOverwritingDuplicates_v0 get_v0"
        " get_v1 get_v2 isEmpty_v0 keys_v0 map_v0 member_v0 merge_v0 remove_v0 set_v0"
        " singleton_v0 size_v0 toList_v0 values_v0"
    ),
    "Option": "andThen_v0 map_v1 map2_v0 withDefault_v0",
    "Result": "andThen_v1 fromOption_v2 map_v1 map2_v0 mapError_v1 toOption_v1 withDefault_v0",
    "Json": "parse_v0 serialize_v0",
    "Http": "response_v0 responseWithHeaders_v0 redirectTo_v0 notFound_v0 badRequest_v0",
    "Uuid": "generate_v0",
    "Date": "now_v0 parse_v0 toString_v0",
}

EXPECTED_NAMES = sorted(
    f"{module}::{fn}" for module, fns in EXPECTED.items() for fn in fns.split()
)

#: The only functions whose result depends on something besides their arguments.
#: Randomness, the clock, and everything that reads or writes the runtime's data.
IMPURE = {
    "Int::random_v1", "List::randomElement_v0", "Uuid::generate_v0", "Date::now_v0",
    "DB::set_v1", "DB::get_v2", "DB::getAll_v3", "DB::delete_v1", "DB::query_v4",
    "DB::keys_v1", "DB::count_v0", "Emit::emit_v0",
}

#: Older versions that a listed newer function supersedes.
MUST_BE_DEPRECATED = {
    "List::head_v0": "List::head_v1",
    "Dict::get_v0": "Dict::get_v2",
    "Dict::get_v1": "Dict::get_v2",
}

ALL = sorted(LIBRARY.values(), key=lambda f: f.qualified)


def _types_in(t: Type) -> list[Type]:
    """`t` and every type nested inside it."""
    out = [t]
    match t:
        case TList(elem):
            out += _types_in(elem)
        case TDict(value):
            out += _types_in(value)
        case TOption(inner):
            out += _types_in(inner)
        case TResult(ok, err):
            out += _types_in(ok) + _types_in(err)
        case TFn(params, ret):
            for p in params:
                out += _types_in(p)
            out += _types_in(ret)
        case TRecord(fields):
            for f in fields:
                out += _types_in(f.type)
    return out


def test_expected_list_has_no_duplicates() -> None:
    assert len(EXPECTED_NAMES) == len(set(EXPECTED_NAMES))
    assert len(EXPECTED_NAMES) == 171


@pytest.mark.parametrize("qualified", EXPECTED_NAMES)
def test_function_is_registered(qualified: str) -> None:
    assert qualified in LIBRARY, f"{qualified} is not registered"
    module, _, rest = qualified.partition("::")
    name, _, version = rest.rpartition("_v")
    fn = lookup(module, name, int(version))
    assert fn is LIBRARY[qualified]
    assert (fn.module, fn.name, fn.version) == (module, name, int(version))


def test_package_reexports() -> None:
    for name in ("LIBRARY", "lookup", "LibFunction", "LibError", "Escape", "Deprecation",
                 "register"):
        assert name in stdlib.__all__
        assert hasattr(stdlib, name)
    assert stdlib.__doc__ and stdlib.__doc__.strip()
    for module in stdlib.MODULES:
        assert module.__doc__ and len(module.__doc__.strip()) > 40, module.__name__


@pytest.mark.parametrize("fn", ALL, ids=lambda f: f.qualified)
def test_entry_is_well_formed(fn: LibFunction) -> None:
    assert fn.qualified == f"{fn.module}::{fn.name}_v{fn.version}"
    assert LIBRARY[fn.qualified] is fn
    # One line of documentation.
    assert isinstance(fn.doc, str) and fn.doc.strip(), "empty doc"
    assert "\n" not in fn.doc, "doc must be one line"
    assert len(fn.doc) <= 100, "doc must fit a palette line"
    # Typed parameters and return type.
    assert isinstance(fn.return_type, Type)
    assert all(isinstance(t, Type) for t in _types_in(fn.return_type))
    names = [p.name for p in fn.params]
    assert all(n for n in names), "parameter without a name"
    assert len(set(names)) == len(names), "two parameters with one name"
    for p in fn.params:
        assert isinstance(p.type, Type), p
        assert all(isinstance(t, Type) for t in _types_in(p.type)), p
    # Purity is a real bool.
    assert isinstance(fn.pure, bool)
    assert isinstance(fn.accepts_special, bool)
    # The implementation takes the context and one argument per parameter.
    sig = inspect.signature(fn.impl)
    positional = [
        p for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    assert len(positional) == len(fn.params) + 1
    assert callable(fn.impl)


@pytest.mark.parametrize("fn", ALL, ids=lambda f: f.qualified)
def test_deprecation_is_well_formed(fn: LibFunction) -> None:
    dep = fn.deprecated
    if dep is None:
        return
    assert isinstance(dep, Deprecation)
    replacement_ok = False
    if dep.replaced_by is not None:
        new = LIBRARY.get(dep.replaced_by)
        assert new is not None, f"replaced_by {dep.replaced_by} is not registered"
        assert (new.module, new.name) == (fn.module, fn.name), (
            f"replaced_by {dep.replaced_by} is not a version of {fn.module}::{fn.name}"
        )
        assert new.version > fn.version, "replaced by an older version"
        assert new.deprecated is None or new.deprecated.replaced_by != fn.qualified
        replacement_ok = True
    reason_ok = isinstance(dep.reason, str) and bool(dep.reason.strip())
    assert replacement_ok or reason_ok, "deprecated without a replacement or a reason"


@pytest.mark.parametrize(("old", "new"), sorted(MUST_BE_DEPRECATED.items()))
def test_superseded_versions_are_deprecated(old: str, new: str) -> None:
    dep = LIBRARY[old].deprecated
    assert dep is not None
    assert dep.replaced_by == new
    assert LIBRARY[new].deprecated is None


def test_get_has_three_versions() -> None:
    assert [f.version for f in versions_of("Dict", "get")] == [0, 1, 2]
    assert LIBRARY["Dict::get_v1"].deprecated.reason  # type: ignore[union-attr]


def test_newest_versions_are_not_deprecated() -> None:
    for fn in ALL:
        newest = versions_of(fn.module, fn.name)[-1]
        if newest.deprecated is not None:
            # Only renames may deprecate the newest version, and they must say so.
            assert newest.deprecated.reason, newest.qualified


def test_only_random_clock_and_data_functions_are_impure() -> None:
    assert {f.qualified for f in ALL if not f.pure} == IMPURE


def test_only_is_error_and_expect_accept_special_values() -> None:
    # Test::expect reports an error or unfinished actual value as a failed check.
    assert {f.qualified for f in ALL if f.accepts_special} == {"Bool::isError_v0",
                                                                "Test::expect_v0"}


def test_generic_signature_of_map() -> None:
    from shared_ast.type_ast import TVar

    fn = LIBRARY["List::map_v0"]
    assert [p.type for p in fn.params] == [
        TList(TVar("a")),
        TFn((TVar("a"),), TVar("b")),
    ]
    assert fn.return_type == TList(TVar("b"))
