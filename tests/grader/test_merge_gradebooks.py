"""`course merge-gradebooks`: shard gradebooks (nbgrader's) become one, nothing lost, shards disjoint."""
from __future__ import annotations

import datetime
import subprocess
import sys
import warnings

import pytest

from course_grader.config import CourseError
from course_grader.grading.merge_gradebooks import _gradebook, merge_gradebooks
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

DUE = datetime.datetime(2026, 11, 1, 12, 0)


def _shard(path, students, manual=None):
    """A gradebook like one shard's: assignment a1 (two tests, one solution cell), students graded."""
    with warnings.catch_warnings(), _gradebook(path) as gb:
        warnings.simplefilter("ignore")
        gb.update_or_create_assignment("a1", duedate=DUE)
        gb.update_or_create_notebook("a1", "a1")
        gb.update_or_create_grade_cell("test_one", "a1", "a1", max_score=2, cell_type="code")
        gb.update_or_create_grade_cell("test_two", "a1", "a1", max_score=3, cell_type="code")
        gb.update_or_create_solution_cell("answer_one", "a1", "a1")
        for student, (one, two) in students.items():
            gb.update_or_create_student(student, first_name=student.title(), last_name="X",
                                        email=f"{student}@example.org")
            gb.update_or_create_submission("a1", student, timestamp=DUE - datetime.timedelta(hours=1))
            for cell, score in (("test_one", one), ("test_two", two)):
                grade = gb.find_grade(cell, "a1", "a1", student)
                grade.auto_score = score
                grade.needs_manual_grade = False
            gb.find_comment("answer_one", "a1", "a1", student).auto_comment = f"auto {student}"
        for (student, cell), score in (manual or {}).items():
            gb.find_grade(cell, "a1", "a1", student).manual_score = score
        gb.db.commit()
    return path


def _scores(path):
    with warnings.catch_warnings(), _gradebook(path) as gb:
        warnings.simplefilter("ignore")
        out = {}
        for sub in gb.find_assignment("a1").submissions:
            nb = sub.notebooks[0]
            out[sub.student.id] = {
                "grades": {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade) for g in nb.grades},
                "score": sub.score, "timestamp": sub.timestamp, "email": sub.student.email,
                "comment": nb.comments[0].auto_comment,
            }
        return out


def test_shards_merge_into_one_gradebook(tmp_path):
    a = _shard(tmp_path / "s1.db", {"alice": (2, 3), "bob": (0, 3)})
    b = _shard(tmp_path / "s2.db", {"carol": (2, 0)}, manual={("carol", "test_two"): 1.5})
    out = tmp_path / "merged" / "gradebook.db"
    out.parent.mkdir()
    assert merge_gradebooks([a, b], out) == 3
    scores = _scores(out)
    assert sorted(scores) == ["alice", "bob", "carol"]
    assert scores["alice"]["score"] == 5 and scores["bob"]["score"] == 3
    assert scores["carol"]["grades"]["test_two"] == (0, 1.5, False)     # the manual score is kept
    assert scores["carol"]["score"] == 3.5
    assert scores["bob"]["timestamp"] == DUE - datetime.timedelta(hours=1)
    assert scores["bob"]["email"] == "bob@example.org" and scores["bob"]["comment"] == "auto bob"
    with warnings.catch_warnings(), _gradebook(out) as gb:
        warnings.simplefilter("ignore")
        assert gb.find_assignment("a1").duedate == DUE
        assert gb.find_assignment("a1").max_score == 5


def test_a_submission_in_two_shards_is_refused_and_nothing_written(tmp_path):
    a = _shard(tmp_path / "s1.db", {"alice": (2, 3)})
    b = _shard(tmp_path / "s2.db", {"alice": (0, 0)})
    out = tmp_path / "gradebook.db"
    with pytest.raises(CourseError, match="alice/a1 is graded in both"):
        merge_gradebooks([a, b], out)
    assert not out.exists()


def test_a_missing_shard_is_refused(tmp_path):
    a = _shard(tmp_path / "s1.db", {"alice": (2, 3)})
    with pytest.raises(CourseError, match="did a shard fail"):
        merge_gradebooks([a, tmp_path / "s2.db"], tmp_path / "gradebook.db")
    assert not (tmp_path / "gradebook.db").exists()


def test_merging_into_the_course_gradebook_keeps_manual_scores(tmp_path):
    course = _shard(tmp_path / "gradebook.db", {"alice": (0, 0)}, manual={("alice", "test_one"): 1})
    regraded = _shard(tmp_path / "s1.db", {"alice": (2, 3)})
    merge_gradebooks([regraded], course)
    assert _scores(course)["alice"]["grades"]["test_one"] == (2, 1, False)
    assert _scores(course)["alice"]["grades"]["test_two"] == (3, None, False)


def test_the_cli_merges_gradebooks(tmp_path):
    a = _shard(tmp_path / "s1.db", {"alice": (2, 3)})
    b = _shard(tmp_path / "s2.db", {"bob": (1, 1)})
    proc = subprocess.run([sys.executable, "-m", "course_grader.cli", "merge-gradebooks", str(a), str(b),
                           "--out", str(tmp_path / "all.db")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "2 submission(s)" in proc.stdout
    assert sorted(_scores(tmp_path / "all.db")) == ["alice", "bob"]
