"""A module that the grading environment lacks, said the same way in every output.

A submission that imports a library the grader does not have (one the student's Colab has, or a
typo) fails with ``ModuleNotFoundError`` in the cell that imports it; everything that cell would
have defined is then missing, and the tests fail later with a bare ``NameError``. The grader
names the module instead: "module X is not available in the grading environment", in the failed
tests' messages (report.json, feedback, ``course check``) and in a note (grades.csv's message).
"""
from __future__ import annotations

import re

_NO_MODULE = re.compile(r"No module named '([^']+)'")
#: Errors in a test cell that a missing module in an earlier cell explains.
EXPLAINED_LATER = ("NameError", "ModuleNotFoundError", "ImportError")


def sentence(module: str) -> str:
    return f"module {module} is not available in the grading environment"


def missing_module(ename: str, evalue: str) -> str:
    """The module that an error says could not be imported, or ""."""
    if ename not in ("ModuleNotFoundError", "ImportError"):
        return ""
    found = _NO_MODULE.search(evalue or "")
    return found.group(1) if found else ""


def missing_before(run, index: int, is_test) -> list[str]:
    """Modules that the notebook's own (non-test) cells before cell ``index`` could not import."""
    modules: list[str] = []
    for i, cell in enumerate(run.notebook.cells[:index]):
        outcome = run.cells.get(i)
        if outcome is None or is_test(cell):
            continue
        module = missing_module(outcome.ename, outcome.evalue)
        if module and module not in modules:
            modules.append(module)
    return modules


def explain(message: str, outcome, run, index: int, is_test) -> str:
    """``message`` of a failed test cell, with the missing module it comes from named first."""
    if outcome is None or outcome.status != "error":
        return message
    own = missing_module(outcome.ename, outcome.evalue)
    if own:
        marker = " (while checking "
        return sentence(own) + (message[message.index(marker):] if marker in message else "")
    if outcome.ename in EXPLAINED_LATER:
        earlier = missing_before(run, index, is_test)
        if earlier:
            return "; ".join(sentence(m) for m in earlier) + f" (a cell above could not import it): {message}"
    return message


def notes(run, is_test) -> list[str]:
    """One note per module the notebook's own cells could not import (grades.csv's message)."""
    found = []
    for module in missing_before(run, len(run.notebook.cells), is_test):
        found.append(f"{sentence(module)}: the cell that imports it stopped there, and tests of "
                     "what it defines fail")
    return found
