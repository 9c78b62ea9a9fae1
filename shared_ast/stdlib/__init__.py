"""The Gloam standard library: versioned functions a program calls as `Module::name_vN`.

Importing this package registers every library function in `LIBRARY`, keyed
by its qualified name (`"List::map_v0"`). The checker reads their signatures
(parameter types with type variables, return type), the editor's palette
their docs and deprecations, and the evaluator calls their implementations
as `fn.impl(ctx, *args)`. The contract between them is in `registry`.

One module per Gloam module: `bool_fns`, `int_fns`, `float_fns`,
`string_fns`, `list_fns` and `list_lambda_fns`, `dict_fns`, `option_fns`,
`result_fns`, `json_fns`, `http_fns`, `uuid_fns`, `date_fns`, `flag_fns`, `test_fns`
(what a test's body calls), and `db_fns`
(`DB` and `Emit`, which reach the runtime through `host`). Each module's
docstring records the semantic choices it made (rounding, orders, encodings).
"""

from shared_ast.stdlib import (
    bool_fns,
    date_fns,
    db_fns,
    dict_fns,
    flag_fns,
    float_fns,
    http_fns,
    int_fns,
    json_fns,
    list_fns,
    list_lambda_fns,
    option_fns,
    result_fns,
    string_fns,
    test_fns,
    uuid_fns,
)
from shared_ast.stdlib.registry import (
    LIBRARY,
    Deprecation,
    Escape,
    LibError,
    LibFunction,
    lookup,
    register,
)

MODULES = (
    bool_fns,
    int_fns,
    float_fns,
    string_fns,
    list_fns,
    list_lambda_fns,
    dict_fns,
    option_fns,
    result_fns,
    json_fns,
    http_fns,
    uuid_fns,
    date_fns,
    flag_fns,
    test_fns,
    db_fns,
)

__all__ = [
    "LIBRARY",
    "MODULES",
    "Deprecation",
    "Escape",
    "LibError",
    "LibFunction",
    "lookup",
    "register",
]
