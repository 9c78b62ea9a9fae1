"""The canvas as code sees it: which user functions, types and datastores exist.

The checker and the evaluator both need to resolve a `UserFnRef` or a `TUser`
to its definition; `Program` is the one read-only index they share. The
runtime rebuilds it when a deploy changes a function, type or datastore
(handlers are not in it: nothing calls a handler by reference).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from shared_ast.nodes import EnumCase, UserFnRef
from shared_ast.toplevels import Datastore, EnumDef, RecordDef, Toplevel, UserFunction, UserType


@attrs.frozen
class Program:
    functions: Mapping[tuple[int, int], UserFunction] = attrs.field(factory=dict)
    types: Mapping[tuple[int, int], UserType] = attrs.field(factory=dict)
    datastores: Mapping[tuple[str, int], Datastore] = attrs.field(factory=dict)

    @classmethod
    def from_toplevels(cls, toplevels: Iterable[Toplevel]) -> Program:
        functions: dict[tuple[int, int], UserFunction] = {}
        types: dict[tuple[int, int], UserType] = {}
        datastores: dict[tuple[str, int], Datastore] = {}
        for tl in toplevels:
            if isinstance(tl, UserFunction):
                functions[(tl.fn_id, tl.version)] = tl
            elif isinstance(tl, UserType):
                types[(tl.type_id, tl.version)] = tl
            elif isinstance(tl, Datastore):
                datastores[(tl.name, tl.version)] = tl
        return cls(functions, types, datastores)

    # ------------------------------------------------------------ functions

    def function(self, ref: UserFnRef) -> UserFunction | None:
        return self.functions.get((ref.fn_id, ref.version))

    def function_versions(self, fn_id: int) -> list[UserFunction]:
        return sorted(
            (f for (fid, _), f in self.functions.items() if fid == fn_id),
            key=lambda f: f.version,
        )

    def function_by_name(self, name: str, version: int) -> UserFunction | None:
        for f in self.functions.values():
            if f.name == name and f.version == version:
                return f
        return None

    # ---------------------------------------------------------------- types

    def type(self, type_id: int, version: int) -> UserType | None:
        return self.types.get((type_id, version))

    def type_names(self) -> dict[tuple[int, int], str]:
        """(type_id, version) → name, for `show_type`."""
        return {key: t.name for key, t in self.types.items()}

    def record_fields(self, type_id: int, version: int) -> RecordDef | None:
        t = self.type(type_id, version)
        return t.definition if t is not None and isinstance(t.definition, RecordDef) else None

    def enum_cases(self, type_id: int, version: int) -> EnumDef | None:
        t = self.type(type_id, version)
        return t.definition if t is not None and isinstance(t.definition, EnumDef) else None

    def enums_with_case(self, case_name: str) -> list[tuple[UserType, EnumCase]]:
        """Every user enum (any version) that has a case named `case_name`."""
        found = []
        for t in self.types.values():
            if isinstance(t.definition, EnumDef):
                for case in t.definition.cases:
                    if case.name == case_name:
                        found.append((t, case))
        return found

    # ----------------------------------------------------------- datastores

    def datastore(self, name: str, version: int) -> Datastore | None:
        return self.datastores.get((name, version))

    def datastore_variables(self) -> dict[str, Datastore]:
        """The variables every handler and function sees: `Name_vN` for each datastore version."""
        return {f"{name}_v{version}": ds for (name, version), ds in self.datastores.items()}
