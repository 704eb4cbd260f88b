"""Reflections graded by hand (issues 13 and 17): each notebook's reflection is an nbgrader
manually graded answer; the autograder gives it nothing, 0 at once when it is left as released
(as nbgrader's autograde does), and the instructor's score from the gradebook joins the total.
The model answer in the source notebook reaches no student."""
from __future__ import annotations

import copy

import nbformat
import pytest

from course_grader.assignment import load
from course_grader.authoring.examples import strip_markers
from course_grader.grading import report
from course_grader.grading.merge import build_graded_notebook
from course_grader.grading.results import GradeResult, HandGraded, TestResult, hand_results
from course_grader.notebook import SOLUTION_RE, grade_id, is_hand_graded
from tests.conftest import assignments
from tests.helpers import fill_solutions, release_nb, source_nb


def _reflection(nb):
    return next(c for c in nb.cells if grade_id(c) == "reflection")


def _model_answer_lines(source) -> list:
    """The lines of the source's model answer that a student could not have written by chance."""
    text = SOLUTION_RE.search(_reflection(source).source).group(0)
    return [line for line in strip_markers(text).splitlines() if len(line.strip()) >= 40]


@pytest.mark.parametrize("assignment", assignments())
def test_every_notebook_has_one_reflection_graded_by_hand_with_a_model_answer(settings, assignment):
    source, release = source_nb(settings, assignment), release_nb(settings, assignment)
    hand = [c for c in source.cells if is_hand_graded(c)]
    assert [(grade_id(c), c.cell_type) for c in hand] == [("reflection", "markdown")]
    questions = source.cells[source.cells.index(hand[0]) - 1].source
    asked = sum(1 for line in questions.splitlines() if line[:3] in {f"{n}. " for n in range(1, 10)})
    assert hand[0].metadata["nbgrader"]["points"] == asked >= 3        # 1 point a question
    assert len(_model_answer_lines(source)) >= asked                   # a model answer for the grader
    assert _reflection(release).source == "YOUR ANSWER HERE"
    released = "\n".join(c.source for c in release.cells)
    assert not [line for line in _model_answer_lines(source) if line in released]
    assert load(settings, assignment).max_score == load(settings, assignment).auto_max + asked


@pytest.mark.parametrize("change, answered", [
    ("untouched", False), ("deleted", False), ("emptied", False), ("stub in bold", False),
    ("answered", True), ("made a code cell", True)])
def test_an_answer_left_as_released_gets_0_at_once_any_other_waits_for_the_instructor(settings, change,
                                                                                      answered):
    assignment = load(settings, "pooling")
    nb = copy.deepcopy(assignment.release())
    cell = _reflection(nb)
    if change == "deleted":
        nb.cells.remove(cell)
    elif change == "emptied":
        cell.source = "  \n"
    elif change == "stub in bold":
        cell.source = "**YOUR ANSWER HERE**"
    elif change == "answered":
        cell.source = "1. The max pool, because a larger window keeps its maximum for longer shifts."
    elif change == "made a code cell":
        cell.cell_type, cell.outputs, cell.execution_count = "code", [], None
        cell.source = "print('my answer is in a code cell')"
    merged, _ = build_graded_notebook(assignment.source, nb, assignment.release_id)
    [answer] = hand_results(assignment, merged, assignment.release())
    assert (answer.name, answer.max_points, answer.answered) == ("reflection", 3, answered)
    assert answer.points == (None if answered else 0.0)
    if change == "made a code cell":                   # graded as the markdown it must be
        assert _reflection(merged).cell_type == "markdown"


@pytest.mark.parametrize("change, elsewhere", [
    ("a new cell below", "a cell below it"), ("typed under the questions", "the question's cell above it"),
    ("an empty cell below", ""), ("a copy of the question below", "")])
def test_an_answer_written_beside_its_answer_cell_waits_for_the_instructor(settings, change, elsewhere):
    """Students often leave "YOUR ANSWER HERE" as it is and type their answers in a new cell below
    it, or under each question: that answer waits for the instructor (with a note saying where),
    instead of 0 at once."""
    assignment = load(settings, "pooling")
    nb = copy.deepcopy(assignment.release())
    at = nb.cells.index(_reflection(nb))
    if change == "a new cell below":
        nb.cells.insert(at + 1, nbformat.v4.new_markdown_cell("1. Max pooling, since a larger window keeps its maximum."))
    elif change == "typed under the questions":
        nb.cells[at - 1].source += "\n\n**Answer 1:** the 4x4 max pool changes least."
    elif change == "an empty cell below":
        nb.cells.insert(at + 1, nbformat.v4.new_markdown_cell("  "))
    else:
        nb.cells.insert(at + 1, copy.deepcopy(nb.cells[at - 1]))
    merged, _ = build_graded_notebook(assignment.source, nb, assignment.release_id)
    [answer] = hand_results(assignment, merged, assignment.release())
    assert (answer.answered, answer.points, answer.elsewhere) == (bool(elsewhere), None if elsewhere else 0.0,
                                                                  elsewhere)


@pytest.mark.parametrize("change", ["untouched", "deleted"])
def test_the_model_answer_never_reaches_a_student(settings, change):
    """Merging takes the student's answer cell, never the source's: autograded/ and the feedback
    hold no line of the model answer, also when the student deleted the cell."""
    assignment = load(settings, "pooling")
    nb = fill_solutions(release_nb(settings, "pooling"), assignment.source,
                        ids=assignment.solution_ids)       # code answers only, reflection as released
    if change == "deleted":
        nb.cells.remove(_reflection(nb))
    merged, _ = build_graded_notebook(assignment.source, nb, assignment.release_id)
    result = GradeResult(assignment="pooling", student="ada", max_score=assignment.max_score,
                         hand=hand_results(assignment, merged, assignment.release()))
    shown = [report.without_hidden(merged, keep_verdicts=True), report.feedback_notebook(merged, result)]
    text = "\n".join(c.source for nb in shown for c in nb.cells)
    assert not [line for line in _model_answer_lines(assignment.source) if line in text]


def test_the_instructors_score_joins_the_total_everywhere():
    result = GradeResult(assignment="pooling", student="ada", max_score=28.0,
                         tests=[TestResult("test_maxpool2d", 3.0, 3.0, True), TestResult("test_pad", 0.0, 2.0, False)],
                         hand=[HandGraded("reflection", 3.0, answered=True)])
    result.rescore()
    assert (result.score, result.auto_score, result.auto_max, result.hand_pending) == (3.0, 3.0, 25.0, 3.0)
    row = report.csv_row(result)
    assert (row["score"], row["max_score"], row["hand"]) == ("3", "28", "reflection to grade by hand (3 points)")
    assert "| reflection | - / 3 | reflection: graded by hand by your instructor (3 points); not graded yet |" \
        in report.summary_markdown(result).replace("\\_", "_")
    result.apply_manual({"reflection": 2.0, "test_pad": 1.0})
    assert (result.score, result.auto_score, result.hand_pending) == (6.0, 3.0, 0)
    row = report.csv_row(result)
    assert (row["score"], row["auto_score"], row["hand"]) == ("6", "3", "reflection 2/3 (graded by the instructor)")
    assert row["manual"] == "test_pad 1/2 (auto 0)"
    # Gradescope's autograder score leaves the reflection out (a manual question there)
    gradescope = report.gradescope_results(result)
    assert gradescope["score"] == 4.0 and "graded by hand: reflection (3 points)" in gradescope["output"]
    again = GradeResult.from_dict(result.to_dict())
    assert again.hand == result.hand and again.score == 6.0


def test_the_grade_table_says_what_waits_for_the_instructor():
    result = GradeResult(assignment="pooling", student="ada", score=25.0, max_score=28.0,
                         hand=[HandGraded("reflection", 3.0, answered=True)])
    text = report.table([report.csv_row(result)])
    assert text.splitlines()[0].split() == ["student", "assignment", "score", "status", "graded", "by", "hand"]
    assert "25 / 28  graded  reflection to grade by hand (3 points)" in text
