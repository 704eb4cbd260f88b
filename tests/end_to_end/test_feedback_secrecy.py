"""Feedback never shows hidden test code, even when the student's code tries to print it.

A student function that is called by a hidden test can read the calling cell's source (the
caller's frame, IPython's ``In`` history) and print it. The executed notebook in the grader's
memory keeps such output; what is written (the student's feedback, and autograded/, which
nbgrader's own generate_feedback would render) keeps only each test cell's visible part, its
error line and the test results (the autograded notebook also the grader's verdicts).
"""
from __future__ import annotations

import json

import nbformat
import pytest

from course_grader.grading import report
from course_grader.grading.grade import grade_notebook
from tests.conftest import needs_mnist
from tests.helpers import fill_solutions, release_nb, source_nb

pytestmark = [needs_mnist, pytest.mark.slow]

SNOOP = '''
import inspect as _inspect

def global_avgpool(x):
    """Prints the source of whatever cell calls it, then fails with it as the message."""
    for frame in _inspect.stack()[1:3]:
        print("=" * 3 + "LEAK", frame.frame.f_globals.get("In", ["?"])[-1])
    raise ValueError("SNOOP " + str(_inspect.stack()[1].frame.f_globals.get("In", ["?"])[-1]))
'''


def _graded_with(settings, tmp_path, code: str, assignment: str = "pooling"):
    """``(source notebook, result, executed notebook)`` of the reference answers with ``code``
    added to the global_avgpool_module answer cell."""
    source = source_nb(settings, assignment)
    nb = fill_solutions(release_nb(settings, assignment), source)
    target = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "global_avgpool_module")
    target.source = target.source + "\n" + code
    path = tmp_path / "student" / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    result, executed = grade_notebook(settings, assignment, path, student="student")
    return source, result, executed


def test_hidden_test_source_printed_by_student_code_stays_out_of_feedback(settings, tmp_path):
    _, result, executed = _graded_with(settings, tmp_path, SNOOP)
    assert result.status == "review"                    # frames: the scan marks it
    assert {i["primitive"] for i in result.review} >= {"inspect.stack", "f_globals"}
    assert [t.name for t in result.tests if not t.passed] == ["test_global_avgpool", "test_pool_module_no_builtin",
                                                                "test_pool_backward_inputs"]
    # the instructor's copy shows that the snooping worked inside the kernel
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", [])
                      if o.get("output_type") == "stream")
    assert "BEGIN HIDDEN TESTS" in printed or "record(" in printed
    # the student's feedback does not
    paths = report.write_outputs(tmp_path / "out", result, executed)
    feedback = json.dumps(report.feedback_notebook(executed, result))
    page = paths["feedback"].read_text()
    for text in (feedback, page, paths["report"].read_text(), paths["autograded"].read_text()):
        assert "BEGIN HIDDEN TESTS" not in text
        assert "record(" not in text
        assert "===LEAK" not in text


PRINT_HISTORY = '''\
# after the tests: print every cell the kernel ran, hidden tests included
print("\\n".join(In))'''
FORGE_ERROR_RECORD = '''\
# a record of the student's own, with an "error" that carries the hidden test's code
import base64, io, torch
from IPython.display import display
_buffer = io.BytesIO()
torch.save({"name": "x", "value": 1, "error": "\\n".join(In)}, _buffer)
display({"application/vnd.course-record+json": {"name": "x", "data": base64.b64encode(_buffer.getvalue()).decode(),
                                                  "refused": "\\n".join(In)}}, raw=True)'''


def _student_facing(tmp_path, result, executed) -> dict:
    """{what: text} of everything written for a submission that a student could see: the
    feedback page and notebook, report.json, Gradescope's results.json and the autograded
    notebook (nbgrader's generate_feedback renders it)."""
    paths = report.write_outputs(tmp_path / "out", result, executed)
    return {"feedback page": paths["feedback"].read_text(), "report.json": paths["report"].read_text(),
            "results.json": json.dumps(report.gradescope_results(result)),
            "feedback notebook": json.dumps(report.feedback_notebook(executed, result)),
            "autograded notebook": paths["autograded"].read_text()}


def _hidden_lines(source, release) -> list[str]:
    """The lines of the source notebook's hidden tests that would give them away: long enough
    not to occur by chance, and not in the release (the visible tests share a few lines)."""
    visible = "\n".join(str(c.get("source", "")) for c in release.cells)
    lines = []
    for cell in source.cells:
        text = str(cell.get("source", ""))
        if "### BEGIN HIDDEN TESTS" in text:
            hidden = text.split("### BEGIN HIDDEN TESTS", 1)[1].split("### END HIDDEN TESTS", 1)[0]
            lines += [line.strip() for line in hidden.splitlines()
                      if len(line.strip()) >= 25 and line.strip() not in visible]
    return lines


def test_a_last_cell_printing_the_history_and_a_forged_record_reveal_nothing(settings, tmp_path):
    """Issue 12.8: a last cell printing In[...] put every hidden test into the feedback; a forged
    record's "error" put hidden code into every test message and Gradescope's results.json."""
    assignment = "pooling"
    source = source_nb(settings, assignment)
    nb = fill_solutions(release_nb(settings, assignment), source)
    nb.cells.append(nbformat.v4.new_code_cell(PRINT_HISTORY))
    nb.cells.append(nbformat.v4.new_code_cell(FORGE_ERROR_RECORD))
    path = tmp_path / "student" / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    result, executed = grade_notebook(settings, assignment, path, student="student")
    assert (result.score, result.status) == (26, "review"), result       # In, display internals
    hidden = _hidden_lines(source, release_nb(settings, assignment))
    assert hidden
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", [])
                      if o.get("output_type") == "stream")
    assert any(line in printed for line in hidden)                      # it did print them
    texts = _student_facing(tmp_path, result, executed)
    for what, text in texts.items():
        leaked = [line for line in hidden if line in text or json.dumps(line)[1:-1] in text]
        assert leaked == [], (what, leaked[:3])
    assert report.HIDDEN_AFTER.strip()[:40] in texts["feedback notebook"]


QUOTE_IN_ERRORS = '''
import inspect as _inspect

def _hidden_part():
    """The hidden part of the test cell that called the student's function (from its frame)."""
    for frame in _inspect.stack():
        cell = frame.frame.f_globals.get("In", [""])[-1]
        if "BEGIN HIDDEN TESTS" in cell:
            return cell.split("BEGIN HIDDEN TESTS", 1)[1]
    return ""

def global_avgpool(x):
    """Raises with the hidden test's code as the message (one line, as the feedback shows it)."""
    raise ValueError(" ".join(_hidden_part().split())[:480])

class MaxPool2dScratch(torch.nn.Module):
    """Raises an exception whose class name is the hidden test's code."""
    def __init__(self, *args, **kwargs):
        super().__init__()
        name = "".join(ch if ch.isalnum() else "_" for ch in _hidden_part())[:200] or "Leak"
        raise type(name, (Exception,), {})("see the name")
'''


def test_an_error_message_quoting_the_hidden_tests_is_not_shown(settings, tmp_path):
    """Issue 12 (no leaks): a student's function, called by a hidden test, raises with that test's
    code as its message, or as its exception's class name. The test fails (the student's error),
    and neither the message nor the name reaches the feedback, report.json, Gradescope's
    results.json or autograded/: the grader (in its own process) replaces a message that quotes
    the hidden tests and any exception name that is not a plain identifier."""
    assignment = "pooling"
    source, result, executed = _graded_with(settings, tmp_path, QUOTE_IN_ERRORS)
    failed = {t.name: t.message for t in result.tests if not t.passed}
    assert set(failed) == {"test_global_avgpool", "test_global_avgpool_module", "test_pool_module_no_builtin",
                           "test_pool_backward_inputs"}, failed
    assert failed["test_global_avgpool"].startswith("ValueError: (message not shown: it quotes the hidden tests"), failed
    hidden = _hidden_lines(source, release_nb(settings, assignment))
    words = {w for line in hidden for w in line.replace("(", " ").replace(")", " ").split() if len(w) >= 25}
    texts = _student_facing(tmp_path, result, executed)
    for what, text in texts.items():
        flat = " ".join(text.split())
        leaked = [line for line in hidden if " ".join(line.split()) in flat]
        assert leaked == [], (what, leaked[:3])
        named = "".join(ch if ch.isalnum() else "_" for ch in "\n".join(hidden))
        assert not [w for w in words if "".join(ch if ch.isalnum() else "_" for ch in w) in text], what
        assert named[:60] not in text, what
