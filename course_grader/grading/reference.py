"""The reference records: what the source notebook's hidden tests record, run once and cached.

Running the instructor's notebook is trusted (it is the course's own code). The cache file's
name holds a hash of everything the records depend on: the source notebook, the code sent to the
kernel (library, guard, prelude), torch's version and the grading settings.
"""
from __future__ import annotations

import hashlib
import tempfile
import time
from importlib import metadata
from pathlib import Path

from ..assignment import Assignment, as_assignment
from ..config import CourseError, Settings
from ..execution import session
from ..fsutil import atomic_write
from ..notebook import grade_id, is_test
from ..protocol import dump_records, load_records


def _torch_version() -> str:
    """The kernels' torch version, from the environment's metadata (without importing torch)."""
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "none"


def _reference_key(settings: Settings, source_path: Path) -> str:
    h = hashlib.sha256()
    h.update(source_path.read_bytes())
    h.update(session.kernel_code_text(settings).encode())   # the kernel library, guard and prelude
    h.update(f"{_torch_version()}|{settings.seed}|{settings.torch_threads}|{settings.grading_epochs}".encode())
    return h.hexdigest()[:20]


def cache_path(settings: Settings, assignment) -> Path:
    """Where ``assignment``'s reference records are cached (the file exists once computed)."""
    assignment = as_assignment(settings, assignment)
    key = _reference_key(settings, assignment.source_path)
    return settings.cache_dir / "reference" / f"{assignment.id}-{key}.json"


def reference_records(settings: Settings, assignment, progress=None, hidden: tuple = ()) -> dict:
    """{test grade_id: [(record name, Record)]} from running the source notebook (cached).

    assignment: an Assignment or an assignment id. hidden: see ``session.KernelSession``.
    """
    assignment = as_assignment(settings, assignment)
    cache = cache_path(settings, assignment)
    if cache.is_file():
        try:
            return load_records(cache.read_bytes())
        except Exception:
            cache.unlink(missing_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"course-reference-{assignment.id}-") as tmp:
        run = session.run_notebook(assignment.source, Path(tmp), settings, progress=progress,
                                   hidden=hidden)
    seconds = time.monotonic() - started
    problems = [f"cell {i}: {r.status} {r.ename}: {r.evalue}" for i, r in run.cells.items()
                if r.status != "ok"]
    if run.fatal or problems:
        raise CourseError(f"the reference solution of {assignment.id} does not run cleanly, so it "
                          f"cannot be graded against: {run.fatal or '; '.join(problems[:3])}")
    records = {}
    for index, cell in enumerate(run.notebook.cells):
        if is_test(cell) and grade_id(cell):
            records[grade_id(cell)] = run.cells[index].records
    names = [name for recs in records.values() for name, _ in recs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CourseError(f"{assignment.source_path}: record names must be unique, repeated: {duplicates[:5]}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(cache, dump_records(records))
    atomic_write(_seconds_path(cache), f"{seconds:.3f}\n")
    return records


def _seconds_path(cache: Path) -> Path:
    return cache.with_suffix(".seconds")


def reference_seconds(settings: Settings, assignment) -> float | None:
    """How long the reference run of ``assignment`` took when its records were computed (seconds),
    or None when unknown (no cache, or a cache written before this was kept). A batch's estimate
    of what a submission of it costs: it hands out the longest first."""
    try:
        return float(_seconds_path(cache_path(settings, assignment)).read_text())
    except (OSError, ValueError):
        return None


def attach(settings: Settings, assignment: Assignment, hidden: tuple = ()) -> Assignment:
    """``assignment`` with its reference records (computed or read from the cache) attached."""
    if assignment.reference is None:
        assignment.reference = reference_records(settings, assignment, hidden=hidden)
    return assignment
