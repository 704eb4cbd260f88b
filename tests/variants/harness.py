"""Grade every variant of an assignment in one grading kernel (the fast path of test_variants.py).

The real grader (``course_grader.grading.grade.grade_notebook``) starts a kernel for each submission and
runs the whole notebook: 6 to 35 s a submission, too slow for ~175 variants in CI. This harness
grades a variant as the grader would, but shares one kernel between the variants of an assignment:

1. The reference submission (the release filled with the reference answers, as in
   test_grading.py) and each variant's submission go through the grader's own merge
   (``build_graded_notebook``): the notebooks the grader would run. They differ only in the
   variant's answer cells; the first of them is the variant's *start*.
2. One kernel, started as the grader starts it (``KernelSession`` of
   ``course_grader.execution.session``: the sandboxed kernel manager, the kernel environment, the
   prelude that sets seeds and threads), runs the reference
   notebook once, up to its last test cell, and keeps a snapshot of its state before every answer
   cell (``kernel_state.py``: names, random generators, torch switches, figures, and a fingerprint
   of what code can change in place).
   "As the grader" means through the grader's own ``KernelSession``: ``start()`` (the sandboxed
   kernel manager, the kernel's environment, the prelude), ``run()`` for every cell (the fresh
   test helpers before test cells, time limits, output cap, records) and ``close()``.
3. A variant: the state kept before its start is put back (a fresh kernel replays the cells
   before the start instead when something was changed that cannot be put back), then the cells
   from the start to the last test cell run with the variant's code. The cells before the start
   keep the reference run's results: same code, same state. The random generators go back to
   their state before the start in the reference run, which is the state the grader's own run
   has there (re-seeding would differ from it wherever earlier cells drew random numbers). The
   time limit of the whole notebook counts the reference run's time before the start.
4. The run (the reference run's cells before the start, the new run's from it) is judged as
   ``grade_notebook`` judges a run (``verdicts.judge_run``: the same judge, notes and score) against
   the grader's reference records (``reference.attach``, as a batch attaches them).

Cells after the last test cell never run: they cannot change a test's result. Variants are best
graded by start, last first (``ordered``): a run from a start only ever follows runs from later
starts, so everything before it has only ever run the reference code (when graded out of order,
a run starts at the earliest start of itself and the run before it).
``tests/end_to_end/test_variants.py`` checks the harness against the real grader.
"""
from __future__ import annotations

import ast
import copy
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat

from course_grader.assignment import load
from course_grader.grading.reference import attach
from course_grader.grading import cascade
from course_grader.grading.verdicts import judge_run
from course_grader.execution.session import CellResult, KernelSession, RunResult
from course_grader.config import Settings
from course_grader.authoring.examples import fill_solutions
from course_grader.grading.merge import build_graded_notebook
from course_grader.notebook import grade_id, is_solution, is_test

STATE_MODULE = "_course_variant_state"
STATE_SOURCE = (Path(__file__).with_name("kernel_state.py")).read_text(encoding="utf-8")


class HarnessError(Exception):
    """The harness cannot grade this (a broken reference run, a variant that reshapes the notebook)."""


@dataclass
class VariantResult:
    assignment: str
    variant: str
    tests: list                    # results.TestResult, one per test cell, as grade_notebook makes them
    score: float
    max_score: float
    notes: list = field(default_factory=list)   # the merge's remarks (tampering), as in GradeResult
    run_error: str = ""            # why the run stopped early, as GradeResult.run_error
    start: int = 0                 # first cell that ran again
    fresh_kernel: str = ""         # why a fresh kernel was needed, if it was
    seconds: float = 0.0

    @property
    def failed(self) -> set:
        return {t.name for t in self.tests if not t.passed}


def first_changed(source_nb, variant) -> int:
    """Position in the source notebook of the first cell ``variant`` replaces (to order variants)."""
    where = {grade_id(c): i for i, c in enumerate(source_nb.cells) if grade_id(c)}
    unknown = sorted(set(variant.replace) - set(where))
    if unknown:
        raise HarnessError(f"variant {variant.name} replaces cells the assignment does not have: {unknown}")
    return min(where[g] for g in variant.replace)


def ordered(source_nb, variants) -> list:
    """``variants`` by first replaced cell, last first (ties keep their order)."""
    return sorted(variants, key=lambda v: -first_changed(source_nb, v))


class _Kernel:
    """One grading kernel: the grader's own ``KernelSession`` (course_grader.execution.session),
    plus the harness's silent requests (snapshots of the kernel's state)."""

    def __init__(self, settings: Settings, workdir: Path, n_cells: int):
        self.settings, self.workdir = settings, workdir
        self.quiet_seconds = 0.0
        self.session = KernelSession(settings, workdir)
        self.session.start()
        self.started, self.client = self.session.started, self.session.client
        if self.fatal:
            return
        self.quiet(f"import sys as _s, types as _t\n"
                   f"_m = _t.ModuleType({STATE_MODULE!r})\n"
                   f"exec(compile({STATE_SOURCE!r}, 'kernel_state.py', 'exec'), _m.__dict__)\n"
                   f"_s.modules[{STATE_MODULE!r}] = _m\n"
                   f"del _s, _t, _m\n")

    @property
    def fatal(self) -> str:
        return self.session.fatal

    @fatal.setter
    def fatal(self, value: str) -> None:
        self.session.fatal = value

    def run_cell(self, i: int, cell, result: CellResult, remaining: float) -> None:
        """Run ``cell`` as cell ``i``, as run_notebook does (``KernelSession.run``), filling in ``result``."""
        self.session.run(cell, i, result, remaining)

    def quiet(self, code: str, expression: str | None = None, timeout: int = 300):
        """Run harness code in the kernel without a cell (silent: no history, no execution count);
        return the JSON value of ``expression`` when given."""
        t0 = time.monotonic()
        try:
            return self._quiet(code, expression, timeout)
        finally:
            self.quiet_seconds += time.monotonic() - t0

    def _quiet(self, code, expression, timeout):
        kc = self.client.kc
        msg_id = kc.execute(code, silent=True, store_history=False, allow_stdin=False,
                            stop_on_error=False, user_expressions={"r": expression} if expression else {})
        self.client.timeout = timeout
        self.client.timed_out = False
        reply = self.client.wait_for_reply(msg_id)
        content = (reply or {}).get("content", {})
        if content.get("status") != "ok":
            raise HarnessError(f"the harness's own code failed in the kernel: "
                               f"{content.get('ename', 'no reply')}: {content.get('evalue', '')}")
        if expression is None:
            return None
        value = content["user_expressions"]["r"]
        if value.get("status") != "ok":
            raise HarnessError(f"the harness's own code failed in the kernel: {value.get('ename')}: "
                               f"{value.get('evalue')}")
        return json.loads(ast.literal_eval(value["data"]["text/plain"]))

    def snapshot(self, key: int) -> None:
        self.quiet(f"__import__('sys').modules[{STATE_MODULE!r}].snapshot({key})")

    def has_snapshot(self, key: int) -> bool:
        return self.quiet("", f"__import__('json').dumps(__import__('sys').modules[{STATE_MODULE!r}].has({key}))")

    def restore(self, key: int) -> list:
        return self.quiet("", f"__import__('json').dumps(__import__('sys').modules[{STATE_MODULE!r}].restore({key}))")

    def cpu_seconds(self) -> float:
        """CPU time the kernel has used so far (0 when it cannot answer)."""
        try:
            return float(self.quiet("", "__import__('json').dumps(__import__('time').process_time())", timeout=10))
        except Exception:
            return 0.0

    def close(self) -> None:
        """Stop the kernel as run_notebook does (``KernelSession.close``: the kernel and all it started)."""
        self.session.close()


class AssignmentHarness:
    """The variants of one assignment, graded in one kernel (see the module's docstring)."""

    def __init__(self, settings: Settings, assignment: str, workdir: Path | None = None):
        self.settings, self.assignment = settings, assignment
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"variants-{assignment}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        loaded = attach(settings, load(settings, assignment))
        self.source, self.release = loaded.source, loaded.release()
        # the autograder's part: variants leave the answers graded by hand (reflections) as released
        self.reference, self.max_score, self.points = loaded.reference, loaded.auto_max, loaded.points
        self.submission = fill_solutions(self.release, self.source)
        self.base, notes = build_graded_notebook(self.source, self.submission)
        if notes:
            raise HarnessError(f"{assignment}: the reference submission is not graded cleanly: {notes}")
        cells = self.base.cells
        self.last_test = max(i for i, c in enumerate(cells) if is_test(c) and grade_id(c))
        self.snapshot_at = {i for i, c in enumerate(cells) if is_solution(c) and c.cell_type == "code"}
        self.kernel: _Kernel | None = None
        self.kernels_started = 0
        self.kernel_cpu_seconds = 0.0     # CPU time of the closed kernels (a measure of the cost)
        self._dirty_from: int | None = None
        self.baseline: dict = {}
        self.baseline, self.elapsed_before, self.baseline_cells = self._fresh_kernel(self.last_test + 1)
        run = RunResult(notebook=self._executed(self.base, self.baseline_cells),
                               cells=self.baseline, fatal=self.kernel.fatal)
        tests, run_notes, _ = judge_run(run, self.reference, settings)
        wrong = [(t.name, t.message) for t in tests if not t.passed] + run_notes
        if wrong or self.kernel.fatal:
            raise HarnessError(f"{assignment}: the reference answers do not earn full marks in the "
                               f"harness: {self.kernel.fatal or wrong}")

    # ------------------------------------------------------------------ kernels

    def _fresh_kernel(self, upto: int) -> tuple:
        """A new kernel that has run the reference cells before ``upto``, with snapshots before
        the answer cells and before ``upto``. Returns ({cell: CellResult}, {cell: seconds since
        the kernel was being started, before the cell ran})."""
        self.close_kernel()
        workdir = Path(tempfile.mkdtemp(prefix="run-", dir=self.workdir))
        nbformat.write(self.submission, workdir / f"{self.assignment}.ipynb")   # as _prepare_scratch
        kernel = self.kernel = _Kernel(self.settings, workdir, len(self.base.cells))
        self.kernels_started += 1
        self._dirty_from = None
        results, elapsed, executed = {}, {}, {}
        deadline = kernel.started + self.settings.notebook_timeout
        for i, cell in enumerate(self.base.cells[:upto]):
            elapsed[i] = time.monotonic() - kernel.started
            if kernel.fatal or cell.cell_type != "code":
                continue
            if i in self.snapshot_at:
                kernel.snapshot(i)
            result = results[i] = CellResult(index=i)
            executed[i] = _fresh_copy(cell)
            kernel.run_cell(i, executed[i], result, deadline - time.monotonic())
            expected = self.baseline.get(i)
            if expected is not None and (result.status, result.ename) != (expected.status, expected.ename):
                kernel.fatal = kernel.fatal or (f"cell {i} ran differently than in the first run: "
                                                f"{result.status} {result.ename}: {result.evalue}")
        elapsed[upto] = time.monotonic() - kernel.started
        if not kernel.fatal and upto < len(self.base.cells):
            kernel.snapshot(upto)
        if kernel.fatal:
            raise HarnessError(f"{self.assignment}: the reference cells do not run in the harness: {kernel.fatal}")
        return results, elapsed, executed

    def close_kernel(self) -> None:
        if self.kernel is not None:
            kernel, self.kernel = self.kernel, None
            if not kernel.fatal:
                self.kernel_cpu_seconds += kernel.cpu_seconds()
            kernel.close()

    def close(self) -> None:
        self.close_kernel()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # ------------------------------------------------------------------ grading

    def variant_notebook(self, variant):
        """The notebook the grader runs for ``variant``, its merge notes, and the changed cells."""
        submission = fill_solutions(self.release, self.source, replace=variant.replace)
        nb, notes = build_graded_notebook(self.source, submission)
        same_shape = len(nb.cells) == len(self.base.cells) and all(
            a.cell_type == b.cell_type and a.get("metadata") == b.get("metadata")
            for a, b in zip(nb.cells, self.base.cells))
        if not same_shape:
            raise HarnessError(f"{self.assignment}/{variant.name}: the variant changes the notebook's "
                               "cells, not only answers: grade it with the real grader")
        changed = [i for i, (a, b) in enumerate(zip(nb.cells, self.base.cells)) if a.source != b.source]
        return nb, notes, changed

    def grade(self, variant) -> VariantResult:
        t0 = time.monotonic()
        nb, notes, changed = self.variant_notebook(variant)
        settings = self.settings
        results = {i: replace(r, records=list(r.records)) for i, r in self.baseline.items()}
        executed = dict(self.baseline_cells)
        start = changed[0] if changed else self.last_test + 1
        why_fresh = ""
        run_error = ""
        if start <= self.last_test:
            if self._dirty_from is not None:
                start = min(start, self._dirty_from)
            why_fresh = self._prepare(start)
            self._dirty_from = start
            kernel = self.kernel
            deadline = time.monotonic() + settings.notebook_timeout - self.elapsed_before[start]
            try:
                for i in range(start, self.last_test + 1):
                    if nb.cells[i].cell_type == "code":
                        results[i] = CellResult(index=i)      # not_run until it runs
                        executed[i] = _fresh_copy(nb.cells[i])
                for i in range(start, self.last_test + 1):
                    cell = nb.cells[i]
                    if kernel.fatal:
                        break
                    if cell.cell_type != "code":
                        continue
                    result = results[i]
                    remaining = deadline - time.monotonic()
                    if remaining <= 1:
                        run_error = (f"the notebook ran longer than {settings.notebook_timeout} s; "
                                     "later cells were not run")
                        break
                    kernel.run_cell(i, executed[i], result, remaining)
            except Exception as e:  # as run_notebook: the client broke
                kernel.fatal = kernel.fatal or f"the kernel failed: {type(e).__name__}: {e}"
            run_error = kernel.fatal or run_error
            if kernel.fatal:
                self.close_kernel()
        run = RunResult(notebook=self._executed(nb, executed), cells=results, fatal=run_error)
        tests, run_notes, score = judge_run(run, self.reference, settings)
        cascade.explain(tests, self.source, nb)          # as grade_notebook: "fix im2col first"
        return VariantResult(
            assignment=self.assignment, variant=variant.name, tests=tests,
            score=score, max_score=self.max_score, notes=notes + run_notes,
            run_error=run_error, start=start, fresh_kernel=why_fresh,
            seconds=round(time.monotonic() - t0, 2))

    @staticmethod
    def _executed(nb, executed: dict):
        """``nb`` with its cells replaced by their executed copies (outputs, errors), as
        run_notebook returns it."""
        nb = copy.copy(nb)
        nb.cells = [executed.get(i, cell) for i, cell in enumerate(nb.cells)]
        return nb

    def _prepare(self, start: int) -> str:
        """Bring the kernel to the reference state before cell ``start``; say why a fresh kernel
        was needed, if one was ("" when the kept state could be put back)."""
        why = ""
        if self.kernel is None or self.kernel.fatal:
            why = "no usable kernel"
        else:
            try:
                if not self.kernel.has_snapshot(start):
                    why = f"no snapshot before cell {start}"
                else:
                    problems = self.kernel.restore(start)
                    why = "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
            except Exception as e:   # the last variant left a kernel that no longer answers
                why = f"the kernel did not answer: {e}"
        if why:
            self._fresh_kernel(start)
        return why

    def lost_points(self, variant) -> float:
        return sum(self.points[t] for t in variant.lost)


def _fresh_copy(cell):
    cell = copy.deepcopy(cell)
    cell.outputs = []
    cell.execution_count = None
    return cell


class HarnessPool:
    """The harnesses of one test session (one xdist worker): one kernel per assignment, started
    on first use and closed once the assignment's last test has run (``expect``/``done``), or at
    the end of the session."""

    def __init__(self, settings: Settings, workdir: Path):
        self.settings, self.workdir = settings, Path(workdir)
        self.harnesses: dict = {}
        self.pending: dict = {}          # assignment -> tests still to run
        self.results: dict = {}          # (assignment, variant name) -> VariantResult

    def expect(self, assignment: str, tests: int = 1) -> None:
        self.pending[assignment] = self.pending.get(assignment, 0) + tests

    def done(self, assignment: str) -> None:
        self.pending[assignment] = self.pending.get(assignment, 0) - 1
        if self.pending[assignment] <= 0 and assignment in self.harnesses:
            self.harnesses.pop(assignment).close()

    def get(self, assignment: str) -> AssignmentHarness:
        if assignment not in self.harnesses:
            self.harnesses[assignment] = AssignmentHarness(self.settings, assignment,
                                                           self.workdir / assignment)
        return self.harnesses[assignment]

    def grade(self, assignment: str, variant) -> VariantResult:
        key = (assignment, variant.name)
        if key not in self.results:
            self.results[key] = self.get(assignment).grade(variant)
        return self.results[key]

    def close(self) -> None:
        while self.harnesses:
            self.harnesses.popitem()[1].close()
