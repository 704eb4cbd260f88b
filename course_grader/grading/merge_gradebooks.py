"""``course merge-gradebooks SHARD_DB ... --out gradebook.db``: join the shards' nbgrader gradebooks.

``course grade --shard K/N`` writes one ``gradebook.db`` per shard; this copies every shard's
assignments (notebooks, grade/solution/source/task cells, due dates), students (names, e-mail)
and submissions (timestamps, extensions, flags, late penalties, every grade and comment) into one
gradebook through nbgrader's own API, so that ``nbgrader export`` and formgrader see the whole
class. Shards must be disjoint: a (student, assignment) in two shards is an error, and nothing is
written then. ``--out`` may be an existing gradebook (the course's own): a submission that is
already there takes the shard's automatic results, and keeps its manual scores and comments
where the shard has none.
"""
from __future__ import annotations

import warnings
from pathlib import Path

from ..config import CourseError


def _gradebook(path: Path):
    from .gradebook import open_gradebook

    return open_gradebook(path)


def _submission_keys(path: Path) -> set:
    with _gradebook(path) as gb:
        return {(sub.student.id, assignment.name)
                for assignment in gb.assignments for sub in assignment.submissions}


def check_disjoint(shards: list[Path]) -> None:
    """Refuse missing shard files and a (student, assignment) found in two shards."""
    missing = [str(p) for p in shards if not Path(p).is_file()]
    if missing:
        raise CourseError(f"no such gradebook: {', '.join(missing)} (did a shard fail?)")
    seen: dict = {}
    for path in shards:
        for key in sorted(_submission_keys(path)):
            if key in seen:
                raise CourseError(f"{key[0]}/{key[1]} is graded in both {seen[key]} and {path}")
            seen[key] = path


def _copy_assignments(src, dst) -> None:
    for a in src.assignments:
        dst.update_or_create_assignment(a.name, duedate=a.duedate)
        for nb in a.notebooks:
            dst.update_or_create_notebook(nb.name, a.name)
            for c in nb.grade_cells:
                dst.update_or_create_grade_cell(c.name, nb.name, a.name, max_score=c.max_score,
                                                cell_type=c.cell_type)
            for c in nb.solution_cells:
                dst.update_or_create_solution_cell(c.name, nb.name, a.name)
            for c in nb.source_cells:
                dst.update_or_create_source_cell(c.name, nb.name, a.name, cell_type=c.cell_type,
                                                 locked=c.locked, source=c.source, checksum=c.checksum)
            for c in nb.task_cells:
                dst.update_or_create_task_cell(c.name, nb.name, a.name, max_score=c.max_score,
                                               cell_type=c.cell_type)


def _copy_submissions(src, dst) -> int:
    from nbgrader.api import MissingEntry

    for s in src.students:
        dst.update_or_create_student(s.id, first_name=s.first_name, last_name=s.last_name,
                                     email=s.email, lms_user_id=s.lms_user_id)
    copied = 0
    for a in src.assignments:
        for sub in a.submissions:
            student = sub.student.id
            dst.update_or_create_submission(a.name, student, timestamp=sub.timestamp,
                                            extension=sub.extension)
            for snb in sub.notebooks:
                target = dst.find_submission_notebook(snb.name, a.name, student)
                target.flagged = snb.flagged
                target.late_submission_penalty = snb.late_submission_penalty
                for grade in snb.grades:
                    try:
                        t = dst.find_grade(grade.name, snb.name, a.name, student)
                    except MissingEntry:
                        continue
                    t.auto_score = grade.auto_score
                    t.needs_manual_grade = grade.needs_manual_grade
                    if grade.manual_score is not None:
                        t.manual_score = grade.manual_score
                    if grade.extra_credit is not None:
                        t.extra_credit = grade.extra_credit
                for comment in snb.comments:
                    try:
                        t = dst.find_comment(comment.name, snb.name, a.name, student)
                    except MissingEntry:
                        continue
                    t.auto_comment = comment.auto_comment
                    if comment.manual_comment is not None:
                        t.manual_comment = comment.manual_comment
            copied += 1
    return copied


def merge_gradebooks(shards: list[Path], out: Path) -> int:
    """Copy the shard gradebooks into ``out``; returns the number of submissions copied."""
    shards = [Path(p) for p in shards]
    if not shards:
        raise CourseError("no shard gradebooks given")
    if any(p.resolve() == Path(out).resolve() for p in shards if p.exists()):
        raise CourseError(f"{out} is one of the shards: write the merged gradebook elsewhere")
    check_disjoint(shards)
    copied = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # SQLAlchemy warnings from inside nbgrader's api
        with _gradebook(out) as dst:
            for path in shards:
                with _gradebook(path) as src:
                    _copy_assignments(src, dst)
                    dst.db.commit()
                    copied += _copy_submissions(src, dst)
            dst.db.commit()
    return copied
