"""Run the benchmarks in sequence; write `benchmarks/results.json` and `docs/benchmarks.md`.

    make bench                      # or: .venv/bin/python benchmarks/run_all.py
    .venv/bin/python benchmarks/run_all.py checker editor   # a subset, same files written

Each benchmark runs in a process of its own (Qt, event loops and the None
ballast of the editor benchmark stay in theirs) and merges its figures into a
scratch results file; a benchmark that fails is reported and the others still
run. The two files are written from this run's figures only (figures from an
earlier run are not carried over), so they always describe one run. Each
benchmark gets at most TIMEOUT_S seconds, so the whole run stays within 15
minutes even when one hangs; on this 2-core machine all eleven take about 5 minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import common
import report

# Cheap and in-process first, the ones that start servers last.
ORDER = ["checker", "fuzz", "editor", "editing", "tests_after_edit", "memory", "compute",
         "isolation", "serving", "deploy", "fanout", "migration"]
TIMEOUT_S = 150


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in ORDER]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {ORDER}", file=sys.stderr)
        return 2
    chosen = names or ORDER
    machine = common.machine_info()
    started = datetime.now(UTC)
    outcomes: dict[str, str] = {}
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="gloam-bench-") as tmp:
        scratch = Path(tmp) / "results.json"
        env = {**os.environ, "GLOAM_BENCH_RESULTS": str(scratch),
               "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
        for name in chosen:
            script = Path(__file__).with_name(f"bench_{name}.py")
            print(f"\n### {name} ({script.name})", flush=True)
            start = time.perf_counter()
            try:
                done = subprocess.run([sys.executable, str(script)], env=env, timeout=TIMEOUT_S,
                                      check=False)
                code = done.returncode
                outcomes[name] = "ok" if code == 0 else f"failed (exit {code})"
            except subprocess.TimeoutExpired:
                outcomes[name] = f"did not finish in {TIMEOUT_S} s"
            seconds[name] = round(time.perf_counter() - start, 1)
            print(f"### {name}: {outcomes[name]} in {seconds[name]} s", flush=True)
        try:
            figures = json.loads(scratch.read_text())
        except (OSError, ValueError):
            figures = {}
    figures["bench_date_utc"] = started.strftime("%Y-%m-%d %H:%M UTC")
    figures["bench_total_s"] = round(sum(seconds.values()), 1)
    common.RESULTS_FILE.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    doc = common.ROOT / "docs" / "benchmarks.md"
    doc.write_text(report.render(figures, machine, outcomes, seconds))
    print(f"\nwrote {common.RESULTS_FILE.relative_to(common.ROOT)} and "
          f"{doc.relative_to(common.ROOT)} ({figures['bench_total_s']} s in all)")
    for name in chosen:
        print(f"  {name:8s} {outcomes[name]} ({seconds[name]} s)")
    return 0 if all(v == "ok" for v in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
