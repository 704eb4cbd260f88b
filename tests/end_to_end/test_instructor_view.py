"""The instructor sees why (issue 17.5): each test cell of the autograded notebook (what nbgrader's
formgrader shows) carries an output with its records' verdicts, so that every lost point is
explained there; the student's feedback keeps none of it (record names can carry hidden inputs)."""
from __future__ import annotations

import json

import nbformat
import pytest

from course_grader.grading.grade import grade_notebook
from course_grader.grading import report
from course_grader.grading.report import write_outputs
from course_grader.grading.results import GradeResult
from course_grader.grading.verdicts import INSTRUCTOR_OUTPUT
from course_grader.notebook import grade_id, is_test
from tests.conftest import needs_mnist
from tests.helpers import fill_solutions, release_nb, source_nb
from tests.variants.pooling import AVGPOOL_SQUARE_DIVISOR

pytestmark = [needs_mnist, pytest.mark.slow]

#: right everywhere but on the 8x6 inputs of the hidden dtype test (no visible test uses them)
WRONG_DTYPE_ON_8x6 = """

_right_maxpool2d_naive = maxpool2d_naive


def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    out = _right_maxpool2d_naive(x, kernel_size, stride, padding)
    return out.float() if tuple(x.shape[-2:]) == (8, 6) else out
"""


def _verdicts(nb) -> dict:
    return {grade_id(c): o["data"]["text/plain"] for c in nb.cells if is_test(c)
            for o in c.get("outputs", []) if o.get("metadata", {}).get(INSTRUCTOR_OUTPUT)}


def test_each_test_cell_of_the_autograded_notebook_says_why(settings, tmp_path):
    nb = fill_solutions(release_nb(settings, "pooling"), source_nb(settings, "pooling"))
    next(c for c in nb.cells if grade_id(c) == "avgpool2d").source = AVGPOOL_SQUARE_DIVISOR  # rectangles
    naive = next(c for c in nb.cells if grade_id(c) == "maxpool2d_naive")
    naive.source += WRONG_DTYPE_ON_8x6
    path = tmp_path / "sub" / "pooling.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    result, executed = grade_notebook(settings, "pooling", path, student="bob")
    paths = write_outputs(tmp_path / "out", result, executed)

    autograded = nbformat.read(paths["autograded"], as_version=4)
    verdicts = _verdicts(autograded)
    tests = {t.name: t for t in result.tests}
    assert set(verdicts) == set(tests), "one verdict output per test cell"
    # a cell that ran and lost its points on records: every record with its verdict
    dtype = verdicts["test_pool_dtype"]
    assert dtype.startswith("course grade: test_pool_dtype failed, 0 / 1 points\n"), dtype
    lines = dtype.splitlines()[1:]
    assert [line.split(":")[0] for line in lines if line.startswith("FAIL")] == ["FAIL maxpool2d_naive"], dtype
    # the other 7 dtype records, and the 12 on memory layouts and inputs left unchanged (4 functions x 3)
    assert sum(line.startswith("ok   ") for line in lines) == 7 + 12, dtype
    # a cell whose hidden test stopped at an assert: the records made before it, then the error
    avg = verdicts["test_avgpool2d"]
    assert avg.startswith("course grade: test_avgpool2d failed, 0 / 2 points\n"), avg
    assert any(line.startswith("ok   avgpool2d") for line in avg.splitlines()), avg   # square windows
    assert "FAIL AssertionError: avgpool2d: (2, 4) window" in avg and "records not reached" in avg, avg
    assert verdicts["test_maxpool2d"].startswith("course grade: test_maxpool2d passed, 3 / 3 points\n")
    assert "FAIL" not in verdicts["test_maxpool2d"]

    # nothing of it in what the student gets
    feedback = paths["feedback"].read_text() + paths["report"].read_text()
    assert "course grade: " not in feedback and "ok   " not in feedback
    passed_names = [line[5:] for line in verdicts["test_maxpool2d"].splitlines()[1:]]
    assert passed_names and not any(json.dumps(name)[1:-1] in feedback for name in passed_names)

    # the figures the notebook drew, on a page of their own for the instructor, never the student's
    page = paths["figures"].read_text()
    assert page.count('<img src="data:image/png;base64,') >= 1       # pooling's shift plot
    assert paths["figures"].parent == paths["autograded"].parent
    assert not list(paths["feedback"].parent.glob("figures*"))
    drawn = executed.metadata[report.FIGURES_KEY]
    assert drawn and not any(png[:200] in paths["feedback"].read_text() for png in drawn)
    assert report.FIGURES_KEY not in paths["autograded"].read_text()


def test_the_figures_page_holds_only_well_formed_images():
    png = "iVBORw0KGgo="
    page = report.figures_page([png, 'x"><script>alert(1)</script>', 3], GradeResult(assignment="pooling",
                                                                                      student="<b>ada</b>"))
    assert page.count("<img ") == 1 and "<script>" not in page and "&lt;b&gt;ada" in page
    assert "No figures were drawn" in report.figures_page([], GradeResult(assignment="pooling"))
