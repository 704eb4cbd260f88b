"""Fresh against pre-warmed grading kernels (issue 16), side by side in one run.

    .venv/bin/python benchmarks/kernel_modes.py [ASSIGNMENT ...] [--repeats 3] [--students 4] [--jobs 2]
                                                [--class-assignments A,B,...] [--class-only]

1. Per assignment: the reference submission graded with ``grade_notebook`` as a batch's worker
   grades it (the assignment read once with its reference records, the fork server already
   started) and its outputs written (feedback HTML, JSON, notebook), median of REPEATS per phase,
   with ``kernel_mode = "fresh"`` and ``"prewarmed"``. "test helpers": the guard run before each
   test cell (``run_guard``); "beyond cells": everything but the notebook's own cells and hidden
   tests (the per-submission overhead of issue 16), with and without the rendering of the figures
   the notebook drew for the instructor's figures page (part of "rest of grading"); and, for a
   light notebook, the end to end time of ``course check`` (a new grader process: what a student
   waits for after a push).
2. A class run: STUDENTS students x every assignment (or the CLASS_ASSIGNMENTS named: issue 16's
   24-submission batch is 4 x conv_from_scratch,pooling,mlp_vs_cnn,misclassifications,activations,
   cpu_vs_gpu) with ``grade_folder(jobs=JOBS)``, both modes: submissions per minute, and the
   projection of a class of 300 students on 4 two-core runners (grading only; add the install).
   ``--class-only`` runs this part alone.
3. The fork server's start: one alone, and JOBS at once (as a batch's workers start theirs).
   Memory: proportional set size (PSS) of the fork server, and of one forked kernel after its
   notebook's imports, against a fresh kernel's.
4. Fixed costs: the grader's own imports in a new process (and whether torch is among them), and
   writing a new gradebook of 1 and of 100 results.
Prints tables; the README quotes them.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import _common  # noqa: F401  (sets up paths)
from _common import ROOT, table


def pss_mb(pids) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


PHASES = ("kernel start + prelude", "test helpers", "cells + hidden tests", "rest of grading", "outputs", "total",
          "beyond cells", "of it figures page", "beyond cells without it")


def grade_once(settings, assignment, nb) -> dict:
    """Grade ``nb`` once and write its outputs; seconds per phase (PHASES), timed by wrapping
    the session's methods (a benchmark's measuring, not the grader's)."""
    import nbformat
    from course_grader.execution import session
    from course_grader.execution.session import KernelSession
    from course_grader.grading import report
    from course_grader.grading.grade import grade_notebook

    spent = {"start": 0.0, "run": 0.0, "guard": 0.0, "figures": 0.0}
    originals = {name: getattr(KernelSession, name) for name in ("start", "run", "figures")}
    guard = session.run_guard

    def timed_guard(*a, **k):                  # reinstalling the test helpers before a test cell
        t = time.perf_counter()
        try:
            return guard(*a, **k)
        finally:
            spent["guard"] += time.perf_counter() - t

    def timed(name):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return originals[name](*a, **k)
            finally:
                spent[name] += time.perf_counter() - t
        return wrapper

    for name in originals:
        setattr(KernelSession, name, timed(name))
    session.run_guard = timed_guard
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "student" / assignment.id / f"{assignment.id}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
        try:
            t = time.perf_counter()
            result, executed = grade_notebook(settings, assignment, path, student="student")
            seconds = time.perf_counter() - t
        finally:
            for name, method in originals.items():
                setattr(KernelSession, name, method)
            session.run_guard = guard
        t = time.perf_counter()            # its outputs: autograded notebook, feedback page, JSON
        report.write_outputs(Path(tmp) / "out", result, executed)
        outputs = time.perf_counter() - t
    cells = spent["run"] - spent["guard"]
    beyond = seconds + outputs - cells
    return dict(zip(PHASES, (spent["start"], spent["guard"], cells, seconds - spent["start"] - spent["run"],
                             outputs, seconds + outputs, beyond, spent["figures"], beyond - spent["figures"])))


def check_seconds(assignment: str, kernel_mode: str) -> float:
    """``course check`` of the reference, end to end, in a new process (nbgrader_config untouched:
    a one-line wrapper sets the mode)."""
    code = ("import sys; from course_grader import config; from dataclasses import replace; "
            "old = config.load_settings; "
            f"config.load_settings = lambda *a, **k: replace(old(*a, **k), kernel_mode={kernel_mode!r}); "
            "from course_grader import cli; sys.argv = ['course', 'check', sys.argv[1]]; sys.exit(cli.main())")
    nb = ROOT / "source" / assignment / f"{assignment}.ipynb"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(nb)], cwd=ROOT, capture_output=True, check=False)
    return time.perf_counter() - start


def memory(settings) -> tuple[float, float, float]:
    """(server PSS, forked kernel PSS, fresh kernel PSS) in MB, each after importing the notebooks'
    modules in the kernel."""
    import nbformat
    from course_grader.execution import zygote
    from course_grader.execution.processes import tree_pids
    from course_grader.execution.session import KernelSession

    cell = "import torch, torchvision, matplotlib.pyplot, course_utils\nx = torch.ones(3)\n"
    got = []
    for kernel_mode in ("prewarmed", "fresh"):
        with tempfile.TemporaryDirectory() as tmp:
            session = KernelSession(replace(settings, kernel_mode=kernel_mode), Path(tmp))
            try:
                session.start()
                session.run(nbformat.v4.new_code_cell(cell), 0)
                time.sleep(1)
                if kernel_mode == "prewarmed":
                    server = session.km.server
                    got.append(pss_mb(tree_pids(server.process.pid)))
                got.append(pss_mb(tree_pids(session.km.kernel_pid())))
            finally:
                session.close()
    zygote.close_all()
    return tuple(got)


def server_ready_seconds(settings, count: int) -> float:
    """Seconds from starting ``count`` fork servers at once (a batch's workers start one each) until
    the last says it is ready: whether a server per machine, shared by the workers, would make
    their first kernels wait less than a server per worker."""
    from course_grader.execution import zygote

    servers = [zygote.ForkServer(settings, ()) for _ in range(count)]
    start = time.perf_counter()
    try:
        for server in servers:
            server.start()
        if not all(server.wait(120) for server in servers):
            raise RuntimeError(next(server.why for server in servers if server.why))
        return time.perf_counter() - start
    finally:
        for server in servers:
            server.close()


def grader_start(repeats: int) -> tuple[float, bool]:
    """Seconds a new process takes to import what grading a batch needs; whether torch came too."""
    code = ("import sys, course_grader.cli, course_grader.grading.grade, course_grader.grading.batch, "
            "course_grader.grading.report, course_grader.grading.gradebook; print('torch' in sys.modules)")
    times, torch = [], False
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
        torch = torch or done.stdout.strip() == "True"
    return statistics.median(times), torch


def gradebook_seconds(settings, count: int) -> float:
    """Writing a new gradebook.db with ``count`` results of one assignment."""
    from course_grader.assignment import load
    from course_grader.grading.gradebook import record_grades
    from course_grader.grading.results import GradeResult, TestResult
    from course_grader.notebook import grade_id, points

    assignment = load(settings, "pooling")
    tests = [TestResult(name=grade_id(c), points=points(c), max_points=points(c), passed=True)
             for c in assignment.test_cells if grade_id(c)]
    results = [GradeResult(assignment="pooling", student=f"s{i:03d}", tests=list(tests), score=1, max_score=1)
               for i in range(count)]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        record_grades(Path(tmp) / "gradebook.db", results, settings, {"pooling": assignment})
        return time.perf_counter() - start


def class_run(settings, students: int, jobs: int, names: list) -> dict:
    import nbformat
    from course_grader.authoring.examples import fill_solutions
    from course_grader.grading.batch import grade_folder
    from course_grader.notebook import read_notebook

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        submitted = Path(tmp) / "submitted"
        for a in names:
            nb = fill_solutions(read_notebook(settings.release_notebook(a)), read_notebook(settings.source_notebook(a)))
            for i in range(students):
                path = submitted / f"s{i:03d}" / a / f"{a}.ipynb"
                path.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, path)
        for kernel_mode in ("fresh", "prewarmed"):
            start = time.perf_counter()
            results = grade_folder(replace(settings, kernel_mode=kernel_mode), submitted,
                                   Path(tmp) / f"out-{kernel_mode}", jobs=jobs, progress=False)
            seconds = time.perf_counter() - start
            assert all(r.status == "graded" for r in results), [r.error for r in results if r.error]
            out[kernel_mode] = (len(results), seconds)
    return out


def main(argv=None) -> int:
    from course_grader.config import load_settings
    from course_grader.execution import zygote
    from course_grader.assignment import load
    from course_grader.grading.grade import prepared, reference_records
    from course_grader.grading.reference import attach
    from course_grader.notebook import read_notebook

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--class-assignments", default="",
                        help="comma-separated assignments of the class run (default: all)")
    parser.add_argument("--class-only", action="store_true", help="run the class run alone")
    args = parser.parse_args(argv)
    settings = load_settings(ROOT)
    if zygote.mode(settings)[0] != "prewarmed":
        print(f"pre-warmed kernels cannot run here: {zygote.mode(settings)[1]}")
        return 1
    names = args.assignments or settings.assignments()
    in_class = [a for a in args.class_assignments.split(",") if a] or settings.assignments()
    unknown = sorted(set(in_class) - set(settings.assignments()))
    if unknown:
        print(f"unknown assignments: {', '.join(unknown)} (known: {', '.join(settings.assignments())})")
        return 2
    if args.class_only:
        class_report(settings, args.students, args.jobs, in_class)
        return 0
    print(f"{os.cpu_count()} cores; median of {args.repeats}; reference submissions")
    rows = []
    for assignment in names:
        nb = read_notebook(settings.source_notebook(assignment))
        reference_records(settings, assignment)
        for kernel_mode in ("fresh", "prewarmed"):
            s = replace(settings, kernel_mode=kernel_mode)
            zygote.server_for(s)             # started and ready, as in a batch after its first kernel
            # as a batch's worker grades: the assignment read once, its reference records
            # attached and what grading derives from its notebooks prepared (batch.grade_folder)
            loaded = attach(s, load(s, assignment))
            prepared(loaded)
            runs = [grade_once(s, loaded, nb) for _ in range(args.repeats)]
            medians = [statistics.median(r[phase] for r in runs) for phase in PHASES]
            rows.append([assignment, kernel_mode] + [f"{m:.2f}" for m in medians])
            print(f"  {assignment}, {kernel_mode}: {medians[-1]:.1f} s", file=sys.stderr)
    zygote.close_all()
    print(table(["assignment", "kernels", *PHASES], rows))
    light = names[0] if "conv_from_scratch" not in names else "conv_from_scratch"
    checks = {m: statistics.median(check_seconds(light, m) for _ in range(args.repeats))
              for m in ("fresh", "prewarmed", "auto")}
    print(f"\n`course check` of the {light} reference, end to end: fresh {checks['fresh']:.1f} s, "
          f"pre-warmed {checks['prewarmed']:.1f} s, default (auto: pre-warmed where the sandbox runs) {checks['auto']:.1f} s")
    seconds, torch = grader_start(args.repeats)
    print(f"\ngrader start (a new process's imports): {seconds:.2f} s, torch {'imported' if torch else 'not imported'}")
    print(f"gradebook.db, new: 1 result {gradebook_seconds(settings, 1):.2f} s, "
          f"100 results {gradebook_seconds(settings, 100):.2f} s")
    alone = statistics.median(server_ready_seconds(settings, 1) for _ in range(args.repeats))
    together = statistics.median(server_ready_seconds(settings, args.jobs) for _ in range(args.repeats))
    print(f"\nfork server start until ready: one alone {alone:.2f} s, {args.jobs} at once (one per worker) "
          f"{together:.2f} s")
    server, forked, fresh = memory(settings)
    print(f"\nPSS: fork server {server:.0f} MB, a forked kernel {forked:.0f} MB (server + one kernel "
          f"{server + forked:.0f} MB), a fresh kernel {fresh:.0f} MB")
    if args.students:
        class_report(settings, args.students, args.jobs, in_class)
    return 0


def class_report(settings, students: int, jobs: int, names: list) -> None:
    """The class run of ``students`` x ``names``, both modes, as a table and a speed-up."""
    from course_grader.grading.grade import reference_records

    for name in names:                       # reference records cached before the clock starts
        reference_records(settings, name)
    runs = class_run(settings, students, jobs, names)
    rows = []
    for kernel_mode, (count, seconds) in runs.items():
        per_minute = count / seconds * 60
        projected = 300 * len(names) / (4 * per_minute)
        rows.append([kernel_mode, count, f"{seconds:.1f}", f"{per_minute:.1f}", f"{projected:.0f}"])
    print(f"\nclass run: {students} students x {len(names)} assignments ({', '.join(names)}), --jobs {jobs}")
    print(table(["kernels", "submissions", "seconds", "per minute", f"300 x {len(names)} on 4 runners, min"], rows))
    print(f"speed-up: {runs['fresh'][1] / runs['prewarmed'][1]:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
