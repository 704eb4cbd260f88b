"""The guard run before each test cell (``inside/guard.py``, sent by ``client.run_guard``): fresh
helpers and torch defaults for the test, whatever the notebook did, and a clear "not run" for the
test when the notebook broke what the guard needs, never a crash or a test run with the
student's helpers."""
from __future__ import annotations

from dataclasses import replace

import nbformat
import pytest

from course_grader.execution.session import run_notebook


def graded_cell(source: str):
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "grade_id": "test_x", "points": 1}})


def run(settings, tmp_path, student: str, test: str, after: str = "print('after')"):
    """The notebook ``student`` (a cell), ``test`` (a test cell), ``after`` (a cell): its run."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(student), graded_cell(test),
                                         nbformat.v4.new_code_cell(after)])
    return run_notebook(nb, tmp_path, settings)


def printed(run, i: int) -> str:
    return "".join(o.get("text", "") for o in run.notebook.cells[i].outputs if o.get("output_type") == "stream")


@pytest.fixture
def fresh(settings):
    return replace(settings, kernel_mode="fresh", cell_timeout=20)


def test_the_test_finds_the_grader_s_helpers_and_defaults_and_no_guard_name(fresh, tmp_path):
    student = ("import torch\nimport course_grader.kernel as k\n"
               "k.forbidden = lambda *a, **kw: []\n"
               "torch.set_default_dtype(torch.float64)\ntorch.set_grad_enabled(False)\n")
    test = ("import torch\nimport course_grader.kernel as k\n"
            "print(k.forbidden.__name__, torch.get_default_dtype(), torch.is_grad_enabled(),\n"
            "      [n for n in globals() if 'guard' in n])\n")
    result = run(fresh, tmp_path, student, test)
    assert not result.fatal
    assert result.cells[1].status == "ok", result.cells[1]
    assert printed(result, 1) == "forbidden torch.float32 True []\n"


def test_a_notebook_that_breaks_the_guard_loses_the_test_with_a_reason_and_goes_on(fresh, tmp_path):
    result = run(fresh, tmp_path, "import marshal\nmarshal.loads = None", "print('the test ran')")
    cell = result.cells[1]
    assert (cell.status, cell.ename) == ("error", "GraderError")
    assert "test helpers could not be set up" in cell.evalue and "was not run" in cell.evalue
    assert printed(result, 1) == ""                      # the test's code never ran
    assert result.cells[2].status == "ok" and printed(result, 2) == "after\n"


def test_a_kernel_that_answers_ok_without_running_the_guard_does_not_pass(fresh, tmp_path):
    forged = ("ip = get_ipython()\n"
              "ip.user_expressions = lambda expressions: {key: {'status': 'ok', 'data': {'text/plain': 'None'},\n"
              "                                                 'metadata': {}} for key in expressions}\n")
    result = run(fresh, tmp_path, forged, "print('the test ran')")
    assert (result.cells[1].status, result.cells[1].ename) == ("error", "GraderError")
    assert printed(result, 1) == ""


def test_a_guard_that_hangs_is_interrupted_and_the_kernel_goes_on(fresh, tmp_path):
    hang = "import time, zlib\nzlib.decompress = lambda *a, **kw: time.sleep(600)"
    result = run(replace(fresh, cell_timeout=3), tmp_path, hang, "print('the test ran')")
    assert (result.cells[1].status, result.cells[1].ename) == ("error", "GraderError")
    assert printed(result, 1) == ""
    assert not result.fatal and result.cells[2].status == "ok" and printed(result, 2) == "after\n"


def test_a_kernel_that_dies_in_the_guard_is_a_dead_kernel(fresh, tmp_path):
    result = run(fresh, tmp_path, "import os, zlib\nzlib.decompress = lambda *a, **kw: os._exit(3)",
                 "print('the test ran')")
    assert result.cells[1].status == "dead"
    assert "died" in result.fatal and result.cells[2].status == "not_run"


def test_an_exec_of_the_notebook_s_own_that_runs_nothing_does_not_pass(fresh, tmp_path):
    """The guard calls ``exec`` by name in the notebook's namespace: a top-level ``exec`` that does
    nothing must not let the test run with the notebook's own helpers (the scan flags it too)."""
    student = ("import course_grader.kernel as k\nk.forbidden = lambda *a, **kw: []\n"
               "def exec(*args, **kwargs):\n    return None\n")
    result = run(fresh, tmp_path, student, "print('the test ran')")
    assert (result.cells[1].status, result.cells[1].ename) == ("error", "GraderError")
    assert printed(result, 1) == "" and result.cells[2].status == "ok"
