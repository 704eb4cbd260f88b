"""The gradebook is nbgrader's own (issue 10.3) and there is one score everywhere (issue 17.3):
after `course grade`, nbgrader's export and formgrader see the course's id, students' names from
the roster, due dates and late flags from `timestamp.txt`, solution cells, and no automatic grade
"needing manual grading" (only an answered reflection does); a score the instructor gives by hand (through nbgrader's API, as
formgrader does) survives grading again and appears in grades.csv, report.json and the feedback."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from course_grader.authoring.examples import write_examples
from course_grader.config import CourseError
from course_grader.grading import report
from course_grader.grading.batch import grade_folder
from course_grader.grading.gradebook import load_roster
from tests.conftest import needs_mnist
from tests.helpers import open_gradebook

ASSIGNMENT = "pooling"
pytestmark = [needs_mnist, pytest.mark.slow]


@pytest.fixture(scope="module")
def graded(tmp_path_factory, settings):
    """A batch with a roster, a due date and nbgrader's timestamp.txt; `untouched` was late."""
    base = tmp_path_factory.mktemp("fidelity")
    submitted = base / "submitted"
    write_examples(settings, ASSIGNMENT, submitted)
    (submitted / "reference" / ASSIGNMENT / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    (submitted / "untouched" / ASSIGNMENT / "timestamp.txt").write_text("2026-12-09 10:00:00.000000 UTC")
    roster = base / "roster.csv"
    roster.write_text("id,first_name,last_name,email\nreference,Ada,Lovelace,ada@example.org\n"
                      "untouched,Alan,Turing,\npartial,Grace,Hopper,\nabsent,Edsger,Dijkstra,\n")
    course = replace(settings, roster=str(roster), due_dates={ASSIGNMENT: "2026-12-05 23:59"},
                     course_id="cnn-course-test")
    out = base / "out"
    grade_folder(course, submitted, out, progress=False)
    return course, submitted, out


def _gradebook(out, course):
    return open_gradebook(out / "gradebook.db", course.course_id)


def test_nbgraders_gradebook_holds_what_its_own_autograde_would(graded):
    course, _, out = graded
    with _gradebook(out, course) as gb:
        assert {s.id: (s.first_name, s.last_name) for s in gb.students} == {
            "reference": ("Ada", "Lovelace"), "untouched": ("Alan", "Turing"), "partial": ("Grace", "Hopper"),
            "absent": ("Edsger", "Dijkstra")}
        assignment = gb.find_assignment(ASSIGNMENT)
        assert assignment.course_id == "cnn-course-test" and assignment.duedate is not None
        assert {c.name for c in assignment.notebooks[0].solution_cells} >= {"maxpool2d_naive", "avgpool2d"}
        late = gb.find_submission(ASSIGNMENT, "untouched")
        on_time = gb.find_submission(ASSIGNMENT, "reference")
        assert late.total_seconds_late > 0 and on_time.total_seconds_late == 0
        assert gb.find_submission(ASSIGNMENT, "partial").timestamp is None       # no timestamp.txt
        for submission in (late, on_time):
            assert all(c.cell.name for nb in submission.notebooks for c in nb.comments)
        # automatic grades never need a look; the reflection does once answered (the reference's
        # model answer), as nbgrader's autograde marks a changed manually graded answer
        assert not late.needs_manual_grade
        assert {g.cell.name: (g.auto_score, g.needs_manual_grade) for g in late.notebooks[0].grades
                if g.cell.name == "reflection"} == {"reflection": (0.0, False)}
        assert on_time.needs_manual_grade
        assert [(g.cell.name, g.auto_score, g.max_score) for g in on_time.notebooks[0].grades
                if g.needs_manual_grade] == [("reflection", None, 3.0)]
        assert assignment.max_score == 29


def test_a_score_given_by_hand_stays_and_is_the_score_everywhere(graded):
    course, submitted, out = graded
    with _gradebook(out, course) as gb:
        grade = gb.find_grade("test_pool_dtype", ASSIGNMENT, ASSIGNMENT, "untouched")
        assert grade.auto_score == 0
        grade.manual_score = 1.0                     # what formgrader's score box does
        gb.find_grade("reflection", ASSIGNMENT, ASSIGNMENT, "reference").manual_score = 2.0
        gb.db.commit()
    grade_folder(course, submitted, out, progress=False)          # grading again
    rows = {r["student"]: r for r in report.read_csv(out / "grades.csv")}
    row = rows["untouched"]
    assert (row["score"], row["auto_score"], row["manual"]) == ("1", "0", "test_pool_dtype 1/1 (auto 0)")
    # the reflection graded by hand is in the total
    assert rows["reference"]["manual"] == "" and rows["untouched"]["hand"] == "reflection 0/3 (not answered)"
    assert (rows["reference"]["score"], rows["reference"]["auto_score"], rows["reference"]["max_score"]) == \
        ("28", "26", "29")
    assert rows["reference"]["hand"] == "reflection 2/3 (graded by the instructor)"
    reference_page = (out / "feedback" / "reference" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "Score: <strong>28 / 29</strong>" in reference_page
    assert "reflection: 2 / 3 points, graded by your instructor" in reference_page
    data = json.loads((out / "feedback" / "untouched" / ASSIGNMENT / "report.json").read_text())
    assert data["score"] == 1
    assert "test_pool_dtype: 1 / 1 points given by the instructor (the grader gave 0)" in data["notes"]
    page = (out / "feedback" / "untouched" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "Score: <strong>1 / 29</strong>" in page
    with _gradebook(out, course) as gb:
        grade = gb.find_grade("test_pool_dtype", ASSIGNMENT, ASSIGNMENT, "untouched")
        assert (grade.manual_score, grade.auto_score, grade.score) == (1.0, 0.0, 1.0)
        assert gb.find_submission(ASSIGNMENT, "untouched").score == 1.0
        assert gb.find_submission(ASSIGNMENT, "reference").score == 28.0
        assert not gb.find_submission(ASSIGNMENT, "reference").needs_manual_grade

    # nbgrader's own export says the same
    shutil.copy2(course.root / "nbgrader_config.py", out / "nbgrader_config.py")
    env = {**os.environ, "PATH": f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([str(Path(sys.prefix) / "bin" / "nbgrader"), "export", "--to", "grades_export.csv",
                           f"--CourseDirectory.course_id={course.course_id}",
                           f"--CourseDirectory.db_url=sqlite:///{out / 'gradebook.db'}"],
                          cwd=out, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    exported = {r["student_id"]: r for r in csv.DictReader((out / "grades_export.csv").open())}
    assert float(exported["untouched"]["score"]) == 1.0
    assert float(exported["reference"]["score"]) == float(rows["reference"]["score"])


def test_a_roster_that_cannot_be_used_stops_before_grading(settings, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nada,ada@example.org\n")
    with pytest.raises(CourseError, match="has no 'id' column"):
        load_roster(replace(settings, roster=str(roster)))
    with pytest.raises(CourseError, match="cannot read"):
        load_roster(replace(settings, roster=str(tmp_path / "missing.csv")))


def test_a_new_gradebooks_schema_revision_is_the_one_nbgrader_finds():
    # record_grades reads the revision in its own process; nbgrader runs `alembic heads`
    import subprocess
    import sys
    from course_grader.grading.gradebook import alembic_head
    code = ("from course_grader.fsutil import tools_on_path; tools_on_path(); "
            "import nbgrader.api as api; print(api.get_alembic_version())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == alembic_head() and len(alembic_head()) == 12


def test_a_batch_goes_into_the_gradebook_whole_or_not_at_all(settings, tmp_path, monkeypatch):
    # one transaction per batch: an error part way leaves the gradebook as the last batch left it
    from course_grader.assignment import load
    from course_grader.grading import gradebook
    from course_grader.grading.results import GradeResult, TestResult
    from course_grader.notebook import grade_id, points

    pooling = load(settings, "pooling")
    tests = [TestResult(name=grade_id(c), points=points(c), max_points=points(c), passed=True)
             for c in pooling.test_cells if grade_id(c)]
    results = [GradeResult(assignment="pooling", student=f"s{i}", tests=list(tests), score=1, max_score=1)
               for i in range(3)]
    db = tmp_path / "gradebook.db"
    assert gradebook.record_grades(db, results[:1], settings, {"pooling": pooling}) == 1
    real = gradebook.submission_time

    def fails_on_the_last(result):
        if result.student == "s2":
            raise RuntimeError("disk full")
        return real(result)

    monkeypatch.setattr(gradebook, "submission_time", fails_on_the_last)
    with pytest.raises(RuntimeError, match="disk full"):
        gradebook.record_grades(db, results, settings, {"pooling": pooling})
    with open_gradebook(db, gradebook.course_id(settings)) as gb:
        assert sorted(s.student.id for s in gb.find_assignment("pooling").submissions) == ["s0"]
    monkeypatch.setattr(gradebook, "submission_time", real)
    assert gradebook.record_grades(db, results, settings, {"pooling": pooling}) == 3
    with open_gradebook(db, gradebook.course_id(settings)) as gb:
        assert sorted(s.student.id for s in gb.find_assignment("pooling").submissions) == ["s0", "s1", "s2"]
