"""Feedback never shows hidden test code, even when the student's code tries to print it.

A student function that is called by a hidden test can read the calling cell's source (the
caller's frame, IPython's ``In`` history) and print it. The instructor's autograded notebook keeps
such output; the student's feedback keeps only each test cell's visible part, its error line and
the test results.
"""
from __future__ import annotations

import json

import nbformat
import pytest

from course_grader.grading import report
from course_grader.grading.grade import grade_notebook
from tests.conftest import needs_mnist
from tests.helpers import fill_solutions, release_nb, source_nb

pytestmark = [needs_mnist, pytest.mark.slow]

SNOOP = '''
import inspect as _inspect

def global_avgpool(x):
    """Prints the source of whatever cell calls it, then fails with it as the message."""
    for frame in _inspect.stack()[1:3]:
        print("=" * 3 + "LEAK", frame.frame.f_globals.get("In", ["?"])[-1])
    raise ValueError("SNOOP " + str(_inspect.stack()[1].frame.f_globals.get("In", ["?"])[-1]))
'''


def test_hidden_test_source_printed_by_student_code_stays_out_of_feedback(settings, tmp_path):
    assignment = "pooling"
    source = source_nb(settings, assignment)
    nb = fill_solutions(release_nb(settings, assignment), source)
    target = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "global_avgpool_module")
    target.source = target.source + "\n" + SNOOP
    path = tmp_path / "student" / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    result, executed = grade_notebook(settings, assignment, path, student="student")
    assert result.status == "graded"
    assert [t.name for t in result.tests if not t.passed] == ["test_global_avgpool_module"]
    # the instructor's copy shows that the snooping worked inside the kernel
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", [])
                      if o.get("output_type") == "stream")
    assert "BEGIN HIDDEN TESTS" in printed or "record(" in printed
    # the student's feedback does not
    paths = report.write_outputs(tmp_path / "out", result, executed)
    feedback = json.dumps(report.feedback_notebook(executed, result))
    page = paths["feedback"].read_text()
    for text in (feedback, page, paths["report"].read_text()):
        assert "BEGIN HIDDEN TESTS" not in text
        assert "record(" not in text
        assert "===LEAK" not in text
