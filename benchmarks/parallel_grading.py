"""Batch grading throughput: --jobs 1 against --jobs 2, and the cost of the sandbox.

    .venv/bin/python benchmarks/parallel_grading.py [--copies 40] [--assignment conv_from_scratch]

Grades COPIES copies of one submission (the reference solution in the release notebook) with
`grade_folder(jobs=1)` and `grade_folder(jobs=2)`, then once more with jobs=1 and the sandbox
off. Prints seconds per submission, the speedup of two jobs, and the sandbox's overhead per
submission. Aims: speedup at least 1.7x on 2 cores, sandbox overhead under 15%.
"""
from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from pathlib import Path

import _common
from _common import ROOT, table


def main(argv=None) -> int:
    import nbformat
    from course_grader.grading.batch import grade_folder
    from course_grader.config import load_settings
    from course_grader.authoring.examples import fill_solutions
    from course_grader.grading.grade import reference_records
    from course_grader.notebook import read_notebook
    from course_grader.execution.bwrap import use_sandbox

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--assignment", default="conv_from_scratch")
    args = parser.parse_args(argv)
    settings = load_settings(ROOT)
    a = args.assignment
    nb = fill_solutions(read_notebook(settings.release_notebook(a)), read_notebook(settings.source_notebook(a)))
    reference_records(settings, a)
    sandboxed = use_sandbox(settings)
    runs = [("jobs 1, sandbox", 1, settings)]
    runs.append(("jobs 2, sandbox", 2, settings))
    runs.append(("jobs 1, no sandbox", 1, dataclasses.replace(settings, sandbox="off")))
    if not sandboxed:
        print("bubblewrap is not installed: the 'sandbox' rows run with resource limits only")
    seconds = {}
    with tempfile.TemporaryDirectory() as tmp:
        submitted = Path(tmp) / "submitted"
        for i in range(args.copies):
            path = submitted / f"student{i:03d}" / a / f"{a}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(nb, path)
        for label, jobs, s in runs:
            out = Path(tmp) / label.replace(" ", "_").replace(",", "")
            start = time.perf_counter()
            results = grade_folder(s, submitted, out, jobs=jobs, progress=False)
            seconds[label] = time.perf_counter() - start
            assert all(r.score == r.max_score for r in results), "a copy lost points"
            print(f"  {label}: {seconds[label]:.1f} s", file=sys.stderr)
    per = {k: v / args.copies for k, v in seconds.items()}
    speedup = seconds["jobs 1, sandbox"] / seconds["jobs 2, sandbox"]
    overhead = per["jobs 1, sandbox"] / per["jobs 1, no sandbox"] - 1
    print(f"{args.copies} copies of {a} (reference solution), one torch thread per kernel")
    print(table(["run", "total s", "s / submission"],
                [[k, f"{v:.1f}", f"{per[k]:.2f}"] for k, v in seconds.items()]))
    print(f"speedup of --jobs 2: {speedup:.2f}x (aim >= 1.7x): {'ok' if speedup >= 1.7 else 'MISSED'}")
    print(f"sandbox overhead: {100 * overhead:+.1f}% per submission (aim < 15%): "
          f"{'ok' if overhead < 0.15 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
