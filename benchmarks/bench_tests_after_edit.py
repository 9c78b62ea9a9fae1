"""Tests after an edit: from a keystroke in a function to the results of the 20 tests that
reach it shown (issue 14, goal p50 ≤ 100 ms), and keystroke to repaint while tests run
(goal p99 ≤ 16 ms).

In process, offscreen Qt: a `MainWindow` on an `EditorController(None)` (no
runtime), a function `score` of about 60 nodes with a feature flag (so each
test runs twice: the flag's old and new branch) and 20 tests reaching it, each
with three checks of `score`. The caret is after an Int literal of the function.

`tests_after_edit`: one real key event (`QTest.keyClick`: a digit onto the
literal, or Backspace) and the time until the window shows the results of the
canvas that key made (`TestRunner.shown` reaches the key's request, and its
`updated` handler has repainted the frames), polling Qt's events every 0.5 ms.
Between samples the editor is left idle, so each sample is one edit's full run.

`tests_after_edit_keystroke_*`: the same keys as the editor benchmark
(bench_editor.py: keyClick, forced repaint, processEvents, timed), sent every 4
to 16 ms, each starting a run of the 20 tests that supersedes the run under way;
the figures are those of the keys sent while a run was under way (how many is
printed; `..._every_key_p99_ms` is over all keys). The tests run in a process of
their own (editor/model/test_process.py, at a lower priority); the UI thread
shows the results once typing pauses for 40 ms.
Baseline: the same keystrokes on the same canvas (the function and its 20 tests) with
the tests not running.
"""

from __future__ import annotations

import gc
import os
import random
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import common

TESTS = 20
SAMPLES = 60
KEYSTROKES = 300


def _canvas(with_tests: bool) -> tuple[object, list[object]]:
    from shared_ast import build as b
    from shared_ast.type_ast import INT

    n = b.var("n")
    body = b.let("a", b.infix("*", n, 2),
                 b.let("b", b.infix("+", b.var("a"), 7),
                       b.let("c", b.flag("bonus", b.bool_(False), b.infix("-", b.var("b"), 1),
                                         b.infix("-", b.var("b"), 2)),
                             b.let("d", b.call("Int::max_v0", b.var("c"), 0),
                                   b.let("e", b.infix("%", b.var("d"), 1000),
                                         b.infix("+", b.var("e"), b.var("a")))))))
    fn = b.function("score", [("n", INT)], INT, body, pos=(20, 20))
    tests: list[object] = []
    if with_tests:
        for i in range(TESTS):
            checks = [b.expect(b.user_call(fn, k), 3 * k + 6) for k in (i, i + 1, i + 2)]
            tests.append(b.test(f"score {i}", b.list_(*checks), pos=(600, 20 + 70 * i)))
    return fn, tests


def _window(app: object, with_tests: bool) -> tuple[object, object, object]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from editor.controller import EditorController
    from editor.widgets.main_window import MainWindow

    fn, tests = _canvas(with_tests)
    controller = EditorController(None)
    controller.load([fn, *tests])  # type: ignore[list-item]
    window = MainWindow(controller)
    gc.freeze()
    window.resize(1400, 1000)
    window.show()
    controller.focus(fn.tlid)  # type: ignore[attr-defined]
    code = window.canvas.frames[fn.tlid].code  # type: ignore[attr-defined]
    code.setFocus()
    # Line 2 is `let b = a + 7`: its end is after the literal 7 ("77" and back).
    QTest.keyClick(code, Qt.Key.Key_Down)
    QTest.keyClick(code, Qt.Key.Key_End)
    _settle(app, window)
    return window, code, fn


def _settle(app: object, window: object) -> None:
    runner = window.tests  # type: ignore[attr-defined]
    while runner.busy() or not runner.worker.idle():
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.0005)
    app.processEvents()  # type: ignore[attr-defined]


def _key(i: int) -> object:
    from PySide6.QtCore import Qt

    return Qt.Key.Key_7 if i % 2 == 0 else Qt.Key.Key_Backspace


def time_results(app: object) -> tuple[list[float], int]:
    from PySide6.QtTest import QTest

    window, code, _fn = _window(app, True)
    runner = window.tests  # type: ignore[attr-defined]
    shown_runs = []
    samples = []
    for i in range(SAMPLES):
        start = common.now_ms()
        QTest.keyClick(code, _key(i))
        asked = runner.asked
        while runner.shown < asked:
            app.processEvents()  # type: ignore[attr-defined]
            time.sleep(0.0005)
        app.processEvents()  # type: ignore[attr-defined]
        samples.append(common.now_ms() - start)
        shown_runs.append(len(runner.board.results))
    ran = min(shown_runs)
    window.close()  # type: ignore[attr-defined]
    return samples, ran


def time_keystrokes(app: object, running: bool) -> tuple[list[float], list[float], int]:
    """Keystroke to repaint on the canvas with its 20 tests; with `running` False the
    tests are not run (the baseline: the same canvas and keys, nothing in the background)."""
    from PySide6.QtTest import QTest

    window, code, _fn = _window(app, True)
    runner = window.tests  # type: ignore[attr-defined]
    if not running:
        runner.stop()
        runner.follow = lambda _canvas: None
    worker = runner.worker
    rng = random.Random(14)
    samples = []
    during = []
    for i in range(KEYSTROKES):
        pause = time.perf_counter() + rng.uniform(0.004, 0.016)
        while time.perf_counter() < pause:
            app.processEvents()  # type: ignore[attr-defined]
            time.sleep(0.001)
        running_now = not worker.idle()
        start = common.now_ms()
        QTest.keyClick(code, _key(i))
        code.repaint()
        app.processEvents()  # type: ignore[attr-defined]
        samples.append(common.now_ms() - start)
        if running_now:
            during.append(samples[-1])
    _settle(app, window)
    failing = sum(r.failing for r in window.tests.board.results.values())  # type: ignore[attr-defined]
    window.close()  # type: ignore[attr-defined]
    return samples, during, failing


def main() -> dict[str, object]:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    results, ran = time_results(app)
    keys, during, _failing = time_keystrokes(app, True)
    base, _none, _ = time_keystrokes(app, False)
    busy_share = len(during) / len(keys)
    r, k, p = common.spread(results), common.spread(during), common.spread(base)
    every = common.spread(keys)
    figures = {
        "tests_after_edit_tests": TESTS,
        "tests_after_edit_runs_per_test": 2,
        "tests_after_edit_results_shown": ran,
        "tests_after_edit_samples": len(results),
        "tests_after_edit_p50_ms": r["p50"],
        "tests_after_edit_p99_ms": r["p99"],
        "tests_after_edit_max_ms": r["max"],
        "tests_after_edit_target_met": r["p50"] <= 100.0,
        "tests_after_edit_keystrokes": len(keys),
        "tests_after_edit_keystrokes_while_running": len(during),
        "tests_after_edit_keystrokes_while_running_share": round(busy_share, 3),
        "tests_after_edit_keystroke_every_key_p99_ms": every["p99"],
        "tests_after_edit_keystroke_p50_ms": k["p50"],
        "tests_after_edit_keystroke_p99_ms": k["p99"],
        "tests_after_edit_keystroke_max_ms": k["max"],
        "tests_after_edit_keystroke_not_running_p50_ms": p["p50"],
        "tests_after_edit_keystroke_not_running_p99_ms": p["p99"],
        "tests_after_edit_keystroke_ratio_vs_not_running": common.ratio(k["p99"], p["p99"]),
        "tests_after_edit_keystroke_target_met": k["p99"] <= 16.0,
    }
    if ran < TESTS:
        print(f"   warning: only {ran} test results shown, expected {TESTS}")
    common.report(
        "tests_after_edit", figures,
        f"keystroke to results of {TESTS} tests (x2 flag states): p50 {r['p50']} ms (goal "
        f"≤ 100 ms {'met' if figures['tests_after_edit_target_met'] else 'NOT met'}); "
        f"keystroke to repaint while they run ({len(during)} keys sent during a run): p99 "
        f"{k['p99']} ms, same canvas with the tests not running {p['p99']} ms (goal ≤ 16 ms "
        f"{'met' if figures['tests_after_edit_keystroke_target_met'] else 'NOT met'})",
    )
    return figures


if __name__ == "__main__":
    main()
    os._exit(0)
