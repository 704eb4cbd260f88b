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


def execute_seconds(nb, set_env: dict | None = None, unset_env: tuple = ()) -> float:
    """Seconds to execute the notebook ``nb`` plainly (nbconvert's ExecutePreprocessor, a stock
    python3 kernel, a temporary working folder), with ``set_env`` set and ``unset_env`` unset
    in the kernel's environment."""
    import tempfile
    import time

    import nbformat
    from nbconvert.preprocessors import ExecutePreprocessor

    env_before = dict(os.environ)
    for name in unset_env:
        os.environ.pop(name, None)
    os.environ.update(set_env or {})
    try:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            ExecutePreprocessor(timeout=600, kernel_name="python3").preprocess(
                nbformat.from_dict(nb), {"metadata": {"path": tmp}})
            return time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(env_before)


def table(header: list, rows: list) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
