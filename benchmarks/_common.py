"""Shared bits of the benchmark scripts (instructor side; never shipped to students)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
SHARED_DATA = ROOT.parent / "shared" / "data"
if SHARED_DATA.is_dir() and not os.environ.get("COURSE_DATA_DIR"):
    os.environ["COURSE_DATA_DIR"] = str(SHARED_DATA)
os.environ.setdefault("MPLBACKEND", "Agg")


def reference_namespace(assignment: str, upto: str) -> dict:
    """Run the code cells of the reference notebook up to and including the cell ``upto``
    (a grade_id) in a fresh namespace, and return it: the reference functions, for timing."""
    from course_grader.authoring.examples import strip_markers
    from course_grader.notebook import grade_id, is_test, read_notebook

    nb = read_notebook(ROOT / "source" / assignment / f"{assignment}.ipynb")
    namespace: dict = {"__name__": f"reference_{assignment}"}
    for cell in nb.cells:
        if cell.cell_type != "code" or is_test(cell):
            continue
        exec(compile(strip_markers(cell.source), f"<{assignment}:{grade_id(cell)}>", "exec"), namespace)
        if grade_id(cell) == upto:
            return namespace
    raise KeyError(f"{assignment} has no code cell {upto!r}")


def table(header: list, rows: list) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
