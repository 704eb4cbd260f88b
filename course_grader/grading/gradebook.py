"""nbgrader's gradebook (``gradebook.db``), written by the grading parent process only.

SQLite is not safe for concurrent writers, so grading workers never open it: they return their
results to the parent (``batch.grade_folder``), which records them here in one transaction per
batch. nbgrader's own tools (``nbgrader export``, formgrader) then read the grades as usual:
the course's ``course_id``; one nbgrader assignment (with its due date) and notebook per course
assignment, one grade cell per test cell (each test's points its ``auto_score``), one
solution cell per answer cell, and a grade cell for each answer graded by hand (a reflection:
"needs manual grade" once answered, 0 at once when left as released, as nbgrader's autograde);
students with their names from the roster; each submission with the time in its
``timestamp.txt`` (so nbgrader flags late work).

Scores given by hand in formgrader are the instructor's: grading again never overwrites them
(``manual_score``), ``manual_scores`` reads them back, and ``batch`` applies them to the result,
so grades.csv, the feedback and report.json show the same score as the gradebook.
"""
from __future__ import annotations

import csv
import io
import warnings
from datetime import datetime
from pathlib import Path

from ..config import CourseError, Settings
from ..assignment import load
from ..notebook import grade_id, is_solution, points
from . import intake

ROSTER_COLUMNS = ("id", "first_name", "last_name", "email")


def course_id(settings: Settings) -> str:
    return settings.course_id or "default_course"


def load_roster(settings: Settings) -> dict:
    """{student id: {first_name, last_name, email}} from ``c.Course.roster`` ({} when unset).
    CourseError, naming the file and the fix, for a roster that cannot be used."""
    if not settings.roster:
        return {}
    path = settings.root / settings.roster
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise CourseError(f"c.Course.roster: cannot read {path} ({e}): give a CSV file with the columns "
                          f"{', '.join(ROSTER_COLUMNS)}") from None
    reader = csv.DictReader(io.StringIO(text))
    if "id" not in (reader.fieldnames or []):
        raise CourseError(f"c.Course.roster: {path} has no 'id' column (found {reader.fieldnames}): its first "
                          f"line must name the columns {', '.join(ROSTER_COLUMNS)}")
    roster = {}
    for line, row in enumerate(reader, start=2):
        sid = (row.get("id") or "").strip()
        if not sid:
            raise CourseError(f"c.Course.roster: {path}, line {line}: no student id")
        roster[sid] = {k: (row.get(k) or "").strip() or None for k in ROSTER_COLUMNS[1:]}
    return roster


def due_date(settings: Settings, assignment: str) -> datetime | None:
    """The assignment's due date (``c.Course.due_dates``, UTC), or None."""
    text = (settings.due_dates or {}).get(assignment)
    if not text:
        return None
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(str(text))
    except Exception:
        raise CourseError(f"c.Course.due_dates[{assignment!r}] = {text!r} is not a date: write it as "
                          "'YYYY-MM-DD HH:MM' (UTC)") from None


def submission_time(result) -> datetime | None:
    """The time in ``timestamp.txt`` beside the submitted notebook (``nbgrader collect`` writes
    it), read as untrusted input, or None."""
    data = intake.beside(result.notebook, "timestamp.txt", 1000)
    try:
        text = data.decode("utf-8").strip() if data is not None else ""
    except UnicodeDecodeError:
        return None
    if not text:
        return None
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(text)
    except Exception:
        return None


def alembic_head() -> str:
    """The newest revision of nbgrader's gradebook schema, read in this process. nbgrader's own
    ``api.get_alembic_version`` runs ``alembic heads`` in a subprocess to learn it each time a
    gradebook is created (2 s of a batch's end; 5 s on a busy machine); this reads the same
    revision from the same migration scripts (``tests/end_to_end/test_gradebook_fidelity.py``
    checks they agree)."""
    global _ALEMBIC_HEAD
    if _ALEMBIC_HEAD is None:
        from alembic.config import Config
        from alembic.script import ScriptDirectory
        from nbgrader.dbutil import ALEMBIC_DIR

        config = Config()
        config.set_main_option("script_location", str(ALEMBIC_DIR))
        _ALEMBIC_HEAD = ScriptDirectory.from_config(config).get_current_head()
    return _ALEMBIC_HEAD


_ALEMBIC_HEAD: str | None = None


def prepare() -> None:
    """Import nbgrader's gradebook and read its schema's revision now (about 0.3 s), so that
    ``record_grades`` at a batch's end does not: the batch calls this while its workers grade.
    Never raises (``record_grades`` meets any problem again and says so)."""
    try:
        import importlib

        importlib.import_module("nbgrader.api")
        alembic_head()
    except Exception:
        pass


def open_gradebook(db_path: Path, course: str = "default_course"):
    """nbgrader's ``Gradebook`` at ``db_path`` (created when new, without the ``alembic``
    subprocess nbgrader runs for that: ``alembic_head``)."""
    import nbgrader.api

    nbgrader.api.get_alembic_version = alembic_head
    return nbgrader.api.Gradebook(f"sqlite:///{Path(db_path).resolve()}", course_id=course)


def _gradebook(db_path: Path, settings: Settings):
    return open_gradebook(db_path, course_id(settings))


def manual_scores(db_path: Path, settings: Settings) -> dict:
    """{(student, assignment): {test grade_id: score given by hand}} from the gradebook at
    ``db_path`` ({} when there is none)."""
    if not Path(db_path).is_file():
        return {}
    found: dict = {}
    with warnings.catch_warnings(), _gradebook(db_path, settings) as gb:
        warnings.simplefilter("ignore")
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        if grade.manual_score is not None:
                            found.setdefault((submission.student.id, assignment.name), {})[grade.cell.name] = \
                                float(grade.manual_score)
    return found


def record_grades(db_path: Path, results: list, settings: Settings, assignments: dict | None = None) -> int:
    """Write ``results`` (GradeResult objects) into the gradebook at ``db_path``.

    assignments: {id: Assignment} already loaded (the batch's); others are loaded here.
    Returns the number of submissions recorded. Submissions of unknown assignments are skipped
    (they have a row in grades.csv with the reason).
    """
    from nbgrader.api import Comment, Grade

    known = set(settings.assignments())
    results = [r for r in results if r.assignment in known and r.student]
    if not results:
        return 0
    roster = load_roster(settings)
    hand_names: dict = {}
    with warnings.catch_warnings(), _gradebook(db_path, settings) as gb:
        warnings.simplefilter("ignore")       # SQLAlchemy warnings from inside nbgrader's api
        # one transaction for the whole batch: nbgrader's update_or_create_* commit each call
        # (each a write to disk); here they flush, and the batch commits once at the end (an
        # error rolls all of it back: the gradebook then holds the last batch's grades whole)
        commit, gb.db.commit = gb.db.commit, gb.db.flush
        for assignment in sorted({r.assignment for r in results}):
            try:
                loaded = (assignments or {}).get(assignment) or load(settings, assignment)
            except CourseError:
                continue
            due = due_date(settings, assignment)
            gb.update_or_create_assignment(assignment, **({"duedate": due} if due else {}))
            gb.update_or_create_notebook(assignment, assignment)
            for cell in loaded.test_cells:
                if grade_id(cell):
                    gb.update_or_create_grade_cell(grade_id(cell), assignment, assignment,
                                                   max_score=points(cell), cell_type="code")
            hand_names[assignment] = [grade_id(c) for c in loaded.hand_cells]
            for cell in loaded.hand_cells:          # answers graded by hand: a grade and a solution cell
                gb.update_or_create_grade_cell(grade_id(cell), assignment, assignment,
                                               max_score=points(cell), cell_type=cell.cell_type)
            for cell in loaded.source.cells:
                if is_solution(cell) and grade_id(cell):
                    gb.update_or_create_solution_cell(grade_id(cell), assignment, assignment)
        for sid, person in roster.items():
            gb.update_or_create_student(sid, **person)
        recorded = 0
        for result in results:
            gb.update_or_create_student(result.student, **roster.get(result.student, {}))
            when = submission_time(result)
            submission = gb.update_or_create_submission(result.assignment, result.student,
                                                        **({"timestamp": when} if when else {}))
            notebook = submission.notebooks[0] if submission.notebooks else None
            if notebook is not None:
                # cells added by a later release: the rows nbgrader creates with a new submission
                have = {g.cell.name for g in notebook.grades} | {c.cell.name for c in notebook.comments}
                for cell in notebook.notebook.grade_cells:
                    if cell.name not in have:
                        gb.db.add(Grade(cell_id=cell.id, notebook=notebook))
                for cell in notebook.notebook.solution_cells:
                    if cell.name not in have:
                        gb.db.add(Comment(cell_id=cell.id, notebook=notebook))
                gb.db.flush()
                gb.db.expire(notebook, ["grades"])
            # the submission's grades by cell name, read once (nbgrader's find_grade is a query
            # of six joins per cell: 0.43 s of a 24-submission batch's 0.74 s)
            grades = {g.cell.name: g for g in notebook.grades} if notebook is not None else {}
            for test in result.tests:
                grade = grades.get(test.name)
                if grade is None:
                    continue
                grade.auto_score = float(test.auto_points if test.auto_points is not None else test.points)
                # as nbgrader's autograde: only a score given by hand asks for a look; and a
                # submission marked for review (grades.csv status `review`): the instructor
                # confirms its score, so formgrader lists it as needing manual grading
                grade.needs_manual_grade = grade.manual_score is not None or result.status == "review"
            answered = {a.name: a.answered for a in result.hand}
            for name in hand_names.get(result.assignment, ()):
                grade = grades.get(name)
                if grade is None:
                    continue
                # as nbgrader's autograde: an unanswered cell (or one of a result that could not
                # read it) gets 0 at once; an answer waits for the instructor until a score is given
                grade.auto_score = None if answered.get(name) else 0.0
                grade.needs_manual_grade = bool(answered.get(name)) and grade.manual_score is None
            recorded += 1
        commit()
    return recorded
