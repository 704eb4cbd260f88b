"""The grading is right in both directions, for every assignment.

- the source notebook, graded as a submission, earns full marks;
- the release notebook filled with the reference answers earns full marks;
- the untouched release earns 0, with every test failing cleanly and no grader error;
- a submission with the first parts answered earns exactly the points of those parts.
"""
from __future__ import annotations

import ast
import re

import pytest

from tests.conftest import assignments, needs_mnist
from tests.helpers import (fill_solutions, grade_nb, points_by_test, release_nb, solution_ids,
                           source_nb)
from course_grader.notebook import defined_names, grade_id, is_solution, is_test

pytestmark = [needs_mnist, pytest.mark.slow]


@pytest.mark.parametrize("assignment", assignments())
def test_source_notebook_earns_full_marks(settings, assignment, tmp_path):
    result = grade_nb(settings, assignment, source_nb(settings, assignment), tmp_path)
    assert result.status == "graded" and not result.run_error, result
    assert result.max_score > 0
    assert [t.name for t in result.tests if not t.passed] == [], result.tests
    # every test point; the reflection (its model answer) waits for the instructor
    assert result.score == result.auto_max
    assert [(a.name, a.answered, a.points) for a in result.hand] == [("reflection", True, None)]
    assert result.max_score == result.auto_max + result.hand_pending
    assert result.notes == []


@pytest.mark.parametrize("assignment", assignments())
def test_release_with_reference_answers_earns_full_marks(settings, assignment, tmp_path):
    nb = fill_solutions(release_nb(settings, assignment), source_nb(settings, assignment))
    result = grade_nb(settings, assignment, nb, tmp_path)
    assert result.score == result.auto_max, [(t.name, t.message) for t in result.tests if not t.passed]
    assert result.notes == []


@pytest.mark.parametrize("assignment", assignments())
def test_untouched_release_earns_zero_without_grader_error(settings, assignment, tmp_path):
    result = grade_nb(settings, assignment, release_nb(settings, assignment), tmp_path)
    assert result.status == "graded" and result.error == "" and result.run_error == ""
    assert result.score == 0
    for test in result.tests:
        assert not test.passed and test.status == "error", test
        assert "NotImplementedError" in test.message, test
    assert result.notes == []


def _uses(source_text: str, names: list) -> bool:
    """Whether the code names one of ``names`` (as a name in the code, not in a string)."""
    try:
        used = {n.id for n in ast.walk(ast.parse(source_text)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return any(re.search(rf"\b{re.escape(n)}\b", source_text) for n in names)
    return bool(used & set(names))


def depends_on(source) -> dict:
    """{test grade_id: the answer cells it needs}: those whose functions or classes its code
    names, and, through their reference code, the answer cells those use in turn."""
    answers = {grade_id(c): c for c in source.cells
               if is_solution(c) and c.cell_type == "code" and grade_id(c)}
    names = {a: defined_names(c.source) for a, c in answers.items()}

    def needs(text: str, seen: frozenset) -> set:
        direct = {a for a in answers if a not in seen and _uses(text, names[a])}
        found = set(direct)
        for a in direct:
            found |= needs(answers[a].source, seen | direct)
        return found

    return {grade_id(c): needs(c.source, frozenset()) for c in source.cells if is_test(c)}


@pytest.mark.parametrize("assignment", assignments())
def test_partial_submission_earns_exactly_its_parts(settings, assignment, tmp_path):
    """The first half of the answers filled in: exactly the tests whose code needs none of the
    other answers pass (the grader judges each test cell on its own, no cascade beyond that)."""
    source = source_nb(settings, assignment)
    ids = solution_ids(source)
    filled = set(ids[: max(1, len(ids) // 2)])
    needs = depends_on(source)
    expected = sum(points_by_test(source)[t] for t, answers in needs.items() if answers <= filled)
    assert 0 < expected < sum(points_by_test(source).values())
    nb = fill_solutions(release_nb(settings, assignment), source, filled)
    result = grade_nb(settings, assignment, nb, tmp_path)
    assert result.score == expected, [(t.name, t.passed, t.message) for t in result.tests]
