"""Example submissions built from an assignment's source and release notebooks.

Used by ``course demo`` and by the tests: the reference solution, the untouched release, and a
release with some answer cells filled in from the reference.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from ..assignment import load
from ..config import Settings
from ..notebook import grade_id, is_solution


def solution_ids(nb) -> list[str]:
    return [grade_id(c) for c in nb.cells if is_solution(c) and grade_id(c) and c.cell_type == "code"]


def fill_solutions(release_nb, source_nb, ids=None, replace: dict | None = None):
    """A copy of ``release_nb`` whose answer cells in ``ids`` (all when None) hold the
    reference code, and whose cells in ``replace`` ({grade_id: source}) hold the given code."""
    reference = {grade_id(c): c.source for c in source_nb.cells if is_solution(c) and grade_id(c)}
    wanted = set(reference) if ids is None else set(ids)
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        gid = grade_id(cell)
        if replace and gid in replace:
            cell.source = replace[gid]
        elif gid in wanted and gid in reference and is_solution(cell):
            cell.source = strip_markers(reference[gid])
    return nb


def strip_markers(source: str) -> str:
    """Reference code as a student would have typed it: the solution markers removed."""
    lines = [l for l in source.splitlines() if l.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
    return "\n".join(lines)


def write_examples(settings: Settings, assignment: str, submitted: Path) -> dict:
    """Write three example submissions of ``assignment`` into nbgrader's submitted/ layout.

    Students: ``reference`` (every answer from the reference solution), ``untouched`` (the
    release as handed out) and ``partial`` (the first half of the answers filled in).
    Returns {student: path}.
    """
    loaded = load(settings, assignment)
    source, release = loaded.source, loaded.release()
    ids = loaded.solution_ids
    notebooks = {
        "reference": fill_solutions(release, source),
        "untouched": release,
        "partial": fill_solutions(release, source, ids[: max(1, len(ids) // 2)]),
    }
    paths = {}
    for student, nb in notebooks.items():
        path = Path(submitted) / student / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        paths[student] = path
    return paths
