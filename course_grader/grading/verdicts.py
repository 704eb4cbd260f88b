"""Every test's verdict on an executed notebook: points, or the reason they were lost.

A test cell earns its points when it ran without error and each of the reference's records
matches the run's record of the same name (``judge.compare``); otherwise the message says what
failed, never the hidden test's code.
"""
from __future__ import annotations

from ..execution.session import RunResult
from ..config import Settings
from ..notebook import grade_id, is_test, points
from . import judge, missing_modules
from .results import TestResult


def judge_run(run: RunResult, reference: dict, settings: Settings) -> tuple:
    """What grading makes of an executed notebook: ``(tests, notes on the run, score)``.
    (grade_notebook; the variant tests' harness judges its runs with it too.)"""
    tests = _judge(run, reference, run.fatal)
    notes = missing_modules.notes(run, is_test) + _stopped_cells(run, settings)
    return tests, notes, round(sum(t.points for t in tests), 4)


def _stopped_cells(run: RunResult, settings: Settings) -> list:
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


def _judge(run: RunResult, reference: dict, fatal: str) -> list:
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

