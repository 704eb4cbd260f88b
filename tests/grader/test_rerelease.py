"""Re-releases (issue 17.6): every release notebook names its release; a submission made from an
earlier release is graded with the current tests and points, told so in words that never
suggest the student changed anything, and the instructor sees which release each submission
came from (``release`` in report.json and grades.csv)."""
from __future__ import annotations

import copy

import pytest

from course_grader.assignment import load
from course_grader.grading import report
from course_grader.grading.merge import build_graded_notebook, release_status
from course_grader.notebook import RELEASE_KEY, grade_id, is_test, release_fingerprint, release_of
from tests.conftest import assignments, needs_mnist
from tests.helpers import fill_solutions, grade_nb, release_nb, source_nb

EARLIER = "0123456789ab"


@pytest.mark.parametrize("assignment", assignments())
def test_every_release_names_itself_by_its_content(settings, assignment):
    nb = release_nb(settings, assignment)
    assert nb.metadata[RELEASE_KEY]["assignment"] == assignment
    assert release_of(nb) == release_fingerprint(nb) == load(settings, assignment).release_id
    changed = copy.deepcopy(nb)
    test = next(c for c in changed.cells if is_test(c))
    test.metadata["nbgrader"]["points"] += 1
    assert release_fingerprint(changed) != release_fingerprint(nb)


def _from_an_earlier_release(settings, assignment="pooling"):
    """The reference answers in a notebook of an earlier release: one test cell worth one point
    more and with another visible test, and that release's id."""
    nb = fill_solutions(release_nb(settings, assignment), source_nb(settings, assignment))
    test = next(c for c in nb.cells if is_test(c))
    test.metadata["nbgrader"]["points"] += 1
    test.source = "# the visible test of the earlier release\n" + test.source
    nb.metadata[RELEASE_KEY]["id"] = EARLIER
    return nb, grade_id(test)


def test_an_earlier_release_is_named_and_never_called_an_edit(settings):
    assignment = load(settings, "pooling")
    nb, gid = _from_an_earlier_release(settings)
    assert release_status(nb, assignment.release_id) == f"earlier {EARLIER}"
    _, notes = build_graded_notebook(assignment.source, nb, assignment.release_id)
    points = next(c for c in assignment.source.cells if grade_id(c) == gid).metadata["nbgrader"]["points"]
    assert notes == [
        f"this notebook was made from an earlier release of the assignment (release {EARLIER}; the current "
        f"one is {assignment.release_id}): it was graded with the current release's tests and points",
        f"test cell {gid} changed in the current release: the current test was run",
        f"test cell {gid} is worth {points:g} points in the current release ({points + 1:g} in the notebook): "
        "the current release's points were used"]


def test_without_a_release_id_the_notes_do_not_guess(settings):
    assignment = load(settings, "pooling")
    nb, gid = _from_an_earlier_release(settings)
    del nb.metadata[RELEASE_KEY]
    assert release_status(nb, assignment.release_id) == "unknown"
    _, notes = build_graded_notebook(assignment.source, nb, assignment.release_id)
    assert notes[0] == (f"test cell {gid} differs from the current release (edited, or from an earlier "
                        "release): the current test was run")
    assert "the current release's points were used" in notes[1]


def test_a_forged_release_id_is_no_release_id(settings):
    """The id comes from the student's notebook: anything but a fingerprint (a long text, markup
    for the feedback or grades.csv) counts as "unknown" and is never shown."""
    assignment = load(settings, "pooling")
    for forged in ("x" * 100_000, "<img src=x onerror=alert(1)>", "=HYPERLINK(1)", 12, ["0123456789ab"]):
        nb, _ = _from_an_earlier_release(settings)
        nb.metadata[RELEASE_KEY]["id"] = forged
        assert release_status(nb, assignment.release_id) == "unknown"
        _, notes = build_graded_notebook(assignment.source, nb, assignment.release_id)
        assert all(str(forged)[:20] not in note for note in notes)


def test_an_edit_of_the_current_release_is_still_called_an_edit(settings):
    assignment = load(settings, "pooling")
    nb, gid = _from_an_earlier_release(settings)
    nb.metadata[RELEASE_KEY]["id"] = assignment.release_id
    assert release_status(nb, assignment.release_id) == "current"
    _, notes = build_graded_notebook(assignment.source, nb, assignment.release_id)
    assert notes[0] == f"test cell {gid} was edited: the instructor's test was run instead"
    assert "changed from" in notes[1]


@needs_mnist
@pytest.mark.slow
def test_grading_an_earlier_release_gives_full_marks_and_says_which_release(settings, tmp_path):
    nb, _ = _from_an_earlier_release(settings)
    result = grade_nb(settings, "pooling", nb, tmp_path)
    assert result.score == result.auto_max, [(t.name, t.message) for t in result.tests if not t.passed]
    assert result.release == f"earlier {EARLIER}"
    assert "earlier release" in result.notes[0]
    row = report.csv_row(result)
    assert row["release"] == f"earlier {EARLIER}" and "earlier release" in row["message"]
    current = grade_nb(settings, "pooling", release_nb(settings, "pooling"), tmp_path / "untouched")
    assert current.release == "current" and current.notes == []
