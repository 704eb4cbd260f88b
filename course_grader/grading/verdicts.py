"""Every test's verdict on an executed notebook: points, or the reason they were lost.

A test cell earns its points when it ran without error and each of the reference's records
matches the run's record of the same name (``judge.compare``); otherwise the message says what
failed, never the hidden test's code.
"""
from __future__ import annotations

import re

from ..execution.session import RunResult
from ..config import Settings
from ..notebook import defined_names, grade_id, is_test, points
from . import judge, missing_modules
from .results import TestResult
from .safe_text import HiddenCode, error_parts


def judge_run(run: RunResult, reference: dict, settings: Settings, annotate: bool = False,
              hidden: HiddenCode | None = None) -> tuple:
    """What grading makes of an executed notebook: ``(tests, notes on the run, score)``.
    (grade_notebook; the variant tests' harness judges its runs with it too.) ``annotate``: also
    give each test cell its verdicts as an output (``add_instructor_outputs``; for autograded/,
    never the feedback), from the same comparisons. ``hidden``: the assignment's hidden tests;
    errors of the test cells that quote them (student code can read them while a test runs) are
    shown without their message, in the results and in the notebook's error outputs."""
    if hidden is not None:
        _clean_test_errors(run, hidden)
    tests, verdicts = _judge(run, reference, run.fatal)
    if annotate:
        add_instructor_outputs(run, reference, tests, verdicts)
    notes = missing_modules.notes(run, is_test) + _stopped_cells(run, settings)
    return tests, notes, round(sum(t.points for t in tests), 4)


def _clean_test_errors(run: RunResult, hidden: HiddenCode) -> None:
    """Make every test cell's error (its outcome and its error outputs) safe to show: no
    exception name or message that quotes the hidden tests (``safe_text.error_parts``)."""
    for index, cell in enumerate(run.notebook.cells):
        if not is_test(cell):
            continue
        outcome = run.cells.get(index)
        if outcome is not None and (outcome.ename or outcome.evalue):
            outcome.ename, outcome.evalue = error_parts(outcome.ename, outcome.evalue, hidden)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                ename, evalue = error_parts(output.get("ename"), output.get("evalue"), hidden)
                if (ename, evalue) != (output.get("ename"), output.get("evalue")) or any(
                        hidden.quotes(line) for line in output.get("traceback", [])):
                    output["ename"], output["evalue"] = ename, evalue
                    output["traceback"] = [f"{ename}: {evalue}"]


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
        why = str(outcome.evalue or "")
        why = (why[len("the cell "):] if why.startswith("the cell ")      # CPU time, waiting, backstop
               else f"ran longer than {settings.cell_timeout} s and was stopped")
        notes.append(f"{what} {why}")
    return notes


def _judge(run: RunResult, reference: dict, fatal: str) -> tuple:
    """``(tests, {test grade_id: record_verdicts of a cell that ran without error})``."""
    tests, verdicts = [], {}
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
            message += _defined_below(outcome, run, index) + no_gpu_hint(outcome.evalue)
        else:
            verdicts[gid] = record_verdicts(outcome, reference.get(gid, []))
            problems = [f"{name}: {problem}" for name, problem in verdicts[gid] if problem]
            message = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
        passed = not message
        tests.append(TestResult(name=gid, points=max_points if passed else 0.0, max_points=max_points,
                                passed=passed, message=message,
                                status=outcome.status if outcome else "not_run"))
    return tests, verdicts


def record_verdicts(outcome, expected: list) -> list:
    """``[(name, problem or None)]`` for each of the reference's records of a test cell that ran:
    None where the run's record of that name matches."""
    got, repeated = {}, set()
    for name, payload in outcome.records:
        if name in got:
            repeated.add(name)
        got.setdefault(name, payload)
    # the test records each name once (the reference's names are unique): a second record of the
    # name came from the notebook's own code, and the first may have too
    return [(name, judge.REPEATED if name in repeated else judge.compare(want, got.get(name)))
            for name, want in expected]


#: marks the output grading adds to each test cell of the autograded notebook (instructor only:
#: the feedback keeps no output of a test cell but its error line)
INSTRUCTOR_OUTPUT = "course_grader_verdicts"


def add_instructor_outputs(run: RunResult, reference: dict, tests: list, verdicts: dict) -> None:
    """Give each test cell of the executed notebook an output that says why it got its points:
    every record of the reference with its verdict (``verdicts``, from ``_judge``), or the
    records made before the cell failed and why, so that nbgrader's formgrader (which shows the
    autograded notebook) explains every lost point."""
    import html

    import nbformat

    by_name = {t.name: t for t in tests}
    for index, cell in enumerate(run.notebook.cells):
        test = by_name.get(grade_id(cell)) if is_test(cell) else None
        if test is None:
            continue
        outcome = run.cells.get(index)
        head = (f"course grade: {test.name} {'passed' if test.passed else 'failed'}, "
                f"{test.points:g} / {test.max_points:g} points")
        expected = reference.get(test.name, [])
        if test.name in verdicts:
            judged = verdicts[test.name]
        else:                      # the records made before the cell failed, then why it failed
            made = {name for name, _ in outcome.records} if outcome is not None else set()
            judged = [v for v in record_verdicts(outcome, expected) if v[0] in made] if made else []
        lines = [f"{'ok  ' if problem is None else 'FAIL'} {name}" + (f": {problem}" if problem else "")
                 for name, problem in judged]
        if test.name not in verdicts:
            lines.append(f"FAIL {test.message}" if test.message else "FAIL the cell did not finish")
            if len(judged) < len(expected):
                lines.append(f"     ({len(expected) - len(judged)} of {len(expected)} records not reached)")
        text = "\n".join([head] + lines) + "\n"
        rows = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
        colour = "#1a7f37" if test.passed else "#cf222e"
        page = (f'<div style="border-left:4px solid {colour};padding:2px 8px">'
                f"<b>{html.escape(head)}</b><ul style=\"margin:2px 0\">{rows}</ul></div>")
        output = nbformat.v4.new_output("display_data", data={"text/plain": text, "text/html": page},
                                        metadata={INSTRUCTOR_OUTPUT: True})
        cell.setdefault("outputs", []).append(output)


def _record_being_checked(outcome, expected: list) -> str:
    """The record a test cell was computing when it failed in its hidden part: the first of the
    reference's records that the run did not make, once it made some (records come only from the
    hidden part), so that feedback on a crash names the kind of input, as it does for a wrong
    value. "" otherwise (a failure in the visible part, or before the first record)."""
    made = {name for name, _ in outcome.records}
    if not made:
        return ""
    return next((name for name, _ in expected if name not in made), "")


#: What torch says when code asks for CUDA on a machine without a GPU (as the grader's).
_NO_GPU = re.compile(r"Found no NVIDIA driver|Torch not compiled with CUDA enabled|No CUDA GPUs are available"
                     r"|CUDA driver initialization failed|no kernel image is available|Cannot access accelerator")


def no_gpu_hint(evalue) -> str:
    """For an error that torch raised because the code asked for a GPU: what that means here
    (torch's own words speak of drivers and installations). "" for any other error."""
    if not _NO_GPU.search(str(evalue or "")):
        return ""
    return (" (the grading machine has no GPU: code that picks 'cuda' itself fails there; use the "
            "device a test passes, or the device of the model's parameters)")


_UNDEFINED = re.compile(r"^name '([A-Za-z_]\w*)' is not defined")


def _defined_below(outcome, run: RunResult, index: int) -> str:
    """For a test that failed with NameError on a function or class that the notebook's own code
    defines only in a cell below the test: says so (Run all, as grading, runs cells from the
    top, so the test ran before that cell), instead of a bare "not defined". "" otherwise."""
    if outcome.ename != "NameError":
        return ""
    found = _UNDEFINED.match(str(outcome.evalue or ""))
    if not found:
        return ""
    name = found.group(1)
    for cell in run.notebook.cells[index + 1:]:
        if cell.get("cell_type") == "code" and not is_test(cell) \
                and name in defined_names(str(cell.get("source", ""))):
            return (f" ({name} is defined in a cell below this test: cells run from the top, as "
                    f"Run all runs them, so define {name} in a cell above the test)")
    return ""


def _first_line_block(message: str, limit: int = 500) -> str:
    message = message.strip()
    return message if len(message) <= limit else message[:limit] + " ..."

