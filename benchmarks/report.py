"""`docs/benchmarks.md` from one run's figures: machine, date, headline table, every figure.

The headline table names, per benchmark, the figure an issue sets a goal
for, the baseline measured in the same run, their ratio and whether the
goal is met (rows without a goal say "—"); the sections below list every
figure each benchmark printed.
"""

from __future__ import annotations

from typing import Any

# Per benchmark: the key prefixes of its figures, and what it measures.
SECTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "deploy": (("deploy_", "reload_baseline"),
               "Edit to live: from an op leaving a websocket client to the first HTTP response "
               "showing the new code, under steady background load (a separate process) on "
               "handlers of the same canvas, the edited one included, on the runtime's defaults "
               "(SQLite, its default traffic workers, locking on). The edited handler has "
               "traffic, so it is locked: the edit goes inside a feature flag's new branch "
               "(what the lock allows), and the probe sends the header the flag's condition "
               "looks for. Then the same with `--workers 1`. Baseline: the same handler as a "
               "plain aiohttp app under watchfiles' `run_process` reloader, edited on disk, "
               "timed the same way. Failed requests are the background load's; probe failures "
               "are listed apart."),
    "fanout": (("fanout_",),
               "Fan-out: three runtime nodes (`--workers 1` each, to fit 2 cores; locking on) "
               "on one database of a throwaway PostgreSQL server (fsync on), ~100 requests/s "
               "of background load over the three from a separate process. From an op leaving "
               "the editor's websocket to node A until every node answers the new value; each "
               "node's route is polled back to back from the send, over keep-alive connections, "
               "with the flag's header (the edit goes inside a feature flag's new branch of a "
               "handler with traffic, as in deploy). Baseline: node A's own time (the "
               "edit-to-live where the edit was made). `fanout_probe_after_ack_*`: deploys "
               "timed with the probes started only after A's ack, so they do not compete "
               "with the deploy for the cores."),
    "isolation": (("isolation_",),
                  "`/hello` latency on a runtime with its default traffic workers (2 here), "
                  "locking and traces on: 20 requests/s on a fixed schedule over 4 keep-alive "
                  "connections, quiet, then the same while a separate process sends a runaway "
                  "handler (a fold over 0..999999, stopped by the run's step budget or time "
                  "limit) 3 requests/s on fresh connections. Ratio = loaded p99 / quiet p99."),
    "serving": (("serve_",),
                "Requests/s and latency of one traffic worker (`--workers 1`, locking and traces "
                "on, a real runtime process) on a small string, FizzBuzz 1..100 as a JSON list, "
                "and two Ints parsed from route parameters (and a JSON-record POST, no goal); "
                "baseline: the same handlers as native aiohttp handlers in a process of their "
                "own, answers compared first. wrk with 16 connections; it takes one of the 2 "
                "cores, so the 2-worker figures show what a second worker buys without a core "
                "of its own."),
    "compute": (("compute_",),
                "fib 22 as a recursive user function, and range 0..10000 |> map |> filter |> "
                "fold, against the same code in plain Python in the same process (best of a few "
                "runs). Ratio = Gloam time / Python time."),
    "editor": (("editor_",),
               "Keystroke to repaint in a MainWindow on a handler of about 300 nodes (offscreen "
               "Qt, in process): QTest.keyClick, forced repaint, processEvents. Baseline: a "
               "QPlainTextEdit with the same text and keystrokes."),
    "tests_after_edit": (("tests_after_edit_",),
                         "Tests after an edit (offscreen Qt, in process, no runtime): a function "
                         "with a feature flag and 20 tests reaching it (3 checks each, each test "
                         "run in both flag states). From one real key event in the function to "
                         "the window showing the results of the canvas it made; and keystroke to "
                         "repaint (as the editor benchmark) with keys every 10-30 ms, each "
                         "starting a run that supersedes the one under way. The tests run in a "
                         "process of their own (editor/model/test_process.py). Baseline for the "
                         "keystrokes: the same canvas and keys with the tests not running."),
    "editing": (("editing_",),
                "Programs typed from an empty canvas as their text form, with real key events "
                "into a MainWindow (offscreen Qt, no runtime; the ops still apply): keys pressed "
                "(the text's characters in order, plus Enter/Tab where completion needs them; "
                "indentation is not typed) over the characters of the text form, header text "
                "included. Every program must come out exactly. Then change edits (wrap, "
                "unwrap, move a let, regroup, rename, commit a flag): keys against what a plain "
                "text editor with VS Code's default keys needs for the same change, counted by "
                "hand (benchmarks/programs_editing.py says how for each)."),
    "checker": (("checker_",),
                "Re-check after one edit in one handler, on a canvas of about 5,000 nodes (50 "
                "toplevels): `editor.model.checking.recheck`, which re-checks what the edit can "
                "affect. Baseline: a full re-check of every toplevel."),
    "migration": (("migration_",),
                  "Datastore migration on a real runtime (SQLite default, `--workers 1`, "
                  "locking on with a 2 s lock window instead of a week, so that the "
                  "conversion starts within the run): 100,000 rows of `Users_v0`, a handler "
                  "reading random rows (4 clients back to back), then `Users_v1` with a "
                  "realistic rollforward (split the name, lowercase the email: six library "
                  "calls) and the handler moved through a flag, committed. Rows/s: the "
                  "converter's own span from its first converting state to done. Read p99 "
                  "ratio: requests started during the conversion over those of the 5 s "
                  "before anything changed (the baseline)."),
    "fuzz": (("fuzz_",),
             "Fuzzing from types (`shared_ast.fuzz.fuzz_function`, in process, one core): "
             "generated inputs per second for a function of one user-record parameter (a "
             "String, a Float, an Int and a List<String>), correct for every input so no "
             "shrinking; best of 3 fuzzes of 2,000 inputs. Baseline: the evaluator alone "
             "on 2,000 records drawn beforehand; the ratio is what Hypothesis's generation "
             "costs over running the code."),
    "memory": (("runtime_rss", "memory_"),
               "Resident memory (VmRSS) of the runtime process with 200 handlers and 10,000 "
               "stored traces; baseline: the same process idle with the demo canvas."),
}

# benchmark: (target text, figure key, baseline key, ratio key, met key)
HEADLINES = [
    ("deploy p50 (ms)", "≤ 3 ms and ≥ 50x faster than the reloader",
     "deploy_p50_ms", "reload_baseline_p50_ms", "deploy_speedup_vs_reload_p50",
     "deploy_p50_target_met"),
    ("deploy p99 (ms)", "≤ 10 ms", "deploy_p99_ms", "reload_baseline_p99_ms", "—",
     "deploy_p99_target_met"),
    ("deploy p50, 1 worker (ms)", "— (baseline: default workers)", "deploy_p50_ms_1_worker",
     "deploy_p50_ms", "—", "—"),
    ("fanout p50, 3 nodes (ms)", "≤ 5 ms (baseline: node A alone)", "fanout_p50_ms",
     "fanout_node_a_p50_ms", "fanout_over_local_p50", "fanout_p50_target_met"),
    ("fanout p99, 3 nodes (ms)", "≤ 20 ms (baseline: node A alone)", "fanout_p99_ms",
     "fanout_node_a_p99_ms", "—", "fanout_p99_target_met"),
    ("isolation /hello p99 (ms)", "≤ 2x quiet while a runaway gets 3 req/s",
     "isolation_hello_loaded_p99_ms", "isolation_hello_quiet_p99_ms",
     "isolation_hello_p99_ratio", "isolation_target_met"),
    ("serving hello, 1 worker (req/s)", "≥ 0.5x native rps", "serve_hello_rps",
     "serve_hello_native_rps", "serve_hello_ratio", "serve_hello_target_met"),
    ("serving fizzbuzz, 1 worker (req/s)", "≥ 0.5x native rps", "serve_fizz_rps",
     "serve_fizz_native_rps", "serve_fizz_ratio", "serve_fizz_target_met"),
    ("serving /sum/:a/:b, 1 worker (req/s)", "≥ 0.5x native rps", "serve_params_rps",
     "serve_params_native_rps", "serve_params_ratio", "serve_params_target_met"),
    ("serving json POST, 1 worker (req/s)", "—", "serve_json_rps", "serve_json_native_rps",
     "serve_json_ratio", "—"),
    ("serving hello, 2 workers (req/s)", "— (baseline: 1 worker)", "serve_hello_rps_2_workers",
     "serve_hello_rps", "serve_hello_workers_2_over_1_ratio", "—"),
    ("serving fizzbuzz, 2 workers (req/s)", "— (baseline: 1 worker)", "serve_fizz_rps_2_workers",
     "serve_fizz_rps", "serve_fizz_workers_2_over_1_ratio", "—"),
    ("serving /sum, 2 workers (req/s)", "— (baseline: 1 worker)", "serve_params_rps_2_workers",
     "serve_params_rps", "serve_params_workers_2_over_1_ratio", "—"),
    ("compute fib 22 (ms)", "≤ 3x plain Python", "compute_fib_compiled_ms|compute_fib_reference_ms",
     "compute_fib_python_ms", "compute_fib_ratio", "compute_fib_target_met"),
    ("compute pipeline (ms)", "≤ 3x plain Python",
     "compute_pipeline_compiled_ms|compute_pipeline_reference_ms",
     "compute_pipeline_python_ms", "compute_pipeline_ratio",
     "compute_pipeline_target_met"),
    ("editor keystroke p99 (ms)", "< 16 ms", "editor_keystroke_p99_ms",
     "editor_baseline_qplaintextedit_p99_ms", "editor_p99_ratio_vs_baseline", "editor_target_met"),
    ("tests after an edit p50 (ms)", "≤ 100 ms, 20 tests", "tests_after_edit_p50_ms", "—",
     "—", "tests_after_edit_target_met"),
    ("keystroke p99 while tests run (ms)", "≤ 16 ms", "tests_after_edit_keystroke_p99_ms",
     "tests_after_edit_keystroke_not_running_p99_ms",
     "tests_after_edit_keystroke_ratio_vs_not_running", "tests_after_edit_keystroke_target_met"),
    ("editing keys per character", "≤ 0.8, every program exact", "editing_keys_ratio", "—",
     "—", "editing_target_met"),
    ("editing change-edit keys", "≤ a text editor's, each", "editing_change_keys",
     "editing_change_text_editor_keys", "—", "editing_changes_target_met"),
    ("checker re-check p50 (ms)", "< 5 ms", "checker_recheck_ms", "checker_full_recheck_ms",
     "checker_speedup_vs_full", "checker_target_met"),
    ("fuzz inputs/s (record parameter)", "—", "fuzz_examples_per_s",
     "fuzz_baseline_calls_per_s", "fuzz_generation_overhead_ratio", "—"),
    ("migration rows/s (100,000 rows)", "≥ 20,000 rows/s", "migration_rows_per_s", "—", "—",
     "migration_rows_per_s_met"),
    ("migration read p99 (ms)", "≤ 2x the p99 before", "migration_read_p99_during_ms",
     "migration_read_p99_before_ms", "migration_read_p99_ratio",
     "migration_read_p99_ratio_met"),
    ("runtime RSS (MB)", "< 200 MB", "runtime_rss_mb", "runtime_rss_idle_demo_mb",
     "runtime_rss_ratio_vs_idle", "memory_target_met"),
]


# Written by hand from profiles taken while the benchmarks were built (2026-11-27,
# cProfile on the runtime process and the editor loop); the figures above are this run's.
NOTES = [
    "## What the profiles showed (by hand, 2026-11-27 unless an item says otherwise; "
    "rerun them after changes)",
    "",
    "- **Deploy (2026-12-07, traffic workers).** The ack now waits for the durable commit "
    "and for every traffic worker to swap the batch in (one round trip over a Unix socket "
    "each: decode, apply, the next snapshot; compiling comes after the ack). With locking "
    "on and the edit in a flag's new branch, p50 is 4.8 ms at 1 and at 2 workers in this "
    "run (4.0 ms earlier in the day, with another process taking a core). The earlier, "
    "single-process runtime measured 2.1-3.7 ms with locking off. Timed inside the control "
    "process: lock check 0.15 ms, prepare 0.3 ms, commit 1.1 ms, the workers' swap 1.2-1.4 ms; "
    "the rest is the websocket and the probe. Tried and not kept: the workers preparing the "
    "snapshot while the commit runs, then only swapping: the swap's round trip alone still "
    "took 0.8-1.3 ms (four busy processes scheduled on two cores) and the commit grew to "
    "1.5 ms, so nothing was gained.",
    "- **Serving (2026-12-07, one traffic worker, py-spy at about 9k req/s).** The request "
    "path (`TrafficServer.handle`) is 39% of the worker's time: the compiled run 12-15% "
    "(about 9 us for the hello handler: a budget, an impure log, a host, the stack guard), "
    "the trace 10%, reading the request 5%; aiohttp's response and the socket send are "
    "most of the rest. Tracing cost 20-30% of throughput (8k against 10-12k req/s without "
    "it); traces are now encoded only when retention keeps them. wrk takes one of the two "
    "cores, so a second worker has no core of its own (2 workers serve about as much as "
    "1). FizzBuzz's 0.16x is the compiler's: a lambda with an if and a serialize per "
    "element runs in the general call path (issue 17).",
    "- **Isolation (2026-12-07).** The first version ran every request on the worker's "
    "event loop, and /hello's p99 under a runaway was 35 ms (12x). Now a run that passes "
    "5 ms gives the loop up (`Budget.yield_at`) and runs again in a thread, replaying its "
    "effects, and its handler's next runs start in the thread: p99 4.6 ms against 2.2 ms "
    "quiet. What is left is the GIL (the runaway's thread hands the interpreter back every "
    "millisecond) and each handler's first 5 ms on the loop.",
    "- **Fan-out (2026-12-07).** CPU-bound on this machine: each deploy costs about 1.5-2 ms "
    "of control-process CPU and 2 ms of worker CPU on every node, three nodes, PostgreSQL "
    "(commit with fsync about 1.5 ms) and the load share two cores. The other nodes follow "
    "node A within about 1-2 ms (A's own edit-to-live is the baseline: 1.2x); the p99 goal "
    "is met, the p50 is not.",
    "- **Compute.** The runtime compiles handlers and functions to Python source "
    "(`shared_ast/compiler.py` and `compile_*.py`); the reference evaluator (hundreds of "
    "times plain Python) stays for live values. The first profile, read from the generated "
    "code: per Gloam call fib paid for reading and writing the call depth, two step "
    "additions each with a limit test, three 64-bit range checks, a rail-exit and an Int "
    "test on each result, and an argument check. Fixed since: steps count on the run and "
    "depth is an argument; `compile_ints.py` knows which values are surely bounded Ints or "
    "Bools and skips their tests; `compile_calls.py` calls functions whose arguments surely "
    "fit without checks and charges a quiet callee's steps after it returns; loops over "
    "known-Int lists drop per-element tests. What fib still pays: the depth argument and "
    "its test, one step addition per call, and the 64-bit test on each sum (fib's result "
    "has no bound the compiler can know).",
    "- **Editor.** Fixed after the first profile: the projection is laid out once per "
    "keystroke (it was three times), one `QFont` and `QColor` per style, and `gc.freeze()` "
    "after a canvas loads (p99 40-70 ms to about 24 ms). The second profile found the rest "
    "of the tail in the garbage collector too: the projection cache kept 256 projections, one "
    "per keystroke's new tree, and full passes grew to 59 ms; it now keeps 3 per toplevel. "
    "Layout is incremental (`editor/projection/fragments.py` reuses unchanged subtrees' "
    "lines) and each line is painted once into an image that later paints copy "
    "(`editor/widgets/line_images.py`). Per keystroke now, about 3 ms: re-check 0.8 ms, "
    "caret positions 0.45 ms, applying the ops 0.4 ms, the window's refresh 0.4 ms, paint "
    "0.4 ms, layout under 0.1 ms.",
    "- **Editor crash (PySide6 6.12.0 on Python 3.11), fixed.** `QPainter.setFont`, "
    "`QPainter.setPen` and `QFont.setBold` each drop a reference to `None` per call, so after "
    "some thousands of token paints Python freed None and aborted (`none_dealloc`). "
    "`editor/widgets/pyside_guard.py` gives None, True and False the headroom Python 3.12 "
    "gives them by making them immortal; `tests/test_editor_pyside_guard.py` checks it.",
    "- **Editing keys (2026-12-07).** Per program, keys over characters: a handler of lets "
    "over route parameters 0.66, an `if` 0.65 (completion: `toI` Enter for "
    "`String::toInt_v1`; a blank `let` from Enter), a pipe with a lambda 0.86, a worker 0.91, "
    "a cron with a fold 0.91, but a match over strings and a record 0.98 and a function's "
    "header 1.14: string and number literals, field names and parameter types are typed "
    "character for character, as in text, and a name that ends a program needs one more key "
    "(Tab) to be committed. The goal, 0.8, is missed at 0.85; what would close it is less "
    "typing of what the editor already knows: a let's ` = ` and a case's ` -> ` are typed "
    "over, not skipped, and literals have no completion.",
    "- **Checker and memory** meet their targets with room to spare.",
]


def _get(figures: dict[str, Any], keys: str) -> Any:
    for key in keys.split("|"):
        if key in figures:
            return figures[key]
    return "—"


def _met(value: Any) -> str:
    if value == "—":  # a row with no goal
        return "—"
    if value is True:
        return "met"
    if value is False:
        return "**not met**"
    return "did not run"


def render(figures: dict[str, Any], machine: dict[str, Any], outcomes: dict[str, str],
           seconds: dict[str, float]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`benchmarks/run_all.py`); do not edit by hand. Every figure "
        "and baseline below comes from the same run on the same machine. The raw figures are "
        "in `benchmarks/results.json`.",
        "",
        "## Machine and run",
        "",
        f"- Date: {figures.get('bench_date_utc', '?')}",
        f"- CPU: {machine['cpu']}, {machine['cores']} cores; memory {machine['memory_gb']} GB",
        f"- OS: {machine['os']}; Python {machine['python']}",
        f"- Load average when the run started: {machine['load_at_start']} (other work on this "
        "machine competes for the same 2 cores, and moves the figures; servers and load "
        "generators share them too)",
        f"- Total time: {figures.get('bench_total_s', '?')} s",
        "",
        "| benchmark | outcome | seconds |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {outcomes[name]} | {seconds[name]} |" for name in outcomes]
    lines += [
        "",
        "## Headline figures against their goals",
        "",
        "| what | goal | Gloam | baseline | ratio | goal met |",
        "|---|---|---|---|---|---|",
    ]
    for what, target, key, base, ratio, met in HEADLINES:
        lines.append(f"| {what} | {target} | {_get(figures, key)} | {_get(figures, base)} | "
                     f"{_get(figures, ratio)} | {_met(figures.get(met, met))} |")
    lines += [
        "",
        f"Failed requests during deploys: {_get(figures, 'deploy_failed_requests')} "
        f"(reloader baseline: {_get(figures, 'reload_baseline_failed_requests')}). The deploy "
        "target as a whole (p50 ≤ 3 ms, p99 ≤ 10 ms, no failed request, ≥ 50x the reloader "
        f"at the median): {_met(figures.get('deploy_target_met'))}. Fan-out over 3 nodes "
        f"(p50 ≤ 5 ms, p99 ≤ 20 ms, no failed request): {_met(figures.get('fanout_target_met'))}"
        f", {_get(figures, 'fanout_background_failed')} failed background requests.",
        "",
        "## Every figure",
    ]
    for name, (prefixes, what) in SECTIONS.items():
        lines += ["", f"### {name}", "", what, "", "| figure | value |", "|---|---|"]
        keys = sorted(k for k in figures if k.startswith(prefixes))
        lines += [f"| `{k}` | {figures[k]} |" for k in keys] or ["| (did not run) | |"]
    lines += ["", *NOTES]
    lines += [
        "",
        "## How to rerun",
        "",
        "```",
        "make bench                            # all eight, about 3 minutes; writes this file",
        ".venv/bin/python benchmarks/run_all.py isolation serving   # a subset, same two files",
        ".venv/bin/python benchmarks/bench_checker.py            # one alone: merges into "
        "benchmarks/results.json",
        "```",
        "",
        "`make bench` installs the `bench` extra (watchfiles, for the reloader baseline) and "
        "uses wrk from Debian's packages for serving (installed with apt-get when missing and "
        "running as root; otherwise a Python load generator runs and the serving figures say "
        "so). Timings move with what else the machine is doing: rerun on an idle machine "
        "before comparing two runs.",
        "",
    ]
    return "\n".join(lines)
