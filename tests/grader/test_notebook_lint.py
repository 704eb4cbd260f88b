"""pyflakes over everything the course runs: the packages, the tests, and the code cells of every
source and release notebook (issue 15.6: hidden-test code in notebook JSON is code too).

A notebook's code cells are checked as one module, in order, as the kernel runs them: a name a
hidden test uses but nothing defines is an undefined name; a function or class defined in two
cells is a pasted helper (shared helpers belong in ``course_grader/inside/`` or ``course_utils``,
see docs/authoring.md), except where a test cell wraps the student's own function of that name.
Allowed in notebooks only: an import no cell uses (a setup cell imports what students may need)
and an import repeated in a later cell (each test cell imports what it uses).
"""
from __future__ import annotations

import ast
import io

import nbformat
import pytest
from pyflakes import api, messages
from pyflakes.reporter import Reporter

from tests.conftest import ROOT

PYTHON_FOLDERS = ["course_grader", "course_utils", "tests"]
#: text templates with ``{placeholders}`` (a setup cell that imports course_utils only to see
#: whether it is installed), not modules
NOT_MODULES = ("course_grader/authoring/templates/",)
NOTEBOOKS = sorted(p.relative_to(ROOT).as_posix() for folder in ("source", "release")
                   for p in (ROOT / folder).glob("*/*.ipynb"))
#: pytest fixtures imported from tests/colab_env.py: pyflakes sees an unused import and test
#: arguments that redefine it
FIXTURE_IMPORTS = {"colab", "colab_saved", "published"}


class _Collect(Reporter):
    def __init__(self):
        super().__init__(io.StringIO(), io.StringIO())
        self.found, self.broken = [], []

    def flake(self, message):
        self.found.append(message)

    def syntaxError(self, filename, msg, lineno, offset, text):
        self.broken.append(f"{filename}:{lineno}: syntax error: {msg}")

    def unexpectedError(self, filename, msg):
        self.broken.append(f"{filename}: {msg}")


def _flakes(source: str, filename: str) -> tuple[list, list]:
    reporter = _Collect()
    api.check(source, filename, reporter)
    return reporter.found, reporter.broken


def _fixture_import(message) -> bool:
    return (isinstance(message, (messages.UnusedImport, messages.RedefinedWhileUnused))
            and message.message_args[0].split(".")[-1] in FIXTURE_IMPORTS)


def notebook_module(nb) -> tuple[str, list[str], set[str]]:
    """The code cells as one module (IPython magics and shell lines blanked), for each of its
    lines the cell it came from (grade_id, else cell id, else index), and the solution cells."""
    lines, origin, solutions = [], [], set()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        name = meta.get("grade_id") or cell.get("id") or f"cell {i}"
        if meta.get("solution"):
            solutions.add(name)
        for line in cell.source.splitlines() + [""]:
            lines.append("" if line.lstrip().startswith(("%", "!")) else line)
            origin.append(name)
    return "\n".join(lines) + "\n", origin, solutions


def defined_in_several_cells(source: str, origin: list[str], solutions: set[str]) -> dict[str, list[str]]:
    """Top-level functions and classes defined in more than one cell, none of them a solution
    cell (a test that wraps the student's function redefines it on purpose): name -> cells."""
    cells: dict[str, list[str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            cells.setdefault(node.name, []).append(origin[node.lineno - 1])
    return {name: where for name, where in cells.items()
            if len(set(where)) > 1 and not set(where) & solutions}


def _allowed_in_notebooks(message, lines: list[str]) -> bool:
    if isinstance(message, messages.UnusedImport):
        return True
    return (isinstance(message, messages.RedefinedWhileUnused)
            and lines[message.lineno - 1].lstrip().startswith(("import ", "from ")))


def notebook_problems(nb, filename: str) -> list[str]:
    source, origin, solutions = notebook_module(nb)
    found, broken = _flakes(source, filename)
    lines = source.splitlines()
    problems = broken + [f"{filename}: cell {origin[m.lineno - 1]}: {m.message % m.message_args}"
                         for m in found if not _allowed_in_notebooks(m, lines)]
    if not broken:
        problems += [f"{filename}: {name} is defined in cells {', '.join(where)}: a helper two cells "
                     f"need belongs in course_grader/inside/ (hidden tests) or course_utils (visible)"
                     for name, where in defined_in_several_cells(source, origin, solutions).items()]
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_notebook_code_cells_pass_pyflakes(path):
    problems = notebook_problems(nbformat.read(ROOT / path, as_version=4), path)
    assert not problems, "\n".join(problems)


def test_python_files_pass_pyflakes():
    problems = []
    for folder in PYTHON_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(NOT_MODULES):
                continue
            found, broken = _flakes(path.read_text(encoding="utf-8"), rel)
            problems += broken + [f"{rel}:{m.lineno}: {m.message % m.message_args}"
                                  for m in found if not _fixture_import(m)]
    assert not problems, "\n".join(problems)


def test_the_notebook_lint_finds_a_pasted_helper_and_an_undefined_name():
    """Not vacuous: a helper defined in two test cells and a name nothing defines are reported,
    with the cells they are in; an unused setup import, a repeated import and a test that wraps
    the student's function are not."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import math\nimport torch\n%matplotlib inline"),
        nbformat.v4.new_code_cell("def answer():\n    return 1", metadata={"nbgrader": {"grade_id": "answer",
                                                                                          "solution": True}}),
        nbformat.v4.new_code_cell("import torch\nreal = answer\ndef answer():\n    return real()\nanswer()",
                                  metadata={"nbgrader": {"grade_id": "test_answer"}}),
        nbformat.v4.new_code_cell("def _helper(x):\n    return x\n_helper(torch.ones(1))",
                                  metadata={"nbgrader": {"grade_id": "test_a"}}),
        nbformat.v4.new_code_cell("def _helper(x):\n    return x\nprint(undefined_thing)",
                                  metadata={"nbgrader": {"grade_id": "test_b"}}),
    ])
    problems = notebook_problems(nb, "made.ipynb")
    assert problems == ["made.ipynb: cell test_b: undefined name 'undefined_thing'",
                        "made.ipynb: _helper is defined in cells test_a, test_b: a helper two cells need "
                        "belongs in course_grader/inside/ (hidden tests) or course_utils (visible)"], problems
