"""Points stated once (issue 17.2): the totals, part headings and named tests in a notebook's
markdown agree with the test cells' metadata, `course release` refuses a notebook where they do
not, and the README's assignment table states each assignment's real total."""
from __future__ import annotations

import re

import nbformat
import pytest

from course_grader.assignment import as_assignment
from course_grader.authoring.points import stated_points_problems
from course_grader.authoring.release import check_stated_points
from course_grader.config import CourseError
from tests.conftest import ROOT


def _test_cell(grade_id, points):
    return nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {
        "grade": True, "grade_id": grade_id, "points": points, "solution": False, "locked": True}})


def _notebook(total_text="**Grading** (6 points, all autograded)", part1="## Part 1: padding (3 points)",
              named="- `test_pad_a` / `test_pad_b` (1 point each), `test_pad_c` (1 point)"):
    md = nbformat.v4.new_markdown_cell
    return nbformat.v4.new_notebook(cells=[
        md("# Padding\n\n" + total_text),
        md(part1 + "\n\n" + named),
        _test_cell("test_pad_a", 1), _test_cell("test_pad_b", 1), _test_cell("test_pad_c", 1),
        md("## Part 2: shapes (2 + 1 points)\n\n### 2a. one shape (2 points)"),
        _test_cell("test_shape", 2),
        md("### 2b. types (1 point)"),
        _test_cell("test_types", 1),
        md("## Reflection"),
    ])


def test_a_notebook_whose_text_matches_its_metadata_has_no_problem():
    assert stated_points_problems(_notebook(), "nb") == []


def test_each_form_that_disagrees_is_named_with_the_number_to_write():
    nb = _notebook()
    nb.cells[2].metadata["nbgrader"]["points"] = 2          # test_pad_a: one more point
    assert stated_points_problems(nb, "nb") == [
        "nb, markdown cell 0: says the assignment is worth 6 points, its graded cells give 7: write 7",
        "nb, markdown cell 1: says test_pad_a / test_pad_b are worth 1 points each, the metadata gives 2, 1",
        "nb, markdown cell 1: the heading '## Part 1: padding (3 points)' states 3 points, the graded cells "
        "under it give 4: write 4"]
    nb = _notebook()
    nb.cells[8].metadata["nbgrader"]["points"] = 2          # test_types, under a sub-heading
    problems = stated_points_problems(nb, "nb")
    assert "the heading '## Part 2: shapes (2 + 1 points)' states 3 points, the graded cells under it give 4" \
        in "\n".join(problems)
    assert "the heading '### 2b. types (1 point)' states 1 points, the graded cells under it give 2" \
        in "\n".join(problems)
    nb = _notebook(named="- `test_pad_a` (1 point), `test_pad_x` (1 point)")
    assert stated_points_problems(nb, "nb") == [
        "nb, markdown cell 1: names test_pad_x, which is not a test cell's grade_id"]


def test_an_answer_graded_by_hand_counts_in_the_total_and_its_heading():
    """A reflection graded by hand (grade and solution, markdown) is part of the points stated."""
    nb = _notebook(total_text="**Grading** (8 points: 6 autograded, 2 for the reflection)")
    nb.cells[-1].source = "## Reflection (2 points)"
    answer = nbformat.v4.new_markdown_cell("### BEGIN SOLUTION\nA model answer.\n### END SOLUTION")
    answer.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": "reflection", "points": 2,
                                   "locked": False, "schema_version": 3, "task": False}
    nb.cells.append(answer)
    assert stated_points_problems(nb, "nb") == []
    answer.metadata["nbgrader"]["points"] = 3
    assert stated_points_problems(nb, "nb") == [
        "nb, markdown cell 0: says the assignment is worth 8 points, its graded cells give 9: write 9",
        "nb, markdown cell 9: the heading '## Reflection (2 points)' states 2 points, the graded cells "
        "under it give 3: write 3"]


@pytest.mark.parametrize("total_text", ["**Grading.** 6 points, in two parts.", "**Grading (6 points).** Hidden"])
def test_the_total_is_read_in_each_wording_the_notebooks_use(total_text):
    nb = _notebook(total_text=total_text.replace("6", "5"))
    assert stated_points_problems(nb, "nb") == [
        "nb, markdown cell 0: says the assignment is worth 5 points, its graded cells give 6: write 6"]


def test_release_refuses_a_notebook_that_states_other_points(settings, tmp_path):
    """The check `course release` runs first: the course's notebooks pass it; a copy of one whose
    part heading says one point less is refused, naming the notebook, the cell and the fix."""
    check_stated_points(settings, settings.assignments())
    source = ROOT / "source" / "conv_from_scratch" / "conv_from_scratch.ipynb"
    nb = nbformat.read(source, as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if "## Part 2: zero padding (3 points)" in c.source)
    nb.cells[i].source = nb.cells[i].source.replace("(3 points)", "(2 points)")
    course = tmp_path / "course"
    (course / "source" / "conv_from_scratch").mkdir(parents=True)
    nbformat.write(nb, course / "source" / "conv_from_scratch" / "conv_from_scratch.ipynb")
    from dataclasses import replace
    with pytest.raises(CourseError) as caught:
        check_stated_points(replace(settings, root=course), ["conv_from_scratch"])
    assert (f"source/conv_from_scratch/conv_from_scratch.ipynb, markdown cell {i}: the heading "
            "'## Part 2: zero padding (2 points)' states 2 points, the graded cells under it give 3: write 3"
            in str(caught.value))


def test_the_readme_table_states_each_assignments_total(settings):
    section = (ROOT / "README.md").read_text().split("\n## Assignments\n", 1)[1].split("\n## ", 1)[0]
    table = dict(re.findall(r"^\| `(\w+)` \| (\d+) \|", section, re.M))
    totals = {a: as_assignment(settings, a).max_score for a in settings.assignments()}
    assert {a: float(p) for a, p in table.items()} == totals
