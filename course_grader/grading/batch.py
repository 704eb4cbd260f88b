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
from ..execution import bwrap, zygote
from ..assignment import Assignment, load
from .grade import grade_notebook, prepared
from .gradebook import load_roster, manual_scores, prepare as prepare_gradebook, record_grades
from .reference import attach, reference_seconds
from .results import GradeResult, all_failed, hand_results


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    path: Path | None       # None when no notebook was found
    notes: tuple = ()
    error: str = ""


LAYOUT = "SUBMITTED_DIR/<student>/<assignment>/<assignment>.ipynb"


def discover(submitted: Path, settings: Settings) -> list[Submission]:
    """Every <student>/<assignment> folder under ``submitted``, sorted.

    Nothing is followed through a link: a student or assignment folder that is a symbolic link
    gets an error row (it could point at another student's work or at the course's solutions).
    A folder with no submission in nbgrader's layout (empty, a flat folder of notebooks as an LMS
    exports them, one level too deep) is a CourseError that shows the layout expected and what
    was found, before anything is graded or written.
    """
    submitted = Path(submitted)
    if not submitted.is_dir():
        raise CourseError(f"{submitted} is not a folder of submissions (expected {LAYOUT})")
    known = set(settings.assignments())
    found = []
    for student_dir in _entries(submitted):
        if student_dir.is_symlink():
            found.append(Submission(student_dir.name, "", None, error=(
                f"{student_dir.name}: the student's folder is a symbolic link; it was not followed "
                "(copy the files themselves into the folder)")))
            continue
        if not student_dir.is_dir():
            continue
        for folder in _entries(student_dir):
            student, assignment = student_dir.name, folder.name
            if folder.is_symlink():
                found.append(Submission(student, assignment, None, error=(
                    f"{student}/{assignment}: the assignment folder is a symbolic link; it was not "
                    "followed (submit the files themselves)")))
                continue
            if not folder.is_dir():
                continue
            if assignment not in known:
                found.append(Submission(student, assignment, None,
                                        error=f"unknown assignment {assignment!r} (known: {', '.join(sorted(known))})"))
                continue
            expected = folder / f"{assignment}.ipynb"
            notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
            if expected in notebooks or expected.is_symlink():
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
    if not any(s.assignment in known for s in found):
        raise CourseError(_wrong_shape(submitted, known))
    return found


def _entries(folder: Path) -> list[Path]:
    """The visible entries of ``folder``, sorted (links included, not followed)."""
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except OSError:
        return []


def _wrong_shape(submitted: Path, known: set) -> str:
    """Why ``submitted`` holds no submission in nbgrader's layout, and what it does hold."""
    seen = []
    for folder, dirs, files in os.walk(submitted):          # links are not followed
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = Path(folder).relative_to(submitted)
        seen += [f"{rel / d}/" if str(rel) != "." else f"{d}/" for d in dirs]
        seen += [str(rel / f) if str(rel) != "." else f for f in sorted(files) if f.endswith(".ipynb")]
        if len(seen) > 2000:
            break
    seen.sort()
    flat = [p for p in seen if "/" not in p.rstrip("/") and p.endswith(".ipynb")]
    hint = ""
    if flat:
        hint = (" It holds notebooks directly (as an LMS export does): put each student's notebook "
                f"in {LAYOUT}, e.g. <student>/{sorted(known)[0] if known else '<assignment>'}/...")
    elif any(p.count("/") >= 3 and p.endswith(".ipynb") for p in seen):
        hint = " Its notebooks are one level too deep: point SUBMITTED_DIR at the folder above the student folders."
    shown = ", ".join(seen[:12]) + (f" and {len(seen) - 12} more" if len(seen) > 12 else "")
    return (f"{submitted} holds no submission of a known assignment ({', '.join(sorted(known)) or 'none'}): "
            f"expected {LAYOUT}; found {shown or 'nothing'}.{hint} Nothing was graded and no "
            "grades.csv was written.")


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
               hidden: tuple = (), manual: dict | None = None) -> dict:
    """Grade and write one submission; runs in a worker. Returns the result as a dict.
    assignment: the submission's Assignment with its reference records (None when unknown)."""
    try:
        if sub.path is None:
            result = GradeResult(assignment=sub.assignment, student=sub.student, status="error",
                                 error=sub.error, notes=list(sub.notes))
            if assignment is not None:
                result.max_score = assignment.max_score
                result.tests = all_failed(assignment, f"not graded: {sub.error}")
                result.hand = hand_results(assignment)
            executed = None
        else:
            result, executed = grade_notebook(settings, assignment, sub.path, sub.student,
                                              notes=list(sub.notes), hidden=hidden,
                                              student_root=sub.path.parent.parent)
            if manual:
                result.apply_manual(manual)   # scores the instructor gave by hand stay
        report.write_outputs(out, result, executed, settings.course_title)
    except Exception as e:  # a grader bug must not lose the other grades
        result = GradeResult(assignment=sub.assignment, student=sub.student, status="error",
                             error=f"internal grader error: {type(e).__name__}: {e}",
                             notes=[traceback.format_exc(limit=3)])
        try:
            report.write_outputs(out, result, None)
        except Exception:
            pass
    return result.to_dict()


def longest_first(settings: Settings, subs: list[Submission], assignments: dict) -> list[Submission]:
    """``subs`` in the order a pool of workers should take them: the assignments whose reference
    run took longest first (``reference.reference_seconds``), so that the batch does not end with
    one worker training a network while the others wait; each assignment's submissions keep their
    order, and assignments of unknown cost (no reference timing, an error row) come last. The
    grades do not depend on it (grades.csv is sorted). assignments: {id: Assignment}, as loaded."""
    cost = {name: reference_seconds(settings, assignment) or 0.0 for name, assignment in assignments.items()}
    return sorted(subs, key=lambda s: -cost.get(s.assignment, 0.0))


def _grade_in_worker(*args) -> tuple[dict, dict]:
    """``_grade_one`` in a worker, with how the worker's kernels started (``zygote.state``)."""
    return _grade_one(*args), zygote.state()


def grade_folder(settings: Settings, submitted: Path, out: Path, jobs: int = 1,
                 shard_spec: str | None = None, progress: bool = True) -> list[GradeResult]:
    """Grade every submission under ``submitted``; write outputs and ``out/grades.csv``."""
    bwrap.announce(bwrap.decide(settings))   # CourseError before anything is written or run
    zygote.mode(settings)                    # the same for a kernel_mode that cannot be met
    zygote.begin()
    subs = shard(discover(submitted, settings), shard_spec)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    hidden = (Path(submitted).resolve(), out)       # what no kernel of this batch may see
    if jobs <= 1 or len(subs) <= 1:
        zygote.warm(settings, hidden)        # the fork server imports torch while we prepare
    # each assignment read once, its reference records attached, and passed down
    assignments = {}
    for name in sorted({s.assignment for s in subs if s.path is not None}):
        assignments[name] = attach(settings, load(settings, name), hidden=hidden)
        prepared(assignments[name])  # derived once here, sent to the workers with the assignment
    for name in sorted({s.assignment for s in subs if s.path is None} - set(assignments)):
        try:
            assignments[name] = load(settings, name)
        except CourseError:           # an unknown assignment: its row says so
            pass
    # scores given by hand in formgrader (the gradebook of an earlier batch) stay the instructor's
    load_roster(settings)             # a roster that cannot be used: CourseError before grading
    try:
        manual = manual_scores(out / "gradebook.db", settings)
    except Exception as e:
        raise CourseError(f"{out / 'gradebook.db'} cannot be read ({type(e).__name__}: {e}): the scores given "
                          "by hand there would be lost; move it away or repair it, then grade again") from None
    results: list[dict] = []
    # grades.csv is updated per (student, assignment): rows of earlier batches that this one does
    # not grade again are kept (grading one assignment never erases another's grades)
    regraded = {(sub.student, sub.assignment) for sub in subs}
    kept = [row for row in _previous_rows(out / "grades.csv")
            if (row.get("student"), row.get("assignment")) not in regraded]

    def done(row: dict) -> None:
        """Keep a finished result and rewrite grades.csv with every row so far (atomically): a
        crash or a kill loses at most the submissions in flight."""
        results.append(row)
        report.write_csv(out / "grades.csv",
                         kept + [report.csv_row(GradeResult.from_dict(r)) for r in results])

    bar = tqdm(total=len(subs), desc="grading", unit="notebook", disable=not progress)
    if jobs <= 1 or len(subs) <= 1:
        for sub in subs:
            done(_grade_one(settings, sub, out, assignments.get(sub.assignment), hidden,
                            manual.get((sub.student, sub.assignment))))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker,
                                 initargs=(settings, hidden)) as pool:
            futures = {pool.submit(_grade_in_worker, settings, sub, out, assignments.get(sub.assignment), hidden,
                                   manual.get((sub.student, sub.assignment))): sub
                       for sub in longest_first(settings, subs, assignments)}
            prepare_gradebook()     # while the workers grade: not after the last notebook
            for future in as_completed(futures):
                sub = futures[future]
                try:
                    row, kernels = future.result()
                    zygote.absorb(kernels)
                except Exception as e:  # the worker itself died
                    row = GradeResult(assignment=sub.assignment, student=sub.student,
                                      status="error", error=f"grading worker failed: {e}").to_dict()
                done(row)
                bar.update()
    bar.close()
    graded = [GradeResult.from_dict(r) for r in results]
    report.write_csv(out / "grades.csv", kept + [report.csv_row(r) for r in graded])
    try:   # nbgrader's gradebook, for nbgrader's own tools; grades.csv above is already safe
        record_grades(out / "gradebook.db", graded, settings, assignments)
    except Exception as e:
        print(f"warning: grades.csv is written, but {out / 'gradebook.db'} could not be updated: "
              f"{type(e).__name__}: {e}", file=sys.stderr)
    return sorted(graded, key=lambda r: (r.student, r.assignment))


def _previous_rows(path: Path) -> list[dict]:
    """The rows of an existing grades.csv ([] when there is none or it cannot be read)."""
    try:
        return report.read_csv(path) if path.is_file() else []
    except (OSError, UnicodeDecodeError, ValueError) as e:
        print(f"warning: {path} could not be read ({e}); it is replaced by this batch's rows",
              file=sys.stderr)
        return []


def _init_worker(settings: Settings, hidden: tuple) -> None:
    os.environ.setdefault("PYTHONHASHSEED", "0")
    zygote.warm(settings, hidden)            # each worker's own fork server


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
