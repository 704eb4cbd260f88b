"""Grade one submission: merge it with the instructor's tests, run it, judge the records."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from ..assignment import as_assignment
from ..config import CourseError, Settings
from ..execution import bwrap, session
from ..notebook import NotebookError, notebook_from_json
from . import cascade, intake, labels, report, scan
from .safe_text import HiddenCode
from .merge import build_graded_notebook, release_status
from .reference import reference_records
from .results import GradeResult, TestResult, all_failed, hand_results
from .verdicts import judge_run

__all__ = ["grade_notebook", "reference_records", "judge_run", "GradeResult", "TestResult",
           "MAX_SCRATCH_BYTES"]

#: Files next to a submitted notebook that are copied into its scratch folder (data it reads).
MAX_SCRATCH_BYTES = 50 * 1024 * 1024


def read_submission(path: Path, student_root: Path | None = None, notes: list | None = None):
    """The submitted notebook at ``path``, read as untrusted input (``intake.py``): a regular file
    inside ``student_root`` (default: the notebook's own folder), no link anywhere from there
    down, no FIFO or device, within the size limits (its saved outputs cleared when they make it
    too large: a line in ``notes`` says so). NotebookError (a SubmissionError) says why not."""
    root = Path(student_root) if student_root is not None else Path(path).parent
    data = intake.read_submission_notebook(Path(path), root, notes=notes)
    return notebook_from_json(data, Path(path).name)


def grade_notebook(settings: Settings, assignment, path: Path, student: str = "",
                   reference: dict | None = None, notes: list | None = None,
                   hidden: tuple = (), student_root: Path | None = None, figures: bool = True) -> tuple:
    """Grade the notebook at ``path`` as a submission of ``assignment`` (an Assignment, or its id).

    reference: the reference records (default: the Assignment's, else computed or cached).
    hidden: folders the sandbox hides besides the course root (a batch's submissions and output).
    student_root: the student's folder; nothing is read through a link below it (default: the
    notebook's folder; see ``read_submission``).
    figures: render the figures the notebook left open, for the instructor's figures page that
    ``report.write_outputs`` writes (about 0.1 s a figure grid, in the kernel); ``course check``
    and Gradescope, which write no such page, pass False.
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
        submission = read_submission(Path(path), student_root, notes=result.notes)
    except NotebookError as e:
        result.status, result.error = "error", str(e)
        result.tests = all_failed(assignment, f"not graded: {e}")
        result.hand = hand_results(assignment)
        result.seconds = time.monotonic() - started
        return result, None
    if reference is None:
        reference = assignment.reference
    if reference is None:
        reference = reference_records(settings, assignment, hidden=hidden)
    try:
        labels.require(reference)          # true labels stay in the grader's process
    except labels.LabelSetError as e:
        raise CourseError(f"{assignment.id}: {e}") from None
    nb, tamper_notes = build_graded_notebook(assignment.source, submission, assignment.release_id)
    result.release = release_status(submission, assignment.release_id)
    result.notes += tamper_notes
    # tampering and evasion primitives, found in the grader's process (the code is parsed, not run)
    review = scan.review_items(assignment.source, nb)
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        workdir = Path(tmp) / "work"
        result.notes += _prepare_scratch(Path(path), workdir)
        run = session.run_notebook(nb, workdir, settings, hidden=hidden, figures=figures)
    result.run_error = run.fatal
    if run.fatal and all(c.status == "not_run" for c in run.cells.values()):
        # no cell of the submission ran: the machine's failure, never the student's 0
        result.status = "error"
        result.error = (f"the grading kernel could not run this notebook (a problem of the grading "
                        f"machine, not of the submission; grade it again once fixed): {run.fatal}")
    release, hidden_code, tested = prepared(assignment)
    result.tests, run_notes, _ = judge_run(run, reference, settings, annotate=True, hidden=hidden_code)
    cascade.explain(result.tests, assignment.source, nb, tested=tested)   # "fix im2col first"
    result.notes += run_notes
    result.hand = hand_results(assignment, nb, release)
    result.notes += [f"the answer cell {a.name} was left as released, and the answer was written in "
                     f"{a.elsewhere}: it waits for the instructor, to be graded from there"
                     for a in result.hand if a.elsewhere]
    result.rescore()
    result.mark_review(review)             # status review: the score stands until confirmed
    result.seconds = round(time.monotonic() - started, 2)
    # for the instructor's figures page (report.write_outputs); never written into a notebook
    run.notebook.metadata[report.FIGURES_KEY] = run.figures
    return result, run.notebook


def prepared(assignment) -> tuple:
    """``(release notebook or None, HiddenCode, cascade targets)`` of ``assignment``: derived
    from its notebooks once per Assignment (``batch`` asks before sending it to the workers, so
    they travel with it instead of being derived again for every submission)."""
    release = assignment.released
    return (release, assignment.cached("_hidden_code", lambda: HiddenCode(assignment.source, release)),
            assignment.cached("_tested", lambda: cascade.targets(assignment.source)))


def _prepare_scratch(notebook_path: Path, workdir: Path) -> list[str]:
    """Copy the regular files beside the submitted notebook (data it reads) into ``workdir``,
    each read as untrusted input (no links, FIFOs or devices; at most ``MAX_SCRATCH_BYTES`` in
    all). Returns notes on what was left out."""
    workdir.mkdir(parents=True)
    folder = notebook_path.parent
    notes, total = [], 0
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return notes
    for entry in entries:
        if entry.name == notebook_path.name or entry.is_dir(follow_symlinks=False):
            continue
        try:
            data = intake.open_submission(folder / entry.name, folder, MAX_SCRATCH_BYTES - total)
        except intake.SubmissionError as e:
            notes.append(f"not copied next to the notebook: {e}")
            continue
        total += len(data)
        (workdir / entry.name).write_bytes(data)
    return notes
