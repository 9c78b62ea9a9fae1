"""Match checking: typing each arm's pattern, then coverage of the whole match.

`PatternRules` is the checker's half for patterns: a pattern is checked
against the scrutinee's type (a `Just x` wants an Option, an enum case wants
its enum), its variables are collected for the arm's body, and it is reduced
to a shape: a `Wild` (a variable or `_`) or a `Head` (a constructor, a Bool, a
literal, `null`) with the `Family` it belongs to. A family lists all of its
cases when there are finitely many (`true`/`false`, `Just`/`Nothing`, the cases
of a user enum); literals of Int, String, Float have no such list, so only a
catch-all covers them. A pattern that can match nothing (an empty pattern
hole, an ill-typed pattern) has no shape and is left out of coverage.

Coverage is Maranget's usefulness ("Warnings for pattern matching", 2007): an
arm is redundant when it is not useful after the arms above it, and a match
is exhaustive when a catch-all would not be useful after all its arms. The
witness it finds is what the mark says is missing, e.g. `Just (Error _)`. The
work is bounded: a pathological match gets no marks rather than a slow check.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import attrs

from shared_ast.nodes import (
    EnumCase,
    NodeId,
    Pattern,
    PBool,
    PConstructor,
    PFloat,
    PHole,
    PInt,
    PNull,
    PString,
    PVariable,
    PWildcard,
    TypeRef,
)
from shared_ast.program import Program
from shared_ast.toplevels import EnumDef, UserType
from shared_ast.type_ast import (
    BOOL,
    FLOAT,
    INT,
    NULL,
    STRING,
    UNKNOWN,
    TBool,
    TNull,
    TOption,
    TResult,
    TUnknown,
    TUser,
    TVar,
    Type,
)
from shared_ast.unify import Meta, Unifier

__all__ = [
    "AMBIGUOUS_CONSTRUCTOR",
    "BOOL_FAMILY",
    "BUILTIN_CONSTRUCTORS",
    "NON_EXHAUSTIVE_MATCH",
    "NULL_FAMILY",
    "OPTION_FAMILY",
    "REDUNDANT_ARM",
    "RESULT_FAMILY",
    "UNKNOWN_CONSTRUCTOR",
    "Case",
    "Coverage",
    "Family",
    "Head",
    "PatternRules",
    "Shape",
    "Wild",
    "literal_family",
    "missing_cases",
    "redundant_arms",
]

# The marks that only matches and constructors make; the checker lists them with the rest.
NON_EXHAUSTIVE_MATCH = "non_exhaustive_match"
REDUNDANT_ARM = "redundant_arm"
UNKNOWN_CONSTRUCTOR = "unknown_constructor"
AMBIGUOUS_CONSTRUCTOR = "ambiguous_constructor"

#: The constructors of Option and Result, which every program has.
BUILTIN_CONSTRUCTORS = frozenset({"Just", "Nothing", "Ok", "Error"})

#: How many steps one match may take before coverage gives up (and marks nothing).
BUDGET = 20_000


@attrs.frozen
class Case:
    """One case of a finite family: its key, how a person writes it, how many arguments it has."""

    key: Hashable
    label: str
    arity: int


@attrs.frozen
class Family:
    """The type a pattern head belongs to; `cases` is None when there are infinitely many."""

    name: str
    cases: tuple[Case, ...] | None = None


@attrs.frozen
class Wild:
    """A variable or `_`: matches everything."""


@attrs.frozen
class Head:
    """A constructor or literal pattern; `key` is unique within its family."""

    family: Family
    key: Hashable
    label: str
    args: tuple[Shape, ...] = ()


Shape = Wild | Head
Row = tuple[Shape, ...]

WILD = Wild()

BOOL_FAMILY = Family("Bool", (Case(True, "true", 0), Case(False, "false", 0)))
NULL_FAMILY = Family("Null", (Case(None, "null", 0),))
OPTION_FAMILY = Family("Option", (Case("Just", "Just", 1), Case("Nothing", "Nothing", 0)))
RESULT_FAMILY = Family("Result", (Case("Ok", "Ok", 1), Case("Error", "Error", 1)))


def literal_family(type_name: str) -> Family:
    """The family of the literals of an unbounded type (`Int`, `String`, `Float`)."""
    return Family(type_name)


class _OutOfBudget(Exception):
    """The step budget ran out; coverage then answers nothing."""


def _render(label: str, args: Sequence[str]) -> str:
    parts = [label, *(f"({a})" if " " in a else a for a in args)]
    return " ".join(parts)


def _specialize(rows: list[Row], family: Family, key: Hashable, arity: int) -> list[Row]:
    """The rows that match the case `key`, with its arguments spread in place of the head."""
    out: list[Row] = []
    for row in rows:
        head = row[0]
        if isinstance(head, Wild):
            out.append((WILD,) * arity + row[1:])
        elif head.family == family and head.key == key and len(head.args) == arity:
            out.append(head.args + row[1:])
    return out


def _default(rows: list[Row]) -> list[Row]:
    """The rows whose first column is a catch-all, without that column."""
    return [row[1:] for row in rows if isinstance(row[0], Wild)]


def _column(rows: list[Row]) -> tuple[Family | None, set[Hashable]]:
    """The one finite family of the first column's heads (None: mixed, unbounded), and the keys."""
    families = set()
    keys: set[Hashable] = set()
    for row in rows:
        head = row[0]
        if isinstance(head, Head):
            families.add(head.family)
            keys.add(head.key)
    if len(families) != 1:
        return None, keys
    family = families.pop()
    return (family if family.cases is not None else None), keys


class Coverage:
    """One coverage question about one match, with its step budget."""

    def __init__(self) -> None:
        self._steps = 0

    def _tick(self) -> None:
        self._steps += 1
        if self._steps > BUDGET:
            raise _OutOfBudget

    def _complete(self, rows: list[Row]) -> Family | None:
        family, keys = _column(rows)
        if family is None or family.cases is None:
            return None
        if all(c.key in keys for c in family.cases):
            return family
        return None

    def useful(self, rows: list[Row], vector: Row) -> bool:
        """Whether some value matches `vector` but none of `rows`."""
        self._tick()
        if not vector:
            return not rows
        head = vector[0]
        if isinstance(head, Head):
            return self.useful(_specialize(rows, head.family, head.key, len(head.args)),
                               head.args + vector[1:])
        family = self._complete(rows)
        if family is not None and family.cases is not None:
            return any(
                self.useful(_specialize(rows, family, c.key, c.arity),
                            (WILD,) * c.arity + vector[1:])
                for c in family.cases
            )
        return self.useful(_default(rows), vector[1:])

    def witness(self, rows: list[Row], width: int) -> tuple[str, ...] | None:
        """A vector of `width` values (as a person writes them) that no row matches, if any."""
        self._tick()
        if width == 0:
            return None if rows else ()
        family = self._complete(rows)
        if family is not None and family.cases is not None:
            for c in family.cases:
                found = self.witness(_specialize(rows, family, c.key, c.arity), c.arity + width - 1)
                if found is not None:
                    return (_render(c.label, found[: c.arity]), *found[c.arity:])
            return None
        rest = self.witness(_default(rows), width - 1)
        if rest is None:
            return None
        partial, keys = _column(rows)
        if partial is not None and partial.cases is not None:
            for c in partial.cases:
                if c.key not in keys:
                    return (_render(c.label, ("_",) * c.arity), *rest)
        return ("_", *rest)


def redundant_arms(arms: Sequence[Shape | None]) -> list[int]:
    """Indices of the arms (None = can match nothing, skipped) that no value reaches."""
    coverage = Coverage()
    seen: list[Row] = []
    found: list[int] = []
    try:
        for i, shape in enumerate(arms):
            if shape is None:
                continue
            if not coverage.useful(seen, (shape,)):
                found.append(i)
            seen.append((shape,))
    except (_OutOfBudget, RecursionError):
        return []
    return found


def missing_cases(arms: Sequence[Shape | None], top: Family | None) -> list[str]:
    """What no arm matches, as a person writes it: `["Nothing"]`, `["_"]`; [] when exhaustive.

    `top` is the scrutinee type's family when the checker knows it; otherwise
    it is read off the arms' heads. Each missing case of a finite family is
    listed; for an unbounded type the answer is `_` (some other value).
    """
    rows: list[Row] = [(shape,) for shape in arms if shape is not None]
    coverage = Coverage()
    try:
        if top is None:
            top, _ = _column(rows)
        if top is None or top.cases is None:
            found = coverage.witness(rows, 1)
            return [] if found is None else [found[0]]
        missing = []
        for c in top.cases:
            sub = coverage.witness(_specialize(rows, top, c.key, c.arity), c.arity)
            if sub is not None:
                missing.append(_render(c.label, sub))
    except (_OutOfBudget, RecursionError):
        return []
    return missing


def builtin_constructor(name: str, u: Unifier) -> tuple[Type, tuple[Type, ...]]:
    """The type `Just`/`Nothing`/`Ok`/`Error` makes (with fresh unknowns), and its arguments'."""
    a, b = u.fresh(), u.fresh()
    if name in ("Just", "Nothing"):
        return TOption(a), ((a,) if name == "Just" else ())
    return TResult(a, b), ((a,) if name == "Ok" else (b,))


class PatternRules:
    """The checker's rules for patterns and match coverage, mixed into the checker.

    The host provides the solved types so far, the unifier, the program and
    the ways to mark a node.
    """

    types: dict[NodeId, Type]
    u: Unifier
    program: Program
    _enum_families: dict[tuple[int, int], Family]

    def mark(self, node_id: NodeId, kind: str, message: str | None,
             expected: Type | None = None, found: Type | None = None) -> None:
        raise NotImplementedError

    def mismatch(self, node_id: NodeId, expected: Type, found: Type) -> None:
        raise NotImplementedError

    def wrong_arity(self, node_id: NodeId, label: str, wanted: int, given: int) -> None:
        raise NotImplementedError

    def duplicate(self, node_id: NodeId, message: str) -> None:
        raise NotImplementedError

    def internal(self, node_id: NodeId, message: str) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------- patterns

    def pattern(self, p: Pattern, t: Type, bound: dict[str, Type]) -> Shape | None:
        """Types `p` against the scrutinee type `t` and collects its variables into `bound`.

        Returns its shape for coverage, or None when it can match nothing
        (an empty pattern, or one that is marked).
        """
        self.types[p.id] = t
        match p:
            case PVariable(name=name):
                if name in bound:
                    self.duplicate(p.id, f"{name} is already bound in this pattern")
                if name:
                    bound[name] = t
                return WILD
            case PWildcard():
                return WILD
            case PHole():
                return None
            case PInt(value=value):
                return self.literal(p, t, INT, Head(literal_family("Int"), value, str(value)))
            case PFloat(value=value):
                return self.literal(p, t, FLOAT, Head(literal_family("Float"), value, repr(value)))
            case PString(value=value):
                return self.literal(p, t, STRING,
                                    Head(literal_family("String"), value, repr(value)))
            case PBool(value=value):
                return self.literal(p, t, BOOL, Head(BOOL_FAMILY, value, str(value).lower()))
            case PNull():
                return self.literal(p, t, NULL, Head(NULL_FAMILY, None, "null"))
            case PConstructor():
                return self.constructor_pattern(p, t, bound)
        self.internal(p.id, f"the checker has no rule for {type(p).__name__}")
        return None

    def literal(self, p: Pattern, t: Type, lit: Type, head: Head) -> Shape | None:
        self.types[p.id] = lit
        if not self.u.unify(t, lit):
            self.mismatch(p.id, t, lit)
            return None
        return head

    def constructor_pattern(self, p: PConstructor, t: Type,
                            bound: dict[str, Type]) -> Shape | None:
        fits = True
        wants: tuple[Type, ...] = ()
        family: Family | None = None
        if p.name in BUILTIN_CONSTRUCTORS:
            made, wants = builtin_constructor(p.name, self.u)
            family = OPTION_FAMILY if isinstance(made, TOption) else RESULT_FAMILY
            self.types[p.id] = made
            if not self.u.unify(t, made):
                self.mismatch(p.id, t, made)
                fits = False
        else:
            found = self.case_pattern(p, t)
            if found is None:
                fits = False
            else:
                user, case = found
                self.types[p.id] = user
                wants = tuple(f.type for f in case.fields)
                family = self.enum_family(user)
        if fits and len(p.args) != len(wants):
            self.wrong_arity(p.id, p.name, len(wants), len(p.args))
            fits = False
        args = [self.pattern(arg, wants[i] if fits and i < len(wants) else UNKNOWN, bound)
                for i, arg in enumerate(p.args)]
        shapes = tuple(a for a in args if a is not None)
        if not fits or family is None or len(shapes) != len(args):
            return None
        return Head(family, p.name, p.name, shapes)

    def case_pattern(self, p: PConstructor, t: Type) -> tuple[TUser, EnumCase] | None:
        """The user enum case a constructor pattern names, from the scrutinee type or the name."""
        want = self.u.resolve(t)
        if isinstance(want, TUser):
            user_type = self.program.type(want.type_id, want.version)
            if user_type is not None:
                return self.case_of(p.id, user_type, p.name)
        candidates = self.program.enums_with_case(p.name)
        if not candidates:
            self.mark(p.id, UNKNOWN_CONSTRUCTOR, f"no type has a case named {p.name!r}")
            return None
        first = TUser(candidates[0][0].type_id, candidates[0][0].version)
        if not isinstance(want, TUnknown | TVar | Meta | TUser):
            self.mismatch(p.id, t, first)
            return None
        if len(candidates) > 1:
            names = ", ".join(f"{u.name}_v{u.version}" for u, _ in candidates)
            self.mark(p.id, AMBIGUOUS_CONSTRUCTOR,
                      f"{p.name} is a case of several types ({names}); match on a typed value")
            return None
        self.u.unify(t, first)
        return first, candidates[0][1]

    def user_case(self, node_id: NodeId, name: str, ref: TypeRef | None,
                  expected: Type) -> tuple[TUser, EnumCase] | None:
        """The enum and case a constructor expression names: by its `ref`, else by a unique name.

        A name several enums share is settled by the expected type when it can be.
        """
        if ref is not None:
            user_type = self.program.type(ref.type_id, ref.version)
            return None if user_type is None else self.case_of(node_id, user_type, name)
        candidates = self.program.enums_with_case(name)
        if not candidates:
            self.mark(node_id, UNKNOWN_CONSTRUCTOR, f"no type has a case named {name!r}")
            return None
        want = self.u.resolve(expected)
        if len(candidates) > 1 and isinstance(want, TUser):
            candidates = [(t, c) for t, c in candidates
                          if (t.type_id, t.version) == (want.type_id, want.version)] or candidates
        if len(candidates) > 1:
            names = ", ".join(f"{t.name}_v{t.version}" for t, _ in candidates)
            self.mark(node_id, AMBIGUOUS_CONSTRUCTOR,
                      f"{name} is a case of several types ({names}); say which one")
            return None
        user_type, case = candidates[0]
        return TUser(user_type.type_id, user_type.version), case

    def case_of(self, node_id: NodeId, user_type: UserType,
                name: str) -> tuple[TUser, EnumCase] | None:
        """The case `name` of `user_type`; marks `node_id` when there is none."""
        label = f"{user_type.name}_v{user_type.version}"
        if not isinstance(user_type.definition, EnumDef):
            self.mark(node_id, UNKNOWN_CONSTRUCTOR, f"{label} is a record type; it has no cases")
            return None
        for case in user_type.definition.cases:
            if case.name == name:
                return TUser(user_type.type_id, user_type.version), case
        have = ", ".join(c.name for c in user_type.definition.cases) or "none"
        self.mark(node_id, UNKNOWN_CONSTRUCTOR, f"{label} has no case {name}; its cases: {have}")
        return None

    # ------------------------------------------------------------- coverage

    def enum_family(self, user: TUser) -> Family | None:
        key = (user.type_id, user.version)
        if key not in self._enum_families:
            cases = self.program.enum_cases(*key)
            if cases is None:
                return None
            self._enum_families[key] = Family(
                f"{user.type_id}_v{user.version}",
                tuple(Case(c.name, c.name, len(c.fields)) for c in cases.cases),
            )
        return self._enum_families[key]

    def family_of(self, t: Type) -> Family | None:
        match self.u.resolve(t):
            case TBool():
                return BOOL_FAMILY
            case TNull():
                return NULL_FAMILY
            case TOption():
                return OPTION_FAMILY
            case TResult():
                return RESULT_FAMILY
            case TUser() as user:
                return self.enum_family(user)
        return None

    def coverage(self, match_id: NodeId, arm_ids: Sequence[NodeId], scrutinee: Type,
                 shapes: list[Shape | None]) -> None:
        """Marks a match that misses some values, and each arm that can never run."""
        missing = missing_cases(shapes, self.family_of(scrutinee))
        if missing == ["_"]:
            self.mark(match_id, NON_EXHAUSTIVE_MATCH,
                      "some values match no arm: add a catch-all arm (_ or a variable)")
        elif missing:
            self.mark(match_id, NON_EXHAUSTIVE_MATCH, f"no arm matches {', '.join(missing)}")
        for i in redundant_arms(shapes):
            self.mark(arm_ids[i], REDUNDANT_ARM,
                      "this arm never runs: the arms above it match everything it matches")
