"""Wall time to autograde each assignment against executing it plainly.

    .venv/bin/python benchmarks/grading_time.py [ASSIGNMENT ...] [--repeats N]

For each assignment, the source notebook (reference solution and hidden tests: the same code
the grader runs for a correct submission) is
- executed plainly with nbconvert's ExecutePreprocessor (a stock python3 kernel, no sandbox,
  the same training budget COURSE_TRAIN_EPOCHS the grader sets), and
- autograded with `course_grader.grading.grade.grade_notebook` (merge, sandboxed kernel, records,
  judging), with the reference records already cached, as in any batch after the first notebook.
The difference is the grader's own cost.
Prints the median of N runs of each and their ratio. Aims: autograde within 1.3x of plain
execution, and under 60 s per assignment on the 2-core CI machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _common
from _common import ROOT, execute_seconds, table


def plain_seconds(nb, settings) -> float:
    # COURSE_GRADING: the hidden tests record() as in a grading kernel (they raise elsewhere)
    return execute_seconds(nb, {"COURSE_GRADING": "1", "COURSE_TRAIN_EPOCHS": str(settings.grading_epochs),
                                "MPLBACKEND": "Agg", "OMP_NUM_THREADS": str(settings.torch_threads)})


def grade_seconds(nb, settings, assignment) -> tuple[float, float, float]:
    import nbformat
    from course_grader.grading.grade import grade_notebook

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "student" / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
        start = time.perf_counter()
        result, _ = grade_notebook(settings, assignment, path, student="student")
        return time.perf_counter() - start, result.score, result.max_score


def main(argv=None) -> int:
    from course_grader.config import load_settings
    from course_grader.grading.grade import reference_records
    from course_grader.notebook import read_notebook
    from course_grader.execution.bwrap import use_sandbox

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    settings = load_settings(ROOT)
    names = args.assignments or settings.assignments()
    print(f"sandbox: {'bubblewrap' if use_sandbox(settings) else 'off (resource limits only)'}; "
          f"torch threads per kernel: {settings.torch_threads}; grading epochs: {settings.grading_epochs}; "
          f"{os.cpu_count()} cores; median of {args.repeats}")
    rows = []
    for assignment in names:
        nb = read_notebook(settings.source_notebook(assignment))
        reference_records(settings, assignment)          # cached once, as in a batch
        plain, graded = [], []
        for _ in range(args.repeats):
            plain.append(plain_seconds(nb, settings))
            seconds, score, max_score = grade_seconds(nb, settings, assignment)
            graded.append(seconds)
        p, g = statistics.median(plain), statistics.median(graded)
        rows.append([assignment, f"{p:.1f}", f"{g:.1f}", f"{g / p:.2f}x", f"{score:g}/{max_score:g}",
                     "ok" if g / p <= 1.3 and g < 60 else "MISSED"])
        print(f"  {assignment}: plain {p:.1f} s, autograde {g:.1f} s", file=sys.stderr)
    print(table(["assignment", "plain s", "autograde s", "ratio", "score", "aim 1.3x, <60 s"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
