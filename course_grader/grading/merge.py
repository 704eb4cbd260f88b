"""Build the notebook that grading executes from a submission and the instructor's source.

The student's own cells (answers, scratch work) are kept in the student's order. Every test cell
and every locked cell is the instructor's version from ``source/``, hidden tests included,
whatever the submission did to it, run where the student's notebook has that test cell, as Run
all would run it, unless that is before a cell that precedes it in the source notebook (then, as
for a deleted test cell, it runs after the last of those in the student's order, and after the
student's own cells that follow that one, up to the next cell of the assignment: a helper the
student wrote in a new cell below an answer is defined before the answer's test runs). What the submission changed is reported, never crashed on:
edited, deleted, duplicated, moved or re-typed test cells, changed points, edited locked cells,
and stripped nbgrader metadata.
"""
from __future__ import annotations

import copy

import nbformat

from ..notebook import (defined_names, grade_id, is_locked, is_solution, is_test, nbgrader_meta,
                       normalized, points, release_of, visible_part)


def release_status(submission_nb, current: str | None) -> str:
    """Which release the submission was made from: ``"current"``, ``"earlier <id>"``, or
    ``"unknown"`` (the notebook does not say, or there is no release to compare with)."""
    theirs = release_of(submission_nb)
    if not theirs or not current:
        return "unknown"
    return "current" if theirs == current else f"earlier {theirs}"


def build_graded_notebook(source_nb, submission_nb, current_release: str | None = None):
    """Return ``(notebook_to_run, notes)``; notes is a list of sentences about what the
    submission changed. ``current_release``: the fingerprint of the release students get now;
    a submission made from an earlier one is told so, and its test cells that differ from the
    current ones are "changed in the current release", never "edited"."""
    notes: list[str] = []
    status = release_status(submission_nb, current_release)
    earlier, unknown = status.startswith("earlier"), status == "unknown"
    if earlier:
        notes.append(f"this notebook was made from an earlier release of the assignment (release "
                     f"{status.split()[1]}; the current one is {current_release}): it was graded with the "
                     "current release's tests and points")
    source_cells = list(source_nb.cells)
    by_id = {grade_id(c): c for c in source_cells if grade_id(c)}
    test_ids = [grade_id(c) for c in source_cells if is_test(c) and grade_id(c)]
    student = [copy.deepcopy(c) for c in submission_nb.cells]

    if not any(grade_id(c) for c in student):
        notes.append("the notebook has lost its nbgrader metadata (saved by a tool that strips "
                      "it?): cells were matched to the assignment by their content")
        _restore_ids_by_content(student, source_cells)

    kept: list = []                # cells of the notebook to run, before tests are placed
    seen: set[str] = set()
    student_order_of_tests: list[str] = []
    for cell in student:
        gid = grade_id(cell)
        if gid in by_id and is_test(by_id[gid]):
            original = by_id[gid]
            if gid in seen:
                notes.append(f"test cell {gid} appears more than once: the copies were ignored")
                continue
            seen.add(gid)
            student_order_of_tests.append(gid)
            kept.append(_instructor_copy(original))     # where the student has it (see _place_tests)
            if cell.get("cell_type") != "code":
                notes.append(f"test cell {gid} was turned into a {cell.get('cell_type')} cell: "
                             "the instructor's test was run")
            elif normalized(cell.get("source", "")) not in (normalized(visible_part(original.source)),
                                                            normalized(original.source)):
                notes.append(f"test cell {gid} changed in the current release: the current test was run"
                             if earlier else
                             f"test cell {gid} differs from the current release (edited, or from an earlier "
                             "release): the current test was run" if unknown else
                             f"test cell {gid} was edited: the instructor's test was run instead")
            if points(cell) != points(original) and nbgrader_meta(cell):
                notes.append(f"test cell {gid} is worth {points(original):g} points in the current release "
                             f"({points(cell):g} in the notebook): the current release's points were used"
                             if earlier or unknown else
                             f"the points of test cell {gid} were changed from {points(original):g} "
                             f"to {points(cell):g}: the instructor's points were used")
            continue                   # placed below, from the source
        if gid in by_id:
            original = by_id[gid]
            if gid in seen:
                notes.append(f"cell {gid} appears more than once: every copy was run in the notebook's "
                             "order, as Run all runs them (what a later copy defines replaces what an "
                             "earlier one defined)")
                _strip_nbgrader(cell)
                kept.append(cell)
                continue
            seen.add(gid)
            if is_locked(original) and not is_solution(original):
                if normalized(cell.get("source", "")) != normalized(original.source) and original.cell_type == "code":
                    notes.append(f"read-only cell {gid} was edited: the instructor's version was run")
                kept.append(_instructor_copy(original))
                continue
            if is_solution(original):
                if cell.get("cell_type") != original.cell_type:
                    notes.append(f"answer cell {gid} was turned into a {cell.get('cell_type')} cell")
                    cell = nbformat.from_dict({**cell, "cell_type": original.cell_type})
                    if original.cell_type == "code":
                        cell.setdefault("outputs", [])
                        cell.setdefault("execution_count", None)
                cell.metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
            kept.append(cell)
            continue
        if gid:
            notes.append(f"cell {gid} is not part of this assignment: it was run as an ordinary cell")
        _strip_nbgrader(cell)
        kept.append(cell)

    for gid in test_ids:
        if gid not in seen:
            notes.append(f"test cell {gid} was deleted: the instructor's test was run")

    cells = _place_tests(kept, source_cells, by_id)
    placed_order = [grade_id(c) for c in cells if grade_id(c) in set(test_ids)]
    present = [g for g in placed_order if g in student_order_of_tests]
    if present != student_order_of_tests:
        notes.append("test cells were moved: each was run in its place in the assignment")

    nb = copy.deepcopy(source_nb)
    nb.cells = cells
    nb.metadata = copy.deepcopy(source_nb.metadata)
    return nb, notes


def _instructor_copy(cell):
    cell = copy.deepcopy(cell)
    if cell.get("cell_type") == "code":
        cell.outputs = []
        cell.execution_count = None
    return cell


def _strip_nbgrader(cell) -> None:
    cell.get("metadata", {}).pop("nbgrader", None)


def _place_tests(kept: list, source_cells: list, by_id: dict) -> list:
    """Put each source test cell where it runs: ``kept`` holds the instructor's copy of each test
    cell the student has, in the student's place (Run all's order); a test cell stays there
    unless a cell that precedes it in the source notebook comes later in ``kept``.

    A test cell that is missing (deleted) or that sat above such a cell runs after the last of
    them in the student's order, and after the student's own cells that follow that one (cells
    without a grade_id of the assignment: a helper written in a new cell below an answer, a
    second copy of an answer cell), up to the next cell of the assignment. So when a student
    moved answer cells around, every answer a test may use is still defined before it runs.
    """
    cells = list(kept)
    for index, cell in enumerate(source_cells):
        if not (is_test(cell) and grade_id(cell)):
            continue
        gid = grade_id(cell)
        earlier = {grade_id(c) for c in source_cells[:index] if grade_id(c)}
        found = [i for i, c in enumerate(cells) if grade_id(c) in earlier]
        lower = max(found) + 1 if found else None
        at = next((i for i, c in enumerate(cells) if grade_id(c) == gid), None)
        if at is not None:
            if lower is None or at >= lower:
                continue                # the student's place: nothing it needs comes later
            cells.pop(at)
            lower -= 1
        if lower is None:
            # no earlier graded cell: after the cells that precede it in the source, by content
            position = min(index, len(cells))
        else:
            position = lower
            while position < len(cells) and grade_id(cells[position]) not in by_id:
                position += 1
        cells.insert(position, _instructor_copy(cell))
    return cells


def _restore_ids_by_content(student: list, source_cells: list) -> None:
    """Give metadata-less cells their nbgrader metadata back, matched by content.

    Test cells match when their visible text is unchanged; answer cells when they define the
    same first function or class as the source's answer cell.
    """
    tests = {normalized(visible_part(c.source)): c for c in source_cells if is_test(c)}
    answers = {}
    for c in source_cells:
        if is_solution(c):
            names = defined_names(c.source)
            if names:
                answers.setdefault(names[0], c)
    used: set[str] = set()
    for cell in student:
        text = normalized(cell.get("source", ""))
        match = tests.get(text)
        if match is None:
            names = defined_names(cell.get("source", ""))
            match = answers.get(names[0]) if names else None
        if match is not None and grade_id(match) not in used:
            used.add(grade_id(match))
            cell.setdefault("metadata", {})["nbgrader"] = copy.deepcopy(match.metadata["nbgrader"])
