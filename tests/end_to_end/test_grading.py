"""The grading is right in both directions, for every assignment.

- the source notebook, graded as a submission, earns full marks;
- the release notebook filled with the reference answers earns full marks;
- the untouched release earns 0, with every test failing cleanly and no grader error;
- a submission with the first parts answered earns exactly the points of those parts.
"""
from __future__ import annotations

import pytest

from tests.conftest import assignments, needs_mnist
from tests.helpers import (fill_solutions, grade_nb, points_by_test, release_nb, solution_ids,
                           source_nb)
from course_grader.notebook import grade_id, is_solution, is_test

pytestmark = [needs_mnist, pytest.mark.slow]


@pytest.mark.parametrize("assignment", assignments())
def test_source_notebook_earns_full_marks(settings, assignment, tmp_path):
    result = grade_nb(settings, assignment, source_nb(settings, assignment), tmp_path)
    assert result.status == "graded" and not result.run_error, result
    assert result.max_score > 0
    assert [t.name for t in result.tests if not t.passed] == [], result.tests
    assert result.score == result.max_score
    assert result.notes == []


@pytest.mark.parametrize("assignment", assignments())
def test_release_with_reference_answers_earns_full_marks(settings, assignment, tmp_path):
    nb = fill_solutions(release_nb(settings, assignment), source_nb(settings, assignment))
    result = grade_nb(settings, assignment, nb, tmp_path)
    assert result.score == result.max_score, [(t.name, t.message) for t in result.tests if not t.passed]
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


@pytest.mark.parametrize("assignment", assignments())
def test_partial_submission_earns_exactly_its_parts(settings, assignment, tmp_path):
    source = source_nb(settings, assignment)
    ids = solution_ids(source)
    filled = set(ids[: max(1, len(ids) // 2)])
    expected = 0.0
    seen_solutions: list[str] = []
    for cell in source.cells:
        if is_solution(cell) and cell.cell_type == "code" and grade_id(cell):
            seen_solutions.append(grade_id(cell))
        elif is_test(cell) and all(s in filled for s in seen_solutions):
            expected += points_by_test(source)[grade_id(cell)]
    assert 0 < expected < sum(points_by_test(source).values())
    nb = fill_solutions(release_nb(settings, assignment), source, filled)
    result = grade_nb(settings, assignment, nb, tmp_path)
    assert result.score == expected, [(t.name, t.passed, t.message) for t in result.tests]
