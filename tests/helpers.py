"""Helpers for the grading tests: build submissions and grade them."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat

from course_grader.authoring.examples import fill_solutions, solution_ids
from course_grader.grading.grade import grade_notebook
from course_grader.notebook import grade_id, is_test, points, read_notebook


def source_nb(settings, assignment):
    return read_notebook(settings.source_notebook(assignment))


def release_nb(settings, assignment):
    return read_notebook(settings.release_notebook(assignment))


def grade_nb(settings, assignment, nb, tmp_path: Path, name=None, student="student"):
    """Write ``nb`` into tmp_path and grade it; returns the GradeResult."""
    folder = Path(tmp_path) / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{assignment}.ipynb")
    if isinstance(nb, (str, bytes)):
        path.write_text(nb if isinstance(nb, str) else nb.decode())
    else:
        nbformat.write(nb, path)
    result, _ = grade_notebook(settings, assignment, path, student=student)
    return result


def failed(result) -> set:
    return {t.name for t in result.tests if not t.passed}


def points_by_test(source) -> dict:
    return {grade_id(c): points(c) for c in source.cells if is_test(c)}


def nbgrader_env() -> dict:
    """The environment of an nbgrader user (nbgrader's commands, formgrader's server): this venv's
    tools first on PATH, no course variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    env["PATH"] = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def open_gradebook(db_path: Path, course_id: str):
    """nbgrader's own Gradebook on ``db_path`` (a context manager), as formgrader opens it."""
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{db_path}", course_id=course_id)


__all__ = ["fill_solutions", "solution_ids", "source_nb", "release_nb", "grade_nb", "failed",
           "points_by_test", "nbgrader_env", "open_gradebook"]
