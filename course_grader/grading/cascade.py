"""Failures that follow from an earlier part (issue 13: cascades that point elsewhere).

A later part calls the student's earlier functions (``conv2d_im2col`` calls ``im2col``), so one
wrong detail early fails later tests whose own code may be right, and their hints ("did you sum
over the batch?") then name the wrong cause. The grader cannot tell from the records which it
was, but it can tell the student where to look first: when a failed test's function calls (in
the student's own code, read here as text, never run) an earlier function whose own test failed,
the test's message says so.

Which functions a test cell tests (its *targets*): those it names that the last answer cell
before it defines (``test_pad2d`` after the ``pad2d`` cell), else those it names from any
earlier answer cell. Which functions a function calls: the names in its body (the student's
code), followed through the other answer functions. A gate (a test cell named
``*_no_builtin`` or ``*_vectorised``: how the code computes) is explained only by another gate,
a test of values only by another test of values: a loop in ``conv2d_im2col`` does not make
``Conv2dScratch``'s output wrong, but its ``F.unfold`` does fail ``Conv2dScratch``'s gate. A
test that failed with an error (its cell raised) is explained by any failed callee: a ``pad2d``
that raises fails every gate that calls it too. Only a test of one function names a culprit: a
failed test of several (every function's float32 output) does not tell which of them failed. A test
that puts a stand-in in place of an earlier function (``stand_in_time_it``) is not explained by
that function.
"""
from __future__ import annotations

import ast
import re

from ..notebook import grade_id, is_solution, is_test

#: at most this many "fix X first" notes are added to one test's message
MAX_NOTES = 2
#: the endings of the gates' grade_ids (docs/authoring.md)
GATES = ("_no_builtin", "_vectorised")


def _is_gate(gid: str) -> bool:
    return gid.endswith(GATES)


def _names(node) -> set:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _definitions(source: str) -> dict:
    """{name: names used in its body} of the top-level functions and classes of ``source``;
    {} when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    return {node.name: _names(node) - {node.name} for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def targets(source_nb) -> dict:
    """{test grade_id: [the answer functions it tests]} in the instructor's ``source_nb``."""
    found, last, earlier = {}, set(), set()
    for cell in source_nb.cells:
        if is_solution(cell) and cell.get("cell_type") == "code" and grade_id(cell):
            defined = set(_definitions(str(cell.get("source", ""))))
            if defined:
                earlier |= defined
                last = defined
        elif is_test(cell) and grade_id(cell):
            try:
                used = _names(ast.parse(str(cell.get("source", ""))))
            except (SyntaxError, ValueError, RecursionError):
                used = set()
            found[grade_id(cell)] = sorted(used & last) or sorted(used & earlier)
    return found


#: a test cell that calls an earlier function through a stand-in (``stand_in_time_it()`` in its
#: visible part, ``with_reference_time_it`` in its hidden part) does not depend on the student's
#: own version of that function; the name after ``stand_in_``/``with_reference_`` is the function
#: (``stand_in_clocks`` names no answer function, so it changes nothing)
STAND_IN = re.compile(r"\b(?:stand_in|with_reference)_(\w+)\b")


def stood_in(source_nb) -> dict:
    """{test grade_id: the earlier functions it replaces by a stand-in (``STAND_IN``)}."""
    return {grade_id(cell): set(STAND_IN.findall(str(cell.get("source", ""))))
            for cell in source_nb.cells if is_test(cell) and grade_id(cell)}


def _calls(student: dict, name: str) -> list:
    """The answer functions ``name`` calls, directly or through others, in the order met."""
    seen, order, todo = {name}, [], [name]
    while todo:
        for used in sorted(student.get(todo.pop(0), set()) & set(student)):
            if used not in seen:
                seen.add(used)
                order.append(used)
                todo.append(used)
    return order


def explain(tests: list, source_nb, graded_nb, tested: dict | None = None) -> None:
    """Add to the message of each failed test whose function calls an earlier answer function
    that failed a test of its own: "<f> calls your <g>, which failed <test>: fix <g> first".
    ``tested``: ``targets(source_nb)``, when the caller has it already."""
    tested = targets(source_nb) if tested is None else tested
    student: dict = {}
    for cell in graded_nb.cells:            # the student's answer cells (merge keeps theirs)
        if is_solution(cell) and cell.get("cell_type") == "code":
            student.update(_definitions(str(cell.get("source", ""))))
    failed = {t.name for t in tests if not t.passed}
    replaced = stood_in(source_nb)
    own: dict = {}             # the tests of one function only: a failed test of several
    for gid, functions in tested.items():   # (test_float32_outputs) does not say which failed
        if len(functions) == 1:
            own.setdefault(functions[0], []).append(gid)
    for test in tests:
        if test.passed:
            continue
        notes, crashed = [], test.status == "error"     # raised: any failed callee may be why
        for function in tested.get(test.name, []):
            culprits = {}
            for called in _calls(student, function):
                culprit = next((gid for gid in own.get(called, []) if gid in failed and gid != test.name
                                and (crashed or _is_gate(gid) == _is_gate(test.name))), None)
                if culprit and called not in tested.get(test.name, []) and called not in replaced.get(test.name, ()):
                    culprits[called] = culprit
            # the first causes: a failed function that calls another failed one is left out
            for called, culprit in culprits.items():
                if not set(_calls(student, called)) & set(culprits):
                    note = f"{function} calls your {called}, which failed {culprit}: fix {called} first"
                    if note not in notes:
                        notes.append(note)
        if notes:
            test.message = (test.message + " " if test.message else "") + \
                "(" + "; ".join(notes[:MAX_NOTES]) + ")"
