"""Grade one submission: merge it with the instructor's tests, run it, judge the records."""
from __future__ import annotations

import copy
import hashlib
import io
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import torch

from . import judge, kernel as kernel_module, missing_modules, runner
from .config import CourseError, Settings
from .merge import build_graded_notebook
from .notebook import NotebookError, grade_id, is_test, points, read_notebook

#: Files next to a submitted notebook that are copied into its scratch folder (data it reads).
MAX_SCRATCH_BYTES = 50 * 1024 * 1024


@dataclass
class TestResult:
    name: str                 # the test cell's grade_id
    points: float
    max_points: float
    passed: bool
    message: str = ""         # why it failed (never the hidden test's code)
    status: str = "ok"        # how the cell ran: ok | error | timeout | dead | not_run


@dataclass
class GradeResult:
    assignment: str
    student: str = ""
    notebook: str = ""
    score: float = 0.0
    max_score: float = 0.0
    status: str = "graded"    # graded | error (could not be graded at all)
    error: str = ""
    tests: list = field(default_factory=list)
    notes: list = field(default_factory=list)   # tampering and other remarks
    run_error: str = ""       # why execution stopped early, if it did
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def max_score_of(source_nb) -> float:
    return sum(points(c) for c in source_nb.cells if is_test(c))


# ---------------------------------------------------------------------------- reference records

def _reference_key(settings: Settings, source_path: Path) -> str:
    h = hashlib.sha256()
    h.update(source_path.read_bytes())
    h.update(Path(kernel_module.__file__).read_bytes())
    h.update(runner.PRELUDE_TEMPLATE.encode())
    h.update(runner.GUARD_TEMPLATE.encode())
    h.update(f"{torch.__version__}|{settings.seed}|{settings.torch_threads}|{settings.grading_epochs}".encode())
    return h.hexdigest()[:20]


def reference_records(settings: Settings, assignment: str, progress=None) -> dict:
    """{test grade_id: [(record name, payload)]} from running the source notebook (cached)."""
    source_path = settings.source_notebook(assignment)
    cache = settings.cache_dir / "reference" / f"{assignment}-{_reference_key(settings, source_path)}.pt"
    if cache.is_file():
        try:
            return torch.load(cache, weights_only=True)
        except Exception:
            cache.unlink(missing_ok=True)
    source_nb = read_notebook(source_path)
    with tempfile.TemporaryDirectory(prefix=f"course-reference-{assignment}-") as tmp:
        run = runner.run_notebook(source_nb, Path(tmp), settings, progress=progress)
    problems = [f"cell {i}: {r.status} {r.ename}: {r.evalue}" for i, r in run.cells.items()
                if r.status != "ok"]
    if run.fatal or problems:
        raise CourseError(f"the reference solution of {assignment} does not run cleanly, so it cannot "
                          f"be graded against: {run.fatal or '; '.join(problems[:3])}")
    records = {}
    for index, cell in enumerate(run.notebook.cells):
        if is_test(cell) and grade_id(cell):
            records[grade_id(cell)] = run.cells[index].records
    names = [name for recs in records.values() for name, _ in recs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CourseError(f"{source_path}: record names must be unique, repeated: {duplicates[:5]}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(records, buffer)
    # a name of its own: graders running side by side (pytest -n 2, batch workers) may both write
    tmp_path = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    tmp_path.write_bytes(buffer.getvalue())
    tmp_path.replace(cache)
    return records


# --------------------------------------------------------------------------------- grading

def grade_notebook(settings: Settings, assignment: str, path: Path, student: str = "",
                   reference: dict | None = None, notes: list | None = None) -> tuple:
    """Grade the notebook at ``path`` as a submission of ``assignment``.

    Returns ``(GradeResult, executed notebook or None)``. Never raises for anything the
    submission contains; raises CourseError only for problems of the course itself.
    """
    started = time.monotonic()
    source_nb = read_notebook(settings.source_notebook(assignment))
    result = GradeResult(assignment=assignment, student=student, notebook=str(path),
                         max_score=max_score_of(source_nb), notes=list(notes or []))
    try:
        submission = read_notebook(path)
    except NotebookError as e:
        result.status, result.error = "error", str(e)
        result.tests = _all_failed(source_nb, f"not graded: {e}")
        result.seconds = time.monotonic() - started
        return result, None
    if reference is None:
        reference = reference_records(settings, assignment)
    nb, tamper_notes = build_graded_notebook(source_nb, submission)
    result.notes += tamper_notes
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        workdir = Path(tmp) / "work"
        _prepare_scratch(Path(path), workdir)
        run = runner.run_notebook(nb, workdir, settings)
    result.run_error = run.fatal
    result.tests, run_notes, result.score = judge_run(run, reference, settings)
    result.notes += run_notes
    result.seconds = round(time.monotonic() - started, 2)
    return result, run.notebook


def judge_run(run: runner.RunResult, reference: dict, settings: Settings) -> tuple:
    """What grading makes of an executed notebook: ``(tests, notes on the run, score)``.
    (grade_notebook; the variant tests' harness judges its runs with it too.)"""
    tests = _judge(run, reference, run.fatal)
    notes = missing_modules.notes(run, is_test) + _stopped_cells(run, settings)
    return tests, notes, round(sum(t.points for t in tests), 4)


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


def _stopped_cells(run: runner.RunResult, settings: Settings) -> list:
    """Notes for the notebook's own cells (not tests) that were stopped for running too long."""
    notes = []
    for index, cell in enumerate(run.notebook.cells):
        outcome = run.cells.get(index)
        if outcome is None or outcome.status != "timeout" or is_test(cell):
            continue
        first = next((line.strip() for line in str(cell.get("source", "")).splitlines() if line.strip()), "")
        first = first if len(first) <= 60 else first[:57] + "..."
        what = f"the cell starting {first!r}" if first else "an empty cell"
        notes.append(f"{what} ran longer than {settings.cell_timeout} s and was stopped")
    return notes


def _all_failed(source_nb, message: str) -> list:
    return [TestResult(name=grade_id(c), points=0.0, max_points=points(c), passed=False,
                       message=message, status="not_run")
            for c in source_nb.cells if is_test(c)]


def _judge(run: runner.RunResult, reference: dict, fatal: str) -> list:
    tests = []
    for index, cell in enumerate(run.notebook.cells):
        if not (is_test(cell) and grade_id(cell)):
            continue
        gid, max_points = grade_id(cell), points(cell)
        outcome = run.cells.get(index)
        message = ""
        if outcome is None or outcome.status == "not_run":
            message = f"not run: {fatal}" if fatal else "not run"
        elif outcome.status != "ok":
            message = f"{outcome.ename}: {outcome.evalue}".strip()
            message = _first_line_block(message)
            checking = _record_being_checked(outcome, reference.get(gid, []))
            if checking:
                message += f" (while checking {checking})"
            message = missing_modules.explain(message, outcome, run, index, is_test)
        else:
            got, repeated = {}, set()
            for name, payload in outcome.records:
                if name in got:
                    repeated.add(name)
                got.setdefault(name, payload)
            problems = []
            for name, expected in reference.get(gid, []):
                # the test records each name once (the reference's names are unique): a second
                # record of the name came from the notebook's own code, and the first may have too
                problem = (judge.REPEATED if name in repeated else judge.compare(expected, got.get(name)))
                if problem:
                    problems.append(f"{name}: {problem}")
            message = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
        passed = not message
        tests.append(TestResult(name=gid, points=max_points if passed else 0.0, max_points=max_points,
                                passed=passed, message=message,
                                status=outcome.status if outcome else "not_run"))
    return tests


def _record_being_checked(outcome, expected: list) -> str:
    """The record a test cell was computing when it failed in its hidden part: the first of the
    reference's records that the run did not make, once it made some (records come only from the
    hidden part), so that feedback on a crash names the kind of input, as it does for a wrong
    value. "" otherwise (a failure in the visible part, or before the first record)."""
    made = {name for name, _ in outcome.records}
    if not made:
        return ""
    return next((name for name, _ in expected if name not in made), "")


def _first_line_block(message: str, limit: int = 500) -> str:
    message = message.strip()
    return message if len(message) <= limit else message[:limit] + " ..."

