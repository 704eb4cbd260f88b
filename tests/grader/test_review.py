"""The tamper scan wired into grading (status ``review``, issue 12): a submission that uses a
primitive of each family is marked for review with the right cell and line, its score kept; the
honest notebooks (references, releases filled with them, the untouched release with its Colab
setup cell) never are; grades.csv, the feedback, Gradescope's output and ``course check`` show it.

These tests call the same steps as ``grade_notebook`` (merge, scan, ``mark_review``) without a
kernel; tests/end_to_end/test_submissions.py grades two such submissions through one.
"""
from __future__ import annotations

import json

import pytest

from course_grader import cli
from course_grader.assignment import as_assignment
from course_grader.grading import report, scan
from course_grader.grading.gradescope import results_json
from course_grader.grading.merge import build_graded_notebook
from course_grader.grading.results import GradeResult, TestResult as _TestResult
from course_grader.notebook import grade_id
from tests.conftest import assignments
from tests.submissions.cases import insert_after, reference, release

A = "pooling"
AFTER = "test_maxpool2d"

# family -> (the inserted cell: the primitive is on its line 2, the primitive's key)
FAMILIES = {
    "IPython internals": ("x = 1\nget_ipython().events.register('pre_run_cell', f)", "get_ipython"),
    "input history": ("x = 1\nprint(In[-1])", "In"),
    "kernel messaging": ("x = 1\nimport zmq", "zmq"),
    "torch dispatch": ("x = 1\ntorch._C._DisableTorchDispatch()", "torch._C"),
    "dynamic code": ("x = 1\nexec(code)", "exec"),
    "native code": ("x = 1\nimport ctypes", "ctypes"),
    "frames": ("x = 1\nframe = sys._getframe(1)", "sys._getframe"),
    "interpreter and process": ("x = 1\nsys.settrace(None)", "sys.settrace"),
    "library patch": ("x = 1\ntorch.allclose = lambda *a, **k: True", "library patch"),
    "the grader": ("x = 1\nimport course_grader", "course_grader"),
    "the data set": ("x = 1\npath = 'train-labels-idx1-ubyte'", "data set file path"),
    "magics": ("x = 1\n!ls", "IPython magic or shell escape"),
}


def _graded(settings, submission):
    """What grade_notebook builds before the kernel runs: (assignment, merged notebook)."""
    assignment = as_assignment(settings, A if submission is None else submission[0])
    nb, _ = build_graded_notebook(assignment.source, submission[1])
    return assignment, nb


def _result(items, status="graded") -> GradeResult:
    result = GradeResult(assignment=A, student="ada", score=17.0, max_score=20.0, status=status,
                         tests=[_TestResult("test_maxpool2d", 3.0, 3.0, True)])
    result.mark_review(items)
    return result


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_primitive_family_is_marked_for_review_at_its_cell_and_line(settings, family):
    code, primitive = FAMILIES[family]
    assignment, nb = _graded(settings, (A, insert_after(reference(settings, A), AFTER, code)))
    items = scan.review_items(assignment.source, nb)
    cell = next(i for i, c in enumerate(nb.cells) if c.get("source") == code)
    assert grade_id(nb.cells[cell - 1]) == AFTER                  # right after the test cell
    assert {"cell": cell, "grade_id": "", "line": 2, "primitive": primitive,
            "why": scan.PRIMITIVES[primitive][1]} in items, items
    assert {i["cell"] for i in items} == {cell}, items             # nothing else in the notebook
    result = _result(items)
    assert result.status == "review" and result.score == 17.0 and result.review == items


@pytest.mark.parametrize("assignment", assignments())
def test_honest_notebooks_are_not_marked(settings, assignment):
    """The source notebook, the release filled with the reference answers and the untouched
    release (its Colab setup cell included), as grading merges them: no review item."""
    source = as_assignment(settings, assignment).source
    for name, nb in (("source", source), ("reference", reference(settings, assignment)),
                     ("release", release(settings, assignment))):
        _, merged = _graded(settings, (assignment, nb))
        assert scan.review_items(source, merged) == [], (assignment, name)
        assert _result(scan.review_items(source, merged)).status == "graded"


def test_the_release_colab_setup_cell_is_not_marked_but_an_edited_one_is(settings):
    nb = release(settings, A)
    setup = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "subprocess" in c.source)
    assignment, merged = _graded(settings, (A, nb))
    assert scan.review_items(assignment.source, merged) == []
    nb.cells[setup].source += "\nsubprocess.run(['ls'])"
    last = nb.cells[setup].source.count("\n") + 1
    _, merged = _graded(settings, (A, nb))
    items = scan.review_items(assignment.source, merged)
    cell = next(i for i, c in enumerate(merged.cells) if c.get("source") == nb.cells[setup].source)
    assert {(i["cell"], i["primitive"]) for i in items} == {(cell, "subprocess")}, items
    assert (cell, last) in {(i["cell"], i["line"]) for i in items}, items


def test_a_test_cell_of_the_students_own_is_scanned(settings):
    """A submission's cell with test-cell metadata is scanned unless it is the instructor's."""
    nb = reference(settings, A)
    at = next(i for i, c in enumerate(nb.cells) if grade_id(c) == AFTER)
    nb.cells[at].source += "\nexec(s)"                              # grading runs the original
    assignment, merged = _graded(settings, (A, nb))
    assert scan.review_items(assignment.source, merged) == []         # the student's edit never runs
    nb = insert_after(reference(settings, A), AFTER, "exec(s)")
    nb.cells[at + 1].metadata["nbgrader"] = dict(nb.cells[at].metadata["nbgrader"], grade_id="test_mine")
    assignment, merged = _graded(settings, (A, nb))
    assert [i["primitive"] for i in scan.review_items(assignment.source, merged)] == ["exec"]


def test_a_scanner_failure_is_a_review_item_not_a_crash(settings, monkeypatch):
    def broken(*a, **k):
        raise RecursionError("deep")
    monkeypatch.setattr(scan, "scan_notebook", broken)
    assignment, merged = _graded(settings, (A, reference(settings, A)))
    items = scan.review_items(assignment.source, merged)
    assert [(i["primitive"], "RecursionError" in i["why"]) for i in items] == [("cannot be parsed", True)]


ITEM = {"cell": 14, "line": 2, "primitive": "exec", "why": scan.PRIMITIVES["exec"][1]}


def test_mark_review_keeps_the_score_and_errors_stay_errors():
    assert (_result([ITEM]).status, _result([ITEM]).score) == ("review", 17.0)
    assert _result([]).status == "graded" and _result([]).review == []
    assert _result([ITEM], status="error").status == "error"


def test_review_survives_to_dict_and_from_dict():
    result = _result([ITEM])
    again = GradeResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result and again.review == [ITEM] and again.status == "review"
    old = result.to_dict()
    del old["review"]                                    # a report.json written before the field
    assert GradeResult.from_dict(old).review == []


def test_grades_csv_has_the_status_and_a_review_column(tmp_path):
    rows = [report.csv_row(_result([ITEM, dict(ITEM, line=3)])), report.csv_row(_result([]))]
    assert (rows[0]["status"], rows[0]["score"]) == ("review", "17")
    assert rows[0]["review"].startswith("2 item(s): cell 14, line 2: exec")
    assert (rows[1]["status"], rows[1]["review"]) == ("graded", "")
    report.write_csv(tmp_path / "grades.csv", rows)
    back = report.read_csv(tmp_path / "grades.csv")
    assert "review" in back[0] and back[0]["status"] == "review"


def test_feedback_says_marked_for_review_with_cell_line_and_why():
    text = report.summary_markdown(_result([ITEM]))
    assert "marked for review" in text.lower() and "cell 14, line 2: exec" in text
    assert "Score: **17 / 20**" in text
    assert "marked for review" not in report.summary_markdown(_result([])).lower()


def test_gradescope_output_carries_the_review():
    data = results_json(_result([ITEM]))
    assert data["score"] == 17.0
    assert "marked for review" in data["output"].lower() and "cell 14, line 2: exec" in data["output"]
    assert "review" not in results_json(_result([]))["output"]


@pytest.mark.parametrize("items, code", [([ITEM], 0), ([], 0)])
def test_course_check_prints_the_review_and_does_not_fail(monkeypatch, capsys, settings, tmp_path,
                                                          items, code):
    import course_grader.grading.grade as grade

    monkeypatch.setattr(grade, "grade_notebook", lambda *a, **k: (_result(items), None))
    monkeypatch.setattr(cli, "_settings", lambda: settings)
    nb = tmp_path / f"{A}.ipynb"
    nb.write_text("{}")
    assert cli.main(["check", str(nb)]) == code
    out = capsys.readouterr().out
    assert ("review: cell 14, line 2: exec" in out) == bool(items)
    assert cli.main(["check", str(nb), "--json"]) == code
    data = json.loads(capsys.readouterr().out)
    assert data["review"] == items and data["status"] == ("review" if items else "graded")
    monkeypatch.setattr(grade, "grade_notebook", lambda *a, **k: (_result([ITEM], status="error"), None))
    assert cli.main(["check", str(nb)]) == cli.EXIT_CANNOT_GRADE     # an error is still one


def test_the_feedback_notebook_opens_with_the_review_and_no_test_code(settings):
    """The first cell of the feedback notebook lists the items; hidden tests stay out of it."""
    assignment, merged = _graded(settings, (A, insert_after(reference(settings, A), AFTER, "x = 1\nexec(s)")))
    items = scan.review_items(assignment.source, merged)
    result = _result(items)
    first = report.feedback_notebook(merged, result).cells[0].source
    assert "marked for review" in first.lower() and f"cell {items[0]['cell']}, line 2: exec" in first
    assert "BEGIN HIDDEN TESTS" not in first and "record(" not in first


def test_a_submission_marked_for_review_needs_manual_grading_in_formgrader(settings, tmp_path):
    """grades.csv says `review`; nbgrader's gradebook (what formgrader lists) says the same."""
    from nbgrader.api import Gradebook

    from course_grader.grading.gradebook import record_grades

    items = [{"cell": 3, "grade_id": "", "line": 1, "primitive": "display_pub", "why": "rewrites records"}]
    from course_grader.assignment import load
    from course_grader.grading.results import all_failed

    flagged, honest = _result(items), _result([])
    honest.student = "bob"
    for result in (flagged, honest):                     # a grade for every test, as grading gives
        result.tests = all_failed(load(settings, A), "wrong")
    assert (flagged.status, honest.status) == ("review", "graded")
    db = tmp_path / "gradebook.db"
    assert record_grades(db, [flagged, honest], settings) == 2
    with Gradebook(f"sqlite:///{db}", course_id=settings.course_id or "default_course") as gb:
        assert gb.find_submission(A, "ada").needs_manual_grade
        assert not gb.find_submission(A, "bob").needs_manual_grade
