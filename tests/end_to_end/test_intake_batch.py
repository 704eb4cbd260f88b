"""Submissions are read as untrusted input (issue 12.5) and wrong folder shapes are refused
(issue 10.7).

- Links (to the instructor's source notebook, to another student's notebook or folder, to
  /dev/zero), FIFOs, hard links and oversized notebooks get an `error` row with the reason; they
  never read their target, never hang and never stop the rest of the batch.
- An empty folder, a flat folder of notebooks (an LMS export) or one level too deep: an error
  that shows the layout expected and what was found; an existing grades.csv is left untouched.
- Bad option values are usage errors (exit status 2).
"""
from __future__ import annotations

import os
import time

import nbformat
import pytest

from course_grader.cli import main
from course_grader.config import CourseError
from course_grader.grading import intake, report
from course_grader.grading.batch import discover, grade_folder
from tests.conftest import needs_mnist
from tests.helpers import fill_solutions, release_nb, source_nb

A = "pooling"


def _reference(settings):
    return fill_solutions(release_nb(settings, A), source_nb(settings, A))


# ------------------------------------------------------------------------- wrong folder shapes

def _shapes(tmp_path, settings):
    nb = nbformat.writes(release_nb(settings, A))
    empty = tmp_path / "empty"
    empty.mkdir()
    flat = tmp_path / "flat"
    flat.mkdir()
    for student in ("alice", "bob"):
        (flat / f"{student}_{A}.ipynb").write_text(nb)
    deep = tmp_path / "deep"
    (deep / "course" / "alice" / A).mkdir(parents=True)
    (deep / "course" / "alice" / A / f"{A}.ipynb").write_text(nb)
    return {"empty": (empty, "found nothing"), "flat": (flat, "LMS export"),
            "deep": (deep, "one level too deep")}


@pytest.mark.parametrize("shape", ["empty", "flat", "deep"])
def test_wrong_shape_is_an_error_that_shows_the_layout(shape, settings, tmp_path):
    folder, hint = _shapes(tmp_path, settings)[shape]
    with pytest.raises(CourseError) as e:
        discover(folder, settings)
    text = str(e.value)
    assert "SUBMITTED_DIR/<student>/<assignment>/<assignment>.ipynb" in text and hint in text, text
    if shape == "flat":
        assert f"alice_{A}.ipynb" in text


@pytest.mark.parametrize("shape", ["empty", "flat", "deep"])
def test_wrong_shape_leaves_grades_csv_untouched(shape, settings, tmp_path, capsys):
    folder, _ = _shapes(tmp_path, settings)[shape]
    out = tmp_path / "out"
    out.mkdir()
    (out / "grades.csv").write_text("student,assignment,score\nalice,pooling,20\n")
    code = main(["grade", str(folder), "--out", str(out), "--quiet"])
    assert code != 0
    assert "expected SUBMITTED_DIR/<student>/<assignment>/<assignment>.ipynb" in capsys.readouterr().err
    assert (out / "grades.csv").read_text() == "student,assignment,score\nalice,pooling,20\n"
    assert sorted(p.name for p in out.iterdir()) == ["grades.csv"]


@pytest.mark.parametrize("argv", [["--jobs", "0"], ["--jobs", "-2"], ["--jobs", "two"],
                                  ["--shard", "0/2"], ["--shard", "3/2"], ["--shard", "half"]])
def test_bad_option_values_are_usage_errors(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["grade", str(tmp_path), *argv])
    assert e.value.code == 2
    assert argv[0] in capsys.readouterr().err


# ------------------------------------------------------------------------- unsafe submissions

@pytest.fixture
def hostile_batch(settings, tmp_path):
    submitted = tmp_path / "submitted"
    good = submitted / "good" / A
    good.mkdir(parents=True)
    nbformat.write(_reference(settings), good / f"{A}.ipynb")
    (good / "notes.txt").write_text("mine")                                 # copied beside it
    os.symlink("/etc/hostname", good / "data.csv")                          # not copied: a note

    def folder(student):
        path = submitted / student / A
        path.mkdir(parents=True)
        return path / f"{A}.ipynb"

    os.symlink(settings.source_notebook(A), folder("link_to_source"))
    os.symlink(good / f"{A}.ipynb", folder("link_to_other_student"))
    os.symlink("/dev/zero", folder("link_to_dev_zero"))
    os.mkfifo(folder("fifo"))
    elsewhere = tmp_path / "instructor-copy.ipynb"           # a file outside the submissions
    elsewhere.write_bytes(settings.source_notebook(A).read_bytes())
    os.link(elsewhere, folder("hard_link"))
    big = folder("oversized")
    with open(big, "wb") as f:
        f.truncate(intake.MAX_NOTEBOOK_BYTES + 1)
    (submitted / "folder_link").mkdir()
    os.symlink(good, submitted / "folder_link" / A)                          # assignment folder
    os.symlink(submitted / "good", submitted / "student_link")              # student folder
    return submitted


EXPECTED_ERRORS = {
    "link_to_source": "symbolic link",
    "link_to_other_student": "symbolic link",
    "link_to_dev_zero": "symbolic link",
    "fifo": "FIFO",
    "hard_link": "hard link",
    "oversized": "larger than the limit",
    "folder_link": "assignment folder is a symbolic link",
    "student_link": "student's folder is a symbolic link",
}


@needs_mnist
def test_unsafe_submissions_are_error_rows_and_the_batch_goes_on(settings, hostile_batch, tmp_path):
    out = tmp_path / "out"
    started = time.monotonic()
    results = grade_folder(settings, hostile_batch, out, jobs=1, progress=False)
    assert time.monotonic() - started < 600
    by_student = {r.student: r for r in results}
    good = by_student.pop("good")
    assert (good.status, good.score, good.max_score) == ("graded", 26, 29), good
    assert any("data.csv" in n and "symbolic link" in n for n in good.notes), good.notes
    assert sorted(by_student) == sorted(EXPECTED_ERRORS)
    for student, fragment in EXPECTED_ERRORS.items():
        result = by_student[student]
        assert result.status == "error" and result.score == 0, (student, result)
        assert fragment in result.error, (student, result.error)
    # the hard link's error is about the link, never a grade taken from the other file
    assert all(t.points == 0 for r in by_student.values() for t in r.tests)
    # one row each in grades.csv, the good one graded
    rows = (out / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(EXPECTED_ERRORS) + 1
    # nothing of the source notebook reached the feedback of the link to it
    feedback = out / "feedback" / "link_to_source"
    text = " ".join(p.read_text(errors="replace") for p in feedback.rglob("*") if p.is_file())
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text


# ------------------------------------------------------------------------- a batch that dies

def test_grades_csv_holds_every_row_finished_before_a_crash(settings, tmp_path, monkeypatch):
    """grades.csv is rewritten as each submission finishes: killed after two of four, the two
    are in it (issue 12.6)."""
    from course_grader.grading import batch
    from course_grader.grading.results import GradeResult

    submitted = tmp_path / "submitted"
    for student in ("ann", "ben", "cat", "dan"):
        (submitted / student / A).mkdir(parents=True)
        (submitted / student / A / f"{A}.ipynb").write_text("{}")
    graded = []

    def grade_one(settings, sub, out, assignment, hidden=(), manual=None):
        if len(graded) == 2:
            raise KeyboardInterrupt("the machine went down")
        graded.append(sub.student)
        return GradeResult(assignment=A, student=sub.student, score=20, max_score=20).to_dict()

    monkeypatch.setattr(batch, "_grade_one", grade_one)
    monkeypatch.setattr(batch, "attach", lambda settings, assignment, hidden=(): assignment)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        grade_folder(settings, submitted, out, jobs=1, progress=False)
    rows = (out / "grades.csv").read_text().splitlines()
    assert rows[0].startswith("student,assignment,score,max_score,status")
    assert [r.split(",")[0] for r in rows[1:]] == ["ann", "ben"]


def test_grading_one_assignment_keeps_the_others_rows(settings, tmp_path, monkeypatch):
    """grades.csv is updated per (student, assignment) (issue 17.6): a second batch of another
    assignment keeps the first batch's rows; grading a submission again replaces its row."""
    from course_grader.grading import batch
    from course_grader.grading.results import GradeResult

    def grade_one(settings, sub, out, assignment, hidden=(), manual=None):
        return GradeResult(assignment=sub.assignment, student=sub.student, score=len(sub.student),
                           max_score=20).to_dict()

    monkeypatch.setattr(batch, "_grade_one", grade_one)
    monkeypatch.setattr(batch, "attach", lambda settings, assignment, hidden=(): assignment)
    out = tmp_path / "out"
    for folder, student, assignment in [("first", "ann", "pooling"), ("first", "bo", "pooling"),
                                        ("second", "ann", "mlp_vs_cnn"), ("third", "bo", "pooling")]:
        path = tmp_path / folder / student / assignment
        path.mkdir(parents=True)
        (path / f"{assignment}.ipynb").write_text("{}")
    grade_folder(settings, tmp_path / "first", out, progress=False)
    (out / "grades.csv").write_text((out / "grades.csv").read_text().replace("bo,pooling,2", "bo,pooling,7"))
    grade_folder(settings, tmp_path / "second", out, progress=False)
    rows = {(r["student"], r["assignment"]): r["score"] for r in report.read_csv(out / "grades.csv")}
    assert rows == {("ann", "pooling"): "3", ("bo", "pooling"): "7", ("ann", "mlp_vs_cnn"): "3"}
    grade_folder(settings, tmp_path / "third", out, progress=False)
    rows = {(r["student"], r["assignment"]): r["score"] for r in report.read_csv(out / "grades.csv")}
    assert rows == {("ann", "pooling"): "3", ("bo", "pooling"): "2", ("ann", "mlp_vs_cnn"): "3"}
