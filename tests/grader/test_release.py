"""release/ is generated from source/, reproducible, and shows no solution or hidden test."""
from __future__ import annotations

import ast
import re
import shutil

import nbformat
import pytest

from tests.conftest import ROOT, assignments
from course_grader.authoring import release as release_mod
from course_grader.authoring.leaks import LEAK_MARKERS
from course_grader.config import CourseError, load_settings
from course_grader.notebook import HIDDEN_RE, SOLUTION_RE, grade_id, is_solution, is_test, read_notebook, visible_part


@pytest.mark.parametrize("assignment", assignments())
def test_committed_release_is_what_source_generates(settings, assignment):
    """Regenerating an unchanged source gives the committed release byte for byte."""
    built = release_mod.finish_release(release_mod.generate_student_notebook(settings, assignment),
                                       settings, assignment)
    text = release_mod.render(built)
    committed = settings.release_notebook(assignment).read_text(encoding="utf-8")
    assert text == committed, f"release/{assignment} is stale: run `course release {assignment}`"
    again = release_mod.render(release_mod.finish_release(
        release_mod.generate_student_notebook(settings, assignment), settings, assignment))
    assert again == text


def test_release_folder_holds_no_solution_or_hidden_test(settings):
    sources = {a: read_notebook(settings.source_notebook(a)) for a in settings.assignments()}
    for path in sorted((ROOT / "release").rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for marker in LEAK_MARKERS:
            assert marker not in text, f"{path} contains {marker!r}"
        assignment = path.parent.name
        cells = sources.get(assignment, nbformat_empty()).cells
        public = "\n".join(SOLUTION_RE.sub("", HIDDEN_RE.sub("", c.source)) for c in cells)
        for cell in cells:
            secret = [m.group(0) for m in HIDDEN_RE.finditer(cell.source)]
            secret += [m.group(0) for m in SOLUTION_RE.finditer(cell.source)]
            for block in secret:
                for line in block.splitlines()[1:-1]:
                    if len(line.strip()) > 30 and line.strip() not in public:
                        assert line.strip() not in text, f"{path} shows a hidden line: {line.strip()}"


def nbformat_empty():
    import nbformat

    return nbformat.v4.new_notebook()

def test_course_utils_holds_no_solution_or_grading_code():
    for path in (ROOT / "course_utils").rglob("*.py"):
        text = path.read_text()
        for marker in LEAK_MARKERS:
            assert marker not in text, f"{path} contains {marker!r}"


@pytest.mark.parametrize("assignment", assignments())
def test_source_has_no_outputs_and_stable_ids(settings, assignment):
    nb = read_notebook(settings.source_notebook(assignment))
    ids = [c.get("id") for c in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids), "every cell needs a unique, stable id"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"outputs in cell {cell.id}"


@pytest.mark.parametrize("assignment", assignments())
def test_every_test_cell_asserts_and_records(settings, assignment):
    """nbgrader passes a test cell that checks nothing, so each visible test must assert,
    and each hidden part must record results for the grader to judge."""
    nb = read_notebook(settings.source_notebook(assignment))
    tests = [c for c in nb.cells if is_test(c)]
    assert tests
    for cell in tests:
        visible = ast.parse(visible_part(cell.source))
        assert any(isinstance(n, ast.Assert) for n in ast.walk(visible)), \
            f"{grade_id(cell)}: the visible test asserts nothing"
        hidden = "".join(m.group(0) for m in HIDDEN_RE.finditer(cell.source))
        # record(...) itself, or a probe that records (course_grader.probes.record_images, ...)
        assert re.search(r"\brecord(_\w+)?\(", hidden), f"{grade_id(cell)}: the hidden tests record nothing"
        assert cell.metadata["nbgrader"].get("points", 0) > 0
    solution_ids = [grade_id(c) for c in nb.cells if is_solution(c)]
    assert len(solution_ids) == len(set(solution_ids))


def test_stub_messages_name_what_to_implement():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    stub = "def f(x):\n    raise NotImplementedError()\n\nclass M:\n    def forward(self):\n        raise NotImplementedError()\n"
    worded = release_mod.word_stubs(stub)
    assert 'NotImplementedError("f is not implemented yet' in worded
    assert 'NotImplementedError("M.forward is not implemented yet' in worded
    del source


def test_stub_messages_ignore_def_and_class_in_docstrings():
    """A docstring line that starts with "class ..." or "def ..." is not a definition."""
    stub = ('def predict(model, loader):\n'
            '    """Predictions of a classifier.\n\n'
            '    Returns:\n'
            '    class labels: the argmax of the scores\n'
            '    def ined as in torch\n'
            '    """\n'
            '    # YOUR CODE HERE\n'
            '    raise NotImplementedError()\n\n\n'
            'class Net(nn.Module):\n'
            '    """A network.\n\n'
            '    class Other: not a class\n'
            '    """\n\n'
            '    def forward(self, x):\n'
            '        def helper(y):\n'
            '            return y\n'
            '        raise NotImplementedError()\n')
    worded = release_mod.word_stubs(stub)
    assert 'NotImplementedError("predict is not implemented yet' in worded
    assert 'NotImplementedError("Net.forward is not implemented yet' in worded
    assert "labels is not" not in worded and "ined is not" not in worded
    # a cell that does not parse falls back to def lines outside triple-quoted strings
    broken = 'def f(x):\n    """\n    class labels:\n    """\n    y = (\n    raise NotImplementedError()\n'
    assert 'NotImplementedError("f is not implemented yet' in release_mod.word_stubs(broken)
    # a stub outside any function
    assert '"this part is not implemented yet' in release_mod.word_stubs("raise NotImplementedError()\n")


def test_failed_release_keeps_the_working_one(tmp_path):
    """A source that nbgrader cannot process leaves release/ as it was."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "source", course / "source")
    shutil.copytree(ROOT / "release", course / "release")
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    assignment = sorted(p.name for p in (course / "source").iterdir())[0]
    before = (course / "release" / assignment / f"{assignment}.ipynb").read_bytes()
    (course / "source" / assignment / f"{assignment}.ipynb").write_text("{ not json")
    settings = load_settings(course)
    with pytest.raises(CourseError):
        release_mod.release(settings, [assignment], log=lambda *_: None)
    assert (course / "release" / assignment / f"{assignment}.ipynb").read_bytes() == before


def _course_with(tmp_path, assignment, change):
    """A copy of the course whose source notebook of ``assignment`` went through ``change(nb)``."""
    course = tmp_path / "course"
    (course / "source" / assignment).mkdir(parents=True)
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    change(nb)
    nbformat.write(nb, course / "source" / assignment / f"{assignment}.ipynb")
    return load_settings(course)


def _release_error(settings, assignment) -> str:
    with pytest.raises(CourseError) as caught:
        release_mod.release(settings, [assignment], log=lambda *_: None)
    return str(caught.value)


def test_a_reflection_cell_marked_as_a_solution_is_named_with_the_fix(tmp_path):
    """Issue 17.1: nbgrader alone says only "Please see the above traceback"."""
    def mark_reflection(nb):
        answer = [c for c in nb.cells if c.cell_type == "markdown"][-1]
        del answer.metadata["nbgrader"]["grade_id"]

    settings = _course_with(tmp_path, "pooling", mark_reflection)
    message = _release_error(settings, "pooling")
    last = max(i for i, c in enumerate(nbformat.read(settings.source_notebook("pooling"), as_version=4).cells)
               if c.cell_type == "markdown")
    assert f"source/pooling/pooling.ipynb, cell {last} (markdown, starting " in message
    assert "solution: true, grade: true but no grade_id" in message and "graded by hand" in message
    assert "traceback" not in message


def test_an_unclosed_solution_region_is_named(tmp_path):
    def unclose(nb):
        cell = next(c for c in nb.cells if "### END SOLUTION" in c.source)
        cell.source = cell.source.replace("### END SOLUTION", "")

    message = _release_error(_course_with(tmp_path, "pooling", unclose), "pooling")
    assert "1 '### BEGIN SOLUTION' but 0 '### END SOLUTION' line(s)" in message


def test_a_duplicate_grade_id_and_a_graded_cell_without_points_are_named():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"solution": True, "grade_id": "part"}}),
        nbformat.v4.new_code_cell("assert x", metadata={"nbgrader": {"grade": True, "grade_id": "part"}}),
    ])
    assert release_mod.metadata_problems(nb, "nb") == [
        "nb, cell 1 (code, starting 'assert x'): grade_id 'part' is already used by cell 0: grade_ids must be unique",
        "nb, cell 1 (code, starting 'assert x'): a graded cell (grade: true) without points: set \"points\""]


def test_what_nbgrader_rejects_is_shown_with_nbgraders_own_reason(tmp_path):
    """A problem only nbgrader checks (characters a grade_id may not hold): its real reason from
    its log, not "see the above traceback"."""
    def bad_id(nb):
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
        cell.metadata["nbgrader"]["grade_id"] = "test pool naive!"

    message = _release_error(_course_with(tmp_path, "pooling", bad_id), "pooling")
    assert "nbgrader could not generate pooling from pooling.ipynb" in message
    assert "Error: " in message and "test pool naive!" in message, message
    assert "Please see the" not in message


def test_nbgrader_message_keeps_the_reasons_and_drops_the_noise():
    log = ("[ERROR] Traceback (most recent call last):\n    File \"x.py\", line 1, in f\n"
           "    jsonschema.exceptions.ValidationError: nbgrader cell does not have a grade_id: YOUR ANSWER\n"
           "[ERROR] Notebook failed to validate\n"
           "    jsonschema.exceptions.ValidationError: Notebook failed to validate; the nbgrader metadata\n"
           "    nbgrader.converters.base.NbGraderException: Please see the the above traceback\n")
    assert release_mod.nbgrader_message({"log": log, "error": "Traceback ..."}) == (
        "jsonschema.exceptions.ValidationError: nbgrader cell does not have a grade_id: YOUR ANSWER")
    assert release_mod.nbgrader_message({"error": "a\nb"}) == "a\nb"
