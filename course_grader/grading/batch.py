"""Grade a folder of submissions in nbgrader's layout, in parallel, in shards.

``SUBMITTED_DIR/<student>/<assignment>/<assignment>.ipynb``. Workers grade and write their own
submission's files; only the parent process writes ``grades.csv``, so nothing is written by two
processes at once. One broken submission never stops the others.
"""
from __future__ import annotations

import os
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from . import report
from ..config import CourseError, Settings
from ..execution import bwrap
from ..assignment import Assignment, load
from .grade import grade_notebook
from .reference import attach
from .results import GradeResult, all_failed


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    path: Path | None       # None when no notebook was found
    notes: tuple = ()
    error: str = ""


def discover(submitted: Path, settings: Settings) -> list[Submission]:
    """Every <student>/<assignment> folder under ``submitted``, sorted."""
    submitted = Path(submitted)
    if not submitted.is_dir():
        raise CourseError(f"{submitted} is not a folder of submissions "
                          "(expected SUBMITTED_DIR/<student>/<assignment>/<assignment>.ipynb)")
    known = set(settings.assignments())
    found = []
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for folder in sorted(p for p in student_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            student, assignment = student_dir.name, folder.name
            if assignment not in known:
                found.append(Submission(student, assignment, None,
                                        error=f"unknown assignment {assignment!r} (known: {', '.join(sorted(known))})"))
                continue
            expected = folder / f"{assignment}.ipynb"
            notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
            if expected.is_file():
                notes = tuple(f"extra notebook {p.name} was not graded" for p in notebooks if p != expected)
                found.append(Submission(student, assignment, expected, notes))
            elif len(notebooks) == 1:
                found.append(Submission(student, assignment, notebooks[0],
                                        (f"the notebook was renamed to {notebooks[0].name} "
                                         f"(expected {expected.name}); it was graded anyway",)))
            elif notebooks:
                found.append(Submission(student, assignment, None,
                                        error=f"no {expected.name}, and several other notebooks "
                                              f"({', '.join(p.name for p in notebooks)}): rename the one to grade"))
            else:
                found.append(Submission(student, assignment, None, error=f"no notebook in {folder}"))
    return found


def shard(items: list, spec: str | None) -> list:
    """The K-th of N deterministic slices (``spec`` "K/N", K from 1)."""
    if not spec:
        return items
    try:
        k, n = (int(x) for x in spec.split("/"))
    except ValueError:
        raise CourseError(f"--shard takes K/N, e.g. 2/4, not {spec!r}") from None
    if not (n >= 1 and 1 <= k <= n):
        raise CourseError(f"--shard {spec}: need 1 <= K <= N")
    return [item for i, item in enumerate(items) if i % n == k - 1]


def _grade_one(settings: Settings, sub: Submission, out: Path, assignment: Assignment | None,
               hidden: tuple = ()) -> dict:
    """Grade and write one submission; runs in a worker. Returns the result as a dict.
    assignment: the submission's Assignment with its reference records (None when unknown)."""
    try:
        if sub.path is None:
            result = GradeResult(assignment=sub.assignment, student=sub.student, status="error",
                                 error=sub.error, notes=list(sub.notes))
            if assignment is not None:
                result.max_score = assignment.max_score
                result.tests = all_failed(assignment, f"not graded: {sub.error}")
            executed = None
        else:
            result, executed = grade_notebook(settings, assignment, sub.path, sub.student,
                                              notes=list(sub.notes), hidden=hidden)
        report.write_outputs(out, result, executed)
    except Exception as e:  # a grader bug must not lose the other grades
        result = GradeResult(assignment=sub.assignment, student=sub.student, status="error",
                             error=f"internal grader error: {type(e).__name__}: {e}",
                             notes=[traceback.format_exc(limit=3)])
        try:
            report.write_outputs(out, result, None)
        except Exception:
            pass
    return result.to_dict()


def grade_folder(settings: Settings, submitted: Path, out: Path, jobs: int = 1,
                 shard_spec: str | None = None, progress: bool = True) -> list[GradeResult]:
    """Grade every submission under ``submitted``; write outputs and ``out/grades.csv``."""
    bwrap.announce(bwrap.decide(settings))   # CourseError before anything is written or run
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    subs = shard(discover(submitted, settings), shard_spec)
    hidden = (Path(submitted).resolve(), out)       # what no kernel of this batch may see
    # each assignment read once, its reference records attached, and passed down
    assignments = {}
    for name in sorted({s.assignment for s in subs if s.path is not None}):
        assignments[name] = attach(settings, load(settings, name), hidden=hidden)
    for name in sorted({s.assignment for s in subs if s.path is None} - set(assignments)):
        try:
            assignments[name] = load(settings, name)
        except CourseError:           # an unknown assignment: its row says so
            pass
    results: list[dict] = []
    bar = tqdm(total=len(subs), desc="grading", unit="notebook", disable=not progress)
    if jobs <= 1 or len(subs) <= 1:
        for sub in subs:
            results.append(_grade_one(settings, sub, out, assignments.get(sub.assignment), hidden))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker) as pool:
            futures = {pool.submit(_grade_one, settings, sub, out, assignments.get(sub.assignment), hidden): sub
                       for sub in subs}
            for future in as_completed(futures):
                sub = futures[future]
                try:
                    results.append(future.result())
                except Exception as e:  # the worker itself died
                    results.append(GradeResult(assignment=sub.assignment, student=sub.student,
                                               status="error", error=f"grading worker failed: {e}").to_dict())
                bar.update()
    bar.close()
    graded = [GradeResult.from_dict(r) for r in results]
    rows = [report.csv_row(r) for r in graded]
    report.write_csv(out / "grades.csv", rows)
    try:   # nbgrader's gradebook, for nbgrader's own tools; grades.csv above is already safe
        from .gradebook import record_grades
        record_grades(out / "gradebook.db", graded, settings, assignments)
    except Exception as e:
        print(f"warning: grades.csv is written, but {out / 'gradebook.db'} could not be updated: "
              f"{type(e).__name__}: {e}", file=sys.stderr)
    return sorted(graded, key=lambda r: (r.student, r.assignment))


def _init_worker() -> None:
    os.environ.setdefault("PYTHONHASHSEED", "0")


def merge_csvs(paths: list[Path], out: Path) -> list[dict]:
    """Combine shard ``grades.csv`` files into one; a (student, assignment) twice is an error."""
    rows, seen = [], {}
    for path in paths:
        if not Path(path).is_file():
            raise CourseError(f"{path}: no such grades file")
        for row in report.read_csv(path):
            key = (row["student"], row["assignment"])
            if key in seen:
                raise CourseError(f"{key[0]}/{key[1]} is graded in both {seen[key]} and {path}")
            seen[key] = path
            rows.append(row)
    report.write_csv(Path(out), rows)
    return sorted(rows, key=lambda r: (r["student"], r["assignment"]))
