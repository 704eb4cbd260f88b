"""Grade one submission: merge it with the instructor's tests, run it, judge the records."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from ..assignment import as_assignment
from ..config import Settings
from ..execution import bwrap, session
from ..notebook import NotebookError, read_notebook
from .merge import build_graded_notebook
from .reference import reference_records
from .results import GradeResult, TestResult, all_failed
from .verdicts import judge_run

__all__ = ["grade_notebook", "reference_records", "judge_run", "GradeResult", "TestResult",
           "MAX_SCRATCH_BYTES"]

#: Files next to a submitted notebook that are copied into its scratch folder (data it reads).
MAX_SCRATCH_BYTES = 50 * 1024 * 1024


def grade_notebook(settings: Settings, assignment, path: Path, student: str = "",
                   reference: dict | None = None, notes: list | None = None,
                   hidden: tuple = ()) -> tuple:
    """Grade the notebook at ``path`` as a submission of ``assignment`` (an Assignment, or its id).

    reference: the reference records (default: the Assignment's, else computed or cached).
    hidden: folders the sandbox hides besides the course root (a batch's submissions and output).
    Returns ``(GradeResult, executed notebook or None)``. Never raises for anything the
    submission contains; raises CourseError only for problems of the course itself.
    """
    started = time.monotonic()
    sandbox = bwrap.decide(settings)       # before any student code; CourseError where it must not run
    bwrap.announce(sandbox)
    assignment = as_assignment(settings, assignment)
    result = GradeResult(assignment=assignment.id, student=student, notebook=str(path),
                         max_score=assignment.max_score, notes=list(notes or []))
    if sandbox.warning and settings.sandbox == "auto":
        result.notes.append(sandbox.warning)
    try:
        submission = read_notebook(path)
    except NotebookError as e:
        result.status, result.error = "error", str(e)
        result.tests = all_failed(assignment, f"not graded: {e}")
        result.seconds = time.monotonic() - started
        return result, None
    if reference is None:
        reference = assignment.reference
    if reference is None:
        reference = reference_records(settings, assignment, hidden=hidden)
    nb, tamper_notes = build_graded_notebook(assignment.source, submission)
    result.notes += tamper_notes
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        workdir = Path(tmp) / "work"
        _prepare_scratch(Path(path), workdir)
        run = session.run_notebook(nb, workdir, settings, hidden=hidden)
    result.run_error = run.fatal
    if run.fatal and all(c.status == "not_run" for c in run.cells.values()):
        # no cell of the submission ran: the machine's failure, never the student's 0
        result.status = "error"
        result.error = (f"the grading kernel could not run this notebook (a problem of the grading "
                        f"machine, not of the submission; grade it again once fixed): {run.fatal}")
    result.tests, run_notes, result.score = judge_run(run, reference, settings)
    result.notes += run_notes
    result.seconds = round(time.monotonic() - started, 2)
    return result, run.notebook


def _prepare_scratch(notebook_path: Path, workdir: Path) -> None:
    """Copy the submission's folder (its notebook and small files beside it) into ``workdir``."""
    workdir.mkdir(parents=True)
    total = 0
    folder = notebook_path.parent
    for item in sorted(folder.iterdir()) if folder.is_dir() else []:
        if item.is_symlink() or not item.is_file():
            continue
        total += item.stat().st_size
        if total > MAX_SCRATCH_BYTES:
            break
        shutil.copy2(item, workdir / item.name)
