"""The gradebook is nbgrader's own (issue 10.3) and there is one score everywhere (issue 17.3):
after `course grade`, nbgrader's export and formgrader see the course's id, students' names from
the roster, due dates and late flags from `timestamp.txt`, solution cells, and no automatic grade
"needing manual grading"; a score the instructor gives by hand (through nbgrader's API, as
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
            assert not submission.needs_manual_grade
            assert all(not g.needs_manual_grade for nb in submission.notebooks for g in nb.grades)
            assert all(c.cell.name for nb in submission.notebooks for c in nb.comments)


def test_a_score_given_by_hand_stays_and_is_the_score_everywhere(graded):
    course, submitted, out = graded
    with _gradebook(out, course) as gb:
        grade = gb.find_grade("test_pool_dtype", ASSIGNMENT, ASSIGNMENT, "untouched")
        assert grade.auto_score == 0
        grade.manual_score = 1.0                     # what formgrader's score box does
        gb.db.commit()
    grade_folder(course, submitted, out, progress=False)          # grading again
    rows = {r["student"]: r for r in report.read_csv(out / "grades.csv")}
    row = rows["untouched"]
    assert (row["score"], row["auto_score"], row["manual"]) == ("1", "0", "test_pool_dtype 1/1 (auto 0)")
    assert rows["reference"]["manual"] == "" and rows["reference"]["score"] == rows["reference"]["auto_score"]
    data = json.loads((out / "feedback" / "untouched" / ASSIGNMENT / "report.json").read_text())
    assert data["score"] == 1
    assert "test_pool_dtype: 1 / 1 points given by the instructor (the grader gave 0)" in data["notes"]
    page = (out / "feedback" / "untouched" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "Score: <strong>1 / 25</strong>" in page
    with _gradebook(out, course) as gb:
        grade = gb.find_grade("test_pool_dtype", ASSIGNMENT, ASSIGNMENT, "untouched")
        assert (grade.manual_score, grade.auto_score, grade.score) == (1.0, 0.0, 1.0)
        assert gb.find_submission(ASSIGNMENT, "untouched").score == 1.0

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
