"""Wall time of each assignment as a student runs it: the release notebook with the reference
answers filled in, executed top to bottom at its default settings (no grading budget), in a stock
python3 kernel, as "Run all" in Jupyter or Colab does (the Colab install cell skipped: the
packages are here already).

    .venv/bin/python benchmarks/notebook_time.py [ASSIGNMENT ...]

Aim (issue 13): each well under a minute on a 2-core CPU.
"""
from __future__ import annotations

import argparse

from _common import ROOT, execute_seconds, table          # also sets sys.path and the data root

AIM_SECONDS = 60


def main() -> int:
    from course_grader.authoring.examples import fill_solutions
    from course_grader.authoring.release import SETUP_ID
    from course_grader.config import load_settings
    from course_grader.notebook import read_notebook

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*")
    args = parser.parse_args()
    settings = load_settings(ROOT)
    rows = []
    for assignment in args.assignments or settings.assignments():
        release = read_notebook(settings.release_notebook(assignment))
        nb = fill_solutions(release, read_notebook(settings.source_notebook(assignment)))
        nb.cells = [c for c in nb.cells if c.get("id") != SETUP_ID]       # pip install: not here
        seconds = execute_seconds(nb, unset_env=("COURSE_GRADING", "COURSE_TRAIN_EPOCHS"))  # a student's run
        rows.append([assignment, f"{seconds:.1f}", "ok" if seconds < AIM_SECONDS else "MISSED"])
        print(f"  {assignment}: {seconds:.1f} s", flush=True)
    print(table(["assignment", "run all s", f"aim < {AIM_SECONDS} s"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
