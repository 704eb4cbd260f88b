"""The hidden tests catch wrong implementations and accept correct ones, exactly as declared.

Every variant in ``tests/variants/<assignment>.py`` (a plausible wrong implementation, or a
differently written correct one) is graded, and must lose exactly the tests in its ``lost`` (and so
exactly their points); a correct alternative (empty ``lost``) must earn full marks.

Grading ~175 variants with the real grader would take a kernel start and a whole notebook each,
too slow for CI; ``tests/variants/harness.py`` grades all variants of an assignment in one
grading kernel, started and driven as the grader's (see its docstring), and judges them with the
grader's judge. ``test_harness_agrees_with_the_grader`` checks it against the real grader, per
assignment, on a submission holding a wrong variant and a correct alternative.

The tests of an assignment form one xdist group (``-n 2 --dist loadgroup``), its variants in the
order the harness grades fastest; each worker's pool keeps one grading kernel per assignment, and
closes it after the assignment's last test. At the end of the run,
conftest.py prints the share of wrong implementations caught (also: ``python -m tests.variants.report``).
"""
from __future__ import annotations

import importlib
import json

import pytest

from course_grader.config import load_settings
from course_grader.notebook import read_notebook
from tests.conftest import ROOT, assignments, needs_mnist
from tests.helpers import fill_solutions, grade_nb, release_nb, source_nb
from tests.variants import Variant
from tests.variants.harness import HarnessPool, first_changed, ordered
from tests.variants.report import outcome

pytestmark = [needs_mnist, pytest.mark.slow]


def variants_of(assignment: str) -> list:
    """The VARIANTS of tests/variants/<assignment>.py, with a message that says what to write when
    the file or the list is missing (`course new` writes a start)."""
    try:
        module = importlib.import_module(f"tests.variants.{assignment}")
    except ModuleNotFoundError as e:
        if e.name != f"tests.variants.{assignment}":
            raise
        raise AssertionError(f"tests/variants/{assignment}.py is missing: every assignment needs one, with a "
                             "VARIANTS list of plausible wrong answers and correct alternatives (`course new` "
                             "writes a start; docs/authoring.md, \"Variants\")") from None
    variants = getattr(module, "VARIANTS", None)
    assert isinstance(variants, list) and variants and all(isinstance(v, Variant) for v in variants), (
        f"tests/variants/{assignment}.py must define VARIANTS, a non-empty list of tests.variants.Variant")
    assert any(not v.correct for v in variants), (
        f"tests/variants/{assignment}.py: VARIANTS holds no wrong answer (a Variant with a non-empty lost set)")
    return variants


def _variant_cases() -> list:
    settings = load_settings(ROOT)
    cases = []
    for assignment in assignments():
        source = read_notebook(settings.source_notebook(assignment))
        for variant in ordered(source, variants_of(assignment)):
            cases.append(pytest.param(assignment, variant, id=f"{assignment}/{variant.name}",
                                      marks=pytest.mark.xdist_group(assignment)))
    return cases


@pytest.fixture(scope="session")
def pool(settings, tmp_path_factory, request):
    """The variant harnesses of this worker: one grading kernel per assignment, closed after the
    assignment's last test here."""
    pool = HarnessPool(settings, tmp_path_factory.mktemp("variants"))
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "harness" in item.fixturenames:
            pool.expect(callspec.params["assignment"])
    yield pool
    pool.close()


@pytest.fixture
def harness(pool, assignment):
    """The pool, for a test of ``assignment``; the assignment's kernel closes after its last test."""
    yield pool
    pool.done(assignment)


def _describe(result, variant) -> str:
    extra = sorted(result.failed - set(variant.lost))
    kept = sorted(set(variant.lost) - result.failed)
    lines = [f"{result.assignment}/{variant.name} ({variant.why})"]
    if kept:
        lines.append(f"  should have failed but passed: {kept} (is the hidden test too weak?)")
    for test in result.tests:
        if test.name in extra:
            lines.append(f"  failed unexpectedly: {test.name}: {test.message}")
    if result.run_error:
        lines.append(f"  run error: {result.run_error}")
    return "\n".join(lines)


@pytest.mark.parametrize("assignment, variant", _variant_cases())
def test_variant_loses_exactly_its_tests(harness, assignment, variant, record_property):
    result = harness.grade(assignment, variant)
    record_property("variant_outcome", json.dumps(outcome(result, variant)))
    assert result.notes == [], result.notes
    assert result.failed == set(variant.lost), _describe(result, variant)
    assert result.score == result.max_score - harness.get(assignment).lost_points(variant)
    if variant.correct:
        assert result.score == result.max_score


@pytest.mark.parametrize("assignment", [pytest.param("pooling", marks=pytest.mark.xdist_group("pooling"))])
def test_a_state_that_cannot_be_put_back_gets_a_fresh_kernel(harness, assignment):
    """A variant that replaces a library function (here with one that does the same) leaves a
    state the harness cannot put back: the next variant runs in a fresh kernel, graded right."""
    by_name = {v.name: v for v in variants_of(assignment)}
    clean = by_name["shift_sensitivity_linalg"]
    [(cell, code)] = clean.replace.items()
    patch = "\n_max_pool2d = F.max_pool2d\nF.max_pool2d = lambda *args, **kwargs: _max_pool2d(*args, **kwargs)\n"
    dirty = Variant("patches_F_max_pool2d", replace={cell: code + patch})
    again = Variant("shift_sensitivity_linalg, after patches_F_max_pool2d", replace=clean.replace)
    first = harness.grade(assignment, dirty)
    assert first.failed == set() and first.score == first.max_score
    second = harness.grade(assignment, again)
    assert "torch.nn.functional.max_pool2d replaced" in second.fresh_kernel
    assert second.failed == set() and second.score == second.max_score


def _cross_check_case(assignment: str) -> Variant:
    """A wrong variant and a correct alternative of another answer cell, in one submission: those
    that change the earliest cells (the most cells run again in the harness)."""
    source = read_notebook(load_settings(ROOT).source_notebook(assignment))
    variants = sorted(variants_of(assignment), key=lambda v: first_changed(source, v))
    wrong = next(v for v in variants if not v.correct)
    right = next((v for v in variants if v.correct and not set(v.replace) & set(wrong.replace)), None)
    if right is None:                  # no correct alternative of another cell: the wrong one alone
        return wrong
    return Variant(name=f"{wrong.name}+{right.name}", replace={**wrong.replace, **right.replace},
                   lost=wrong.lost, why=f"{wrong.why}; and a correct alternative: {right.why}")


@pytest.mark.parametrize("assignment", [pytest.param(a, marks=pytest.mark.xdist_group(a))
                                        for a in assignments()])
def test_harness_agrees_with_the_grader(settings, harness, assignment, tmp_path):
    variant = _cross_check_case(assignment)
    fast = harness.grade(assignment, variant)
    nb = fill_solutions(release_nb(settings, assignment), source_nb(settings, assignment),
                        replace=variant.replace)
    real = grade_nb(settings, assignment, nb, tmp_path)
    assert real.status == "graded" and real.run_error == "", real
    assert (real.score, real.auto_max, real.notes) == (fast.score, fast.max_score, fast.notes)
    assert [(t.name, t.points, t.passed, t.status, t.message) for t in real.tests] == \
        [(t.name, t.points, t.passed, t.status, t.message) for t in fast.tests]
    assert fast.failed == set(variant.lost), _describe(fast, variant)
