"""nbgrader's own autograde on this course (issue 10.2): it refuses, naming `course grade`, instead
of giving wrong work full marks (hidden tests record and never assert, so nbgrader alone would
see every hidden test cell pass). And a hidden test's ``record()`` outside the grader raises
instead of passing silently.

These run the real nbgrader commands, in a copy of the course laid out as nbgrader expects.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.conftest import ROOT
from tests.helpers import fill_solutions, nbgrader_env, release_nb, source_nb

ASSIGNMENT = "pooling"
NBGRADER = str(Path(sys.prefix) / "bin" / "nbgrader")
pytestmark = pytest.mark.slow


def _nbgrader(course: Path, *args) -> subprocess.CompletedProcess:
    env = nbgrader_env()
    return subprocess.run([NBGRADER, *args], cwd=course, capture_output=True, text=True,
                          timeout=600, env=env)


@pytest.fixture(scope="module")
def course(settings, tmp_path_factory):
    """A copy of the course with one submission of the reference answers, assignment generated."""
    course = tmp_path_factory.mktemp("nbgrader-course")
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    generated = _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    submitted = course / "submitted" / "alice" / ASSIGNMENT
    submitted.mkdir(parents=True)
    nbformat.write(fill_solutions(release_nb(settings, ASSIGNMENT), source_nb(settings, ASSIGNMENT)),
                   submitted / f"{ASSIGNMENT}.ipynb")
    return course


def test_nbgrader_autograde_refuses_and_names_course_grade(course):
    result = _nbgrader(course, "autograde", ASSIGNMENT, "--force")
    said = result.stdout + result.stderr
    assert result.returncode != 0, said
    assert "course grade" in said, said
    graded = course / "autograded" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert not graded.exists() or not _has_scores(graded)


def _has_scores(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    return any("score" in c.get("metadata", {}).get("nbgrader", {}) for c in nb.cells)


def test_formgraders_autograde_button_refuses_too(course):
    """The formgrader's Autograde button calls NbGraderAPI.autograde in the server process."""
    code = ("import json, os; from nbgrader.apps import NbGrader; from nbgrader.server_extensions.formgrader"
            ".base import *; from nbgrader.apps.api import NbGraderAPI; from nbgrader.coursedir import "
            "CourseDirectory; from traitlets.config import Config\n"
            "app = NbGrader(); app.load_config_file()\n"
            "api = NbGraderAPI(CourseDirectory(config=app.config), config=app.config)\n"
            f"print(json.dumps(api.autograde({ASSIGNMENT!r}, 'alice', force=True)))\n")
    env = nbgrader_env()
    result = subprocess.run([sys.executable, "-c", code], cwd=course, capture_output=True,
                            text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    import json
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["success"] is False, answer
    assert "course grade" in json.dumps(answer), answer


def test_record_outside_the_grader_raises(monkeypatch):
    from course_grader.inside import kernel
    monkeypatch.delenv("COURSE_GRADING", raising=False)
    with pytest.raises(RuntimeError, match="course grade"):
        kernel.record("anything", 1)


@pytest.mark.needs_mnist
def test_nbgraders_feedback_tools_work_on_course_grade_output_and_show_no_hidden_test(settings, course, tmp_path):
    """Issue 10.3: after `course grade`, nbgrader's own generate_feedback renders the autograded
    notebooks (which hold no hidden-test code) and release_feedback finds what it needs
    (timestamp.txt, submission_secret.txt from nbgrader's collect)."""
    from dataclasses import replace

    from course_grader.grading.batch import grade_folder

    folder = course / "submitted" / "alice" / ASSIGNMENT
    (folder / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    (folder / "submission_secret.txt").write_text("alice-secret")
    results = grade_folder(replace(settings, root=ROOT), course / "submitted", course, progress=False)
    assert [r.score for r in results] == [results[0].auto_max]
    autograded = (course / "autograded" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    assert "BEGIN HIDDEN TESTS" not in autograded and "record(" not in autograded
    for name in ("timestamp.txt", "submission_secret.txt"):
        assert (course / "feedback" / "alice" / ASSIGNMENT / name).is_file()

    exchange = tmp_path / "exchange"
    exchange.mkdir()
    released = _nbgrader(course, "release_feedback", ASSIGNMENT, f"--Exchange.root={exchange}")
    assert released.returncode == 0, released.stdout + released.stderr
    [page] = list((exchange / "cnn-course" / "feedback").glob("*.html"))
    assert "BEGIN HIDDEN TESTS" not in page.read_text()

    generated = _nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    html = (course / "feedback" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "BEGIN HIDDEN TESTS" not in html and "record(" not in html and "_course_guard" not in html
