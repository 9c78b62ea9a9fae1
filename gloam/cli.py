"""The `gloam` command line.

It lives in a package of its own because it opens both sides: the runtime
(`gloam runtime ...`, `gloam canvas ...`) and the editor (`gloam editor`,
`gloam up`). The runtime and the editor never import each other, nor this.

    gloam eval FILE.json [--live]   evaluate an expression document, print its value
    gloam check FILE.json           type-check an expression document, print the marks
    gloam demo                      evaluate the example programs in assets/examples
    gloam up                        start the runtime if needed (what `make run` does)
    gloam runtime start|stop|status|logs|serve   the runtime daemon
    gloam canvas export NAME | import FILE       move a canvas in and out
    gloam canvas new NAME           create an empty canvas, print its editor token
    gloam canvas test NAME [--file export.json] [--junit out.xml]   run a canvas's tests
    gloam editor [--canvas NAME]    open the structure editor (on a desktop)

Documents are the wire format of `docs/protocol.md`: `{"schema": 1, "expr": {...}}`.
A file that does not decode gets a message naming the bad field and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.options import add_runtime_options, config_from_args, serve_args
from shared_ast.nodes import Expr

if TYPE_CHECKING:
    from runtime.config import RuntimeConfig

EXIT_OK = 0
EXIT_BAD_INPUT = 2

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "examples"


class BadInput(Exception):
    """A file the user named cannot be read or decoded; the message says why."""


def _read_expr(path: str) -> Expr:
    from shared_ast import wire

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: cannot read it ({e})") from None
    try:
        expr = wire.loads_document(text, "expr")
    except wire.WireError as e:
        raise BadInput(
            f"{path}: not a Gloam expression document: {e}\n"
            'An expression document looks like {"schema": 1, "expr": {"kind": "int", "id": 1, '
            '"value": 3}}; see docs/protocol.md.'
        ) from None
    assert isinstance(expr, Expr)
    return expr


def cmd_eval(path: str, live: bool) -> int:
    from shared_ast import wire
    from shared_ast.evaluator import LiveValues, evaluate

    expr = _read_expr(path)
    recorded = LiveValues() if live else None
    value = evaluate(expr, live=recorded)
    doc: dict[str, object] = {"schema": wire.SCHEMA_VERSION, "value": wire.encode_value(value)}
    if recorded is not None:
        doc["live"] = wire.encode_live_values(recorded)
    print(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False))
    return EXIT_OK


def cmd_check(path: str) -> int:
    from shared_ast.checker import check_expr
    from shared_ast.type_ast import show_type

    expr = _read_expr(path)
    infos = check_expr(expr)
    root = infos.get(expr.id)
    print(f"type: {show_type(root.type) if root else '?'}")
    marks = [(node_id, m) for node_id, info in infos.items() for m in info.marks]
    for node_id, m in marks:
        print(f"node {node_id}: {m.kind}: {m.message}")
    print(f"{len(marks)} problem(s)")
    return EXIT_OK


def cmd_demo() -> int:
    from shared_ast import values
    from shared_ast.evaluator import evaluate

    examples = sorted(EXAMPLES_DIR.glob("*.json"))
    print("Gloam: the language core. Each example is an expression document in the wire format")
    print("(docs/protocol.md), evaluated by the reference evaluator.\n")
    for path in examples:
        print(f"$ gloam eval {path.relative_to(EXAMPLES_DIR.parent.parent)}")
        expr = _read_expr(str(path))
        print("  ->", values.show(evaluate(expr)))
    print(
        "\nTry `gloam eval FILE.json --live` on your own documents; `make run` starts the runtime."
    )
    return EXIT_OK


def cmd_up(args: argparse.Namespace) -> int:
    """`make run`: start the runtime (or find it running), then the editor if there is a display."""
    import os

    from runtime import daemon
    from runtime.config import read_state

    config = config_from_args(args)
    pid = daemon.running_pid(config)
    if pid is None:
        ok, message = daemon.start(config, serve_args(args))
        print(message, file=sys.stdout if ok else sys.stderr)
        if not ok:
            return 1
    else:
        print(daemon.describe(config, read_state(config.data_dir) or {}, pid))
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print("\nNo display here, so no editor window: the runtime keeps running in the background."
              "\nOn a desktop, `.venv/bin/gloam editor` opens the editor on the demo canvas."
              "\nStop the runtime with `.venv/bin/gloam runtime stop`.")
        return EXIT_OK
    if not _desktop_ready():
        return EXIT_OK
    print("\nOpening the editor on the demo canvas; the runtime keeps running after you close "
          "it.\nStop it with `.venv/bin/gloam runtime stop`.")
    from editor.app import main as editor_main

    editor_args = ["--canvas", "demo"]
    if args.data_dir:
        editor_args += ["--data-dir", str(Path(args.data_dir).expanduser())]
    return editor_main(editor_args)


def _desktop_ready() -> bool:
    """Before `make run` opens the editor: the system libraries Qt's window plugin needs are
    installed (as root with apt) or named with the command that installs them."""
    from editor import platform_check

    packages = platform_check.needed_packages(platform_check.platform_name() or "")
    if packages:
        print(f"\nThe editor's window needs system packages that are missing: "
              f"{' '.join(packages)}.")
        if platform_check.can_install():
            print("Installing them with apt-get ...")
        ok, message = platform_check.install(packages)
        print(message, file=sys.stdout if ok else sys.stderr)
        if not ok:
            print("The runtime keeps running in the background; start the editor with "
                  "`.venv/bin/gloam editor` once they are installed.", file=sys.stderr)
            return False
    trouble = platform_check.problem()
    if trouble is not None:
        print(f"\nNo editor window: {trouble}\nThe runtime keeps running in the background.",
              file=sys.stderr)
        return False
    return True


def cmd_editor(argv: Sequence[str]) -> int:
    """`gloam editor`: the structure editor (see `editor.app`)."""
    from editor.app import main as editor_main

    return editor_main(argv)


def cmd_runtime(args: argparse.Namespace) -> int:
    from runtime import daemon

    config = config_from_args(args)
    match args.action:
        case "serve":
            from runtime.__main__ import serve_foreground

            return serve_foreground(config)
        case "start":
            ok, message = daemon.start(config, serve_args(args))
            print(message, file=sys.stdout if ok else sys.stderr)
            return EXIT_OK if ok else 1
        case "stop":
            ok, message = daemon.stop(config)
            print(message, file=sys.stdout if ok else sys.stderr)
            return EXIT_OK if ok else 1
        case "status":
            info = daemon.status(config)
            if args.json:
                print(json.dumps(info, indent=2))
            elif info["running"]:
                print(
                    f"running, pid {info['pid']}, traffic port {info['http_port']}, editor port "
                    f"{info['editor_port']}, up {info['uptime_seconds']} s, data in "
                    f"{info['data_dir']}, canvases: {', '.join(info['canvases']) or 'none'}"
                )
                print(f"store: {info.get('store')}"
                      + ("" if info.get("store_available", True) else
                         " (UNREACHABLE: serving the code it has, refusing deploys)"))
                for w in info.get("workers", []):
                    print(f"  worker {w['index']}: pid {w['pid']}, "
                          f"{'serving' if w['serving'] else 'starting'}, "
                          f"{w['requests']} requests, {w['restarts']} restarts")
                for line in migration_lines(info.get("migrations", {})):
                    print(line)
            else:
                print(f"not running (data folder {info['data_dir']})")
            return EXIT_OK if info["running"] else 3
        case "logs":
            if args.follow:
                try:
                    daemon.follow(config.log_path)
                except KeyboardInterrupt:
                    return EXIT_OK
            print(daemon.tail(config.log_path, 200))
            return EXIT_OK
    return EXIT_BAD_INPUT


def migration_lines(migrations: dict[str, list[dict[str, Any]]]) -> list[str]:
    """`gloam runtime status`'s line per datastore migration (chain of versions)."""
    from runtime.control.migrations import status_line

    return [status_line(canvas, state) for canvas, states in sorted(migrations.items())
            for state in states]


def cmd_canvas_new(config: RuntimeConfig, name: str) -> int:
    """Create an empty canvas; a running daemon is told to serve it at once."""
    from runtime.config import canvas_name_problem, make_private, read_state
    from runtime.control.transfer import tell_daemon
    from runtime.store import open_store
    from runtime.tokens import create_canvas

    problem = canvas_name_problem(name)
    if problem is not None:
        print(f"gloam: {problem}", file=sys.stderr)
        return 1
    make_private(config.data_dir)
    store = open_store(config.store_spec)
    try:
        existing = [c.name for c in store.canvases()]
        if name in existing:
            print(f"gloam: there is already a canvas named {name!r} in {config.data_dir}; pick "
                  f"another name (canvases: {', '.join(existing)})", file=sys.stderr)
            return 1
        token = create_canvas(store, config.data_dir, name)
    finally:
        store.close()
    served = tell_daemon(config, name)
    state = read_state(config.data_dir) or {}
    host, port = state.get("host", config.host), state.get("http_port", config.port)
    editor = f"http://{state.get('editor_host', config.editor_host)}:" \
             f"{state.get('editor_port', config.editor_port)}"
    print(f"created canvas {name!r} (empty)")
    print(f"editor token for {name}: {token}")
    print(f"editor API: {editor}  (canvas {name})")
    print(f"user traffic: http://{name}.localhost:{port}/ or http://{host}:{port}/c/{name}/")
    print("the running runtime serves it now" if served else
          "the runtime is not running; `gloam runtime start` serves it")
    return EXIT_OK


def cmd_canvas_test(args: argparse.Namespace) -> int:
    """Run a canvas's tests (on the live runtime, or an export with --file); see
    gloam/test_report.py for the summary, the exit code and the JUnit XML."""
    import time

    from gloam import test_report

    started = time.monotonic()
    try:
        if args.test_file:
            canvas, results = test_report.file_results(args.test_file)
            canvas = args.name or canvas
        elif not args.name:
            raise BadInput("canvas test needs the canvas name (or --file export.json)")
        else:
            canvas = args.name
            results = test_report.live_results(config_from_args(args), canvas, args.token,
                                               args.timeout)
    except test_report.TestsUnavailable as e:
        raise BadInput(str(e)) from None
    results.sort(key=lambda r: (r["name"], r["tlid"]))  # the same order live and from a file
    print("\n".join(test_report.report_lines(canvas, results)))
    if args.junit:
        xml = test_report.junit_xml(canvas, results, time.monotonic() - started)
        try:
            Path(args.junit).write_text(xml, encoding="utf-8")
        except OSError as e:
            raise BadInput(f"{args.junit}: cannot write the JUnit XML there ({e})") from None
    return test_report.exit_code(results, args.strict)


def cmd_canvas(args: argparse.Namespace) -> int:
    from runtime.control import transfer

    if args.action == "test":
        return cmd_canvas_test(args)
    config = config_from_args(args)
    if args.action == "new":
        return cmd_canvas_new(config, args.name)
    try:
        if args.action == "export":
            print(transfer.export_canvas(config, args.name, with_rows=args.rows))
            return EXIT_OK
        try:
            path = Path(args.file)
            text = path.read_text(encoding="utf-8") if args.file != "-" else sys.stdin.read()
        except (OSError, UnicodeDecodeError) as e:
            raise BadInput(f"{args.file}: cannot read it ({e})") from None
        print(transfer.import_canvas(config, text, rename=args.name))
    except transfer.TransferError as e:
        raise BadInput(str(e)) from None
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gloam", description="Gloam: deployless programming.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_eval = sub.add_parser("eval", help="evaluate an expression document and print its value")
    p_eval.add_argument("file", help='a JSON document {"schema": 1, "expr": ...}')
    p_eval.add_argument("--live", action="store_true", help="also print every node's live value")
    p_check = sub.add_parser("check", help="type-check an expression document")
    p_check.add_argument("file")
    sub.add_parser("demo", help="evaluate the bundled example programs")
    sub.add_parser("editor", help="open the structure editor (options: gloam editor --help)")
    p_up = sub.add_parser("up", help="start the runtime if needed and print where to reach it")
    add_runtime_options(p_up)
    p_rt = sub.add_parser("runtime", help="the runtime daemon")
    p_rt.add_argument("action", choices=["start", "stop", "status", "logs", "serve"])
    p_rt.add_argument("--json", action="store_true", help="status as a JSON object")
    p_rt.add_argument("-f", "--follow", action="store_true", help="logs: keep printing")
    add_runtime_options(p_rt)
    p_cv = sub.add_parser("canvas", help="create, export, import or test a canvas")
    p_cv.add_argument("action", choices=["new", "export", "import", "test"])
    p_cv.add_argument(
        "target", nargs="?",
        help="new, export, test: the canvas name; import: a file (or - for stdin)"
    )
    p_cv.add_argument("--rows", action="store_true", help="export: include datastore rows")
    p_cv.add_argument("--as", dest="rename", help="import: under this canvas name")
    p_cv.add_argument("--file", dest="test_file",
                      help="test: run the tests of this exported canvas here (no runtime)")
    p_cv.add_argument("--junit", help="test: also write the results as JUnit XML to this file")
    p_cv.add_argument("--strict", action="store_true",
                      help="test: incomplete tests (holes, no checks) fail the run too")
    p_cv.add_argument("--token", help="test: the canvas's editor token (default: "
                      "$GLOAM_TOKEN, else the one this machine keeps)")
    p_cv.add_argument("--timeout", type=float, default=600.0,
                      help="test: seconds to wait for the runtime's results")
    add_runtime_options(p_cv)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["editor"]:
        # The editor parses its own options (`gloam editor --help` lists them).
        return cmd_editor(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        match args.command:
            case "eval":
                return cmd_eval(args.file, args.live)
            case "check":
                return cmd_check(args.file)
            case "demo":
                return cmd_demo()
            case "up":
                return cmd_up(args)
            case "runtime":
                return cmd_runtime(args)
            case "canvas":
                if args.target is None and not (args.action == "test" and args.test_file):
                    raise BadInput(f"canvas {args.action} needs "
                                   + ("a file" if args.action == "import" else
                                      "the canvas name"))
                if args.action in ("new", "export", "test"):
                    args.name = args.target
                else:
                    args.file, args.name = args.target, args.rename
                return cmd_canvas(args)
    except BadInput as e:
        print(f"gloam: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
