"""Runs like Colab: the student's path, end to end, in an environment without the grader.

The Colab-like environment (tests/colab_env.py) has what Colab has (torch, torchvision,
matplotlib, numpy, tqdm, ipykernel, ipywidgets) plus course_utils pip-installed from the
published student repository, and neither nbgrader nor course_grader. In it:

- every release notebook, with the reference answers typed into its answer cells, runs top to
  bottom as a student runs it (inline plots; the notebooks' own demonstration training gets the
  one-epoch budget that course_utils.budget documents for grading): every visible test passes
  and every cell that draws shows its figure;
- every untouched release notebook stops at its first unimplemented part with a
  NotImplementedError that names the function to write, raised in the notebook's own code;
- the setup cell does nothing outside Colab.

Then, with the grader: a notebook saved the way Colab saves it (new cell ids, nbformat 4.0,
Colab's metadata, outputs) grades to full marks without tamper notes, and a wrong answer that
passes every visible test, saved the same way, loses exactly its hidden test, with feedback that
names the part and the kind of input that failed, without showing the hidden test's code.
"""
from __future__ import annotations

import html
import importlib
import json
import re
import warnings

import nbformat
import pytest
from nbformat.warnings import MissingIDFieldWarning

from course_grader.grading import report
from course_grader.grading.grade import grade_notebook, reference_records
from course_grader.notebook import HIDDEN_RE, SOLUTION_RE, is_solution, is_test
from course_grader.authoring.leaks import LEAK_MARKERS
from course_grader.authoring.release import SETUP_ID
from tests.colab_env import colab, colab_saved, execute, published  # noqa: F401 (fixtures)
from tests.conftest import assignments, needs_mnist
from tests.helpers import fill_solutions, grade_nb, release_nb, source_nb

pytestmark = [needs_mnist, pytest.mark.slow]

ANSI = re.compile(r"\x1b\[[0-9;]*m")
STUB_MESSAGE = re.compile(r'raise NotImplementedError\("(([\w.]+) is not implemented yet: replace this '
                          r'line with your code)"\)')
# Calls that draw a figure, in the notebooks' own cells (not in definitions of plot functions).
DRAWS = re.compile(r"(?<!def )\b(?:show_images|plot_\w+)\s*\(|\bplt\.(?:subplots|figure|imshow|plot)\s*\(")


def subtle_variant(assignment: str):
    """One wrong answer that passes every visible test and fails a hidden one: the variants file's
    ``SUBTLE_VARIANT`` (tests/variants/<assignment>.py; docs/authoring.md, "Tests of an
    assignment"); a clear failure when none is named."""
    module = importlib.import_module(f"tests.variants.{assignment}")
    name = getattr(module, "SUBTLE_VARIANT", None)
    if name is None:
        pytest.fail(f"tests/variants/{assignment}.py names no SUBTLE_VARIANT: set it to a variant "
                    "that passes every visible test and loses exactly one hidden test "
                    "(docs/authoring.md, \"Tests of an assignment\")")
    variants = {v.name: v for v in module.VARIANTS}
    if name not in variants:
        pytest.fail(f"SUBTLE_VARIANT {name!r} of {assignment} is not in tests/variants/{assignment}.py")
    return variants[name]


def _published_nb(published, assignment):
    return nbformat.read(published / "release" / assignment / f"{assignment}.ipynb", as_version=4)


def _errors(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def _images(cell) -> int:
    return sum(1 for o in cell.get("outputs", []) if "image/png" in o.get("data", {}))


# ------------------------------------------------------------------------ in the Colab-like env

@pytest.mark.parametrize("assignment", assignments())
def test_reference_answers_run_like_colab(settings, published, colab, assignment, tmp_path):
    nb = fill_solutions(_published_nb(published, assignment), source_nb(settings, assignment))
    ran = execute(nb, colab, tmp_path / "content")
    problems = [f"cell {c.get('id')}: {e['ename']}: {e['evalue']}"
                for c in ran.cells if c.cell_type == "code" for e in _errors(c)]
    assert problems == [], problems
    assert all(c.execution_count for c in ran.cells if c.cell_type == "code"), "a cell did not run"
    setup = next(c for c in ran.cells if c.get("id") == SETUP_ID)
    assert setup.outputs == [], f"the setup cell did something outside Colab: {setup.outputs}"
    drawn = 0
    for cell in ran.cells:
        if cell.cell_type != "code" or is_test(cell) or is_solution(cell):
            continue
        expected = len(DRAWS.findall(cell.source))
        assert _images(cell) >= expected, \
            f"cell {cell.get('id')} draws {expected} figure(s) but shows {_images(cell)}"
        drawn += _images(cell)
    assert drawn >= 1, "no figure was shown"
    assert not any("Traceback" in o.get("text", "") for c in ran.cells if c.cell_type == "code"
                   for o in c.outputs if o.get("output_type") == "stream" and o.get("name") == "stderr")


@pytest.mark.parametrize("assignment", assignments())
def test_untouched_release_stops_at_the_first_part_to_write(published, colab, assignment, tmp_path):
    nb = _published_nb(published, assignment)
    stubs = [m for c in nb.cells if is_solution(c) for m in STUB_MESSAGE.finditer(c.source)]
    assert stubs, "the release has no worded stub"
    ran = execute(nb, colab, tmp_path / "content", stop_on_error=True)
    failing = [c for c in ran.cells if c.cell_type == "code" and _errors(c)]
    assert len(failing) == 1, "Run all should stop at the first error"
    error = _errors(failing[0])[0]
    assert (error["ename"], error["evalue"]) == ("NotImplementedError", stubs[0].group(1)), \
        f"cell {failing[0].get('id')} failed with {error['ename']}: {error['evalue']}"
    frames = [ANSI.sub("", f) for f in error["traceback"]]
    innermost = frames[-2] if len(frames) >= 2 else ""
    assert "Cell In[" in innermost and "site-packages" not in innermost, \
        f"the error is not raised in the notebook's own code:\n{innermost}"
    assert stubs[0].group(2).split(".")[-1] in innermost
    setup = next(c for c in ran.cells if c.get("id") == SETUP_ID)
    assert setup.execution_count and setup.outputs == []


# ------------------------------------------------------------------------ with the grader

#: The full-marks round trip runs on two notebooks of different shapes (a locked helper cell, two
#: answer cells before their tests); the subtle-mistake test below grades a Colab-saved
#: submission of every assignment.
ROUND_TRIP = ["conv_from_scratch", "pooling"]


@pytest.mark.parametrize("assignment", ROUND_TRIP)
def test_notebook_saved_by_colab_grades_full_marks(settings, assignment, tmp_path):
    nb = fill_solutions(release_nb(settings, assignment), source_nb(settings, assignment))
    text = colab_saved(nb, seed=len(assignment))
    saved = json.loads(text)
    assert saved["nbformat_minor"] == 0 and "accelerator" in saved["metadata"]
    assert all("id" not in c and c["metadata"]["id"] for c in saved["cells"])  # Colab's ids only
    result = grade_nb(settings, assignment, text, tmp_path)
    assert result.status == "graded" and not result.error and not result.run_error, result
    assert result.score == result.auto_max, [(t.name, t.message) for t in result.tests if not t.passed]
    assert result.notes == []


def _hidden_lines(source) -> set:
    public = {l.strip() for c in source.cells for l in HIDDEN_RE.sub("", c.source).splitlines()}
    hidden = {l.strip() for c in source.cells for m in HIDDEN_RE.finditer(c.source)
              for l in m.group(0).splitlines()[1:-1]}
    solution = {l.strip() for c in source.cells for m in SOLUTION_RE.finditer(c.source)
                for l in m.group(0).splitlines()}
    return {l for l in hidden - public - solution if len(l) >= 16 and not l.startswith("#")}


@pytest.mark.parametrize("assignment", assignments())
def test_feedback_on_a_subtle_mistake_teaches_without_showing_hidden_tests(settings, published, colab,
                                                                          assignment, tmp_path):
    """A wrong answer that passes every visible test (checked by running it like Colab), handed
    in as Colab saves it, loses exactly the hidden test's points, and the feedback names the part
    and the kind of input that failed (a record name), never the hidden test's code."""
    variant = subtle_variant(assignment)
    assert len(variant.lost) == 1
    (lost,) = variant.lost
    source = source_nb(settings, assignment)
    submission = fill_solutions(_published_nb(published, assignment), source, replace=variant.replace)
    ran = execute(submission, colab, tmp_path / "content")
    problems = [f"{c.get('id')}: {e['ename']}: {e['evalue']}"[:300]
                for c in ran.cells if c.cell_type == "code" for e in _errors(c)]
    assert problems == [], f"{variant.name} should pass every visible test: {problems}"

    path = tmp_path / "submitted" / "student" / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(colab_saved(submission, seed=len(assignment)), encoding="utf-8")  # from Colab
    result, executed = grade_notebook(settings, assignment, path, student="student")
    failed = {t.name: t for t in result.tests if not t.passed}
    assert set(failed) == {lost}, [(t.name, t.message) for t in failed.values()]
    assert result.notes == [] and not result.run_error, (result.notes, result.run_error)
    assert result.score == result.auto_max - failed[lost].max_points
    message = failed[lost].message
    names = [name for name, _ in reference_records(settings, assignment)[lost]]
    named = [n for n in names if message.startswith(f"{n}:") or f"; {n}:" in message
             or message.endswith(f"(while checking {n})")]
    assert named, f"the message does not name the input that failed: {message}"

    with warnings.catch_warnings():       # Colab's 4.0 file has no cell ids: written as 4.5, the
        warnings.simplefilter("error", MissingIDFieldWarning)        # executed notebook needs them
        paths = report.write_outputs(tmp_path / "out", result, executed)
    page = paths["feedback"].read_text(encoding="utf-8")
    raw_report = paths["report"].read_text(encoding="utf-8")
    feedback = report.feedback_notebook(executed, result)
    raw_feedback = nbformat.writes(feedback)
    readable = {   # what a student reads: the page's text, the report's tests, the notebook's cells
        "feedback page": html.unescape(re.sub(r"<[^>]+>", "", page)),
        "report.json": "\n".join(f"{t['name']}: {t['message']}" for t in json.loads(raw_report)["tests"]),
        "feedback notebook": html.unescape("\n".join(c.source for c in feedback.cells)
                                           .replace("\\_", "_").replace("\\*", "*")),
    }
    for where, text in readable.items():
        assert lost in text, f"the {where} does not name the part {lost}"
        assert named[0] in text, f"the {where} does not name the input that failed: {named[0]}"
    for where, text in (("feedback page", page), ("report.json", raw_report),
                        ("feedback notebook", raw_feedback)):
        for marker in LEAK_MARKERS:
            assert marker not in text, f"the {where} shows {marker!r}"
    shown = {l.strip() for c in feedback.cells for l in c.source.splitlines()}
    leaked = _hidden_lines(source) & shown
    assert not leaked, f"the feedback notebook shows hidden-test lines: {sorted(leaked)[:3]}"
    leaked = _hidden_lines(source) & {l.strip() for l in readable["feedback page"].splitlines()}
    assert not leaked, f"the feedback page shows hidden-test lines: {sorted(leaked)[:3]}"
