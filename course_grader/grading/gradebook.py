"""nbgrader's gradebook (``gradebook.db``), written by the grading parent process only.

SQLite is not safe for concurrent writers, so grading workers never open it: they return their
results to the parent (``batch.grade_folder``), which records them here in one transaction per
batch. nbgrader's own tools (``nbgrader export``, formgrader) then read the grades as usual:
one nbgrader assignment and notebook per course assignment, one grade cell per test cell, and
each test's points as the grade's ``auto_score``.
"""
from __future__ import annotations

import warnings
from pathlib import Path

from ..config import CourseError, Settings
from ..assignment import load
from ..fsutil import tools_on_path
from ..notebook import grade_id, points


def record_grades(db_path: Path, results: list, settings: Settings, assignments: dict | None = None) -> int:
    """Write ``results`` (GradeResult objects) into the gradebook at ``db_path``.

    assignments: {id: Assignment} already loaded (the batch's); others are loaded here.
    Returns the number of submissions recorded. Submissions of unknown assignments are skipped
    (they have a row in grades.csv with the reason).
    """
    from nbgrader.api import Gradebook, MissingEntry

    tools_on_path()                            # nbgrader runs `alembic` by name
    known = set(settings.assignments())
    results = [r for r in results if r.assignment in known and r.student]
    if not results:
        return 0
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{Path(db_path).resolve()}") as gb:
        warnings.simplefilter("ignore")       # SQLAlchemy warnings from inside nbgrader's api
        for assignment in sorted({r.assignment for r in results}):
            try:
                loaded = (assignments or {}).get(assignment) or load(settings, assignment)
            except CourseError:
                continue
            gb.update_or_create_assignment(assignment)
            gb.update_or_create_notebook(assignment, assignment)
            for cell in loaded.test_cells:
                if grade_id(cell):
                    gb.update_or_create_grade_cell(grade_id(cell), assignment, assignment,
                                                   max_score=points(cell), cell_type="code")
        recorded = 0
        for result in results:
            gb.update_or_create_student(result.student)
            gb.update_or_create_submission(result.assignment, result.student)
            for test in result.tests:
                try:
                    grade = gb.find_grade(test.name, result.assignment, result.assignment, result.student)
                except MissingEntry:
                    continue
                grade.auto_score = float(test.points)
            recorded += 1
        gb.db.commit()
    return recorded
