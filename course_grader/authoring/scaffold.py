"""``course new NAME``: a new assignment that releases, grades and passes the variant checks at once.

Writes ``source/NAME/NAME.ipynb`` from ``templates/new_assignment.py`` (learning goals, a setup
cell, one part with a stub, a visible test and hidden tests that record, a figure, a reflection)
and ``tests/variants/NAME.py`` from ``templates/new_variants.py`` (two wrong answers and a correct
alternative). The template is a script whose cells are separated by ``# %%`` lines:

    # %% [markdown]               a markdown cell (each line without its leading "# ")
    # %% solution <grade_id>      an answer cell (nbgrader: solution)
    # %% test <grade_id> <points> a test cell (nbgrader: grade, locked, points)
    # %% [markdown] answer <grade_id> <points>
    #                             an answer graded by hand (nbgrader: grade, solution, points)
    # %%                          an ordinary code cell

Everything before the first ``# %%`` line is a comment about the template and is dropped.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from ..config import CourseError, Settings

TEMPLATES = Path(__file__).parent / "templates"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,48}$")


def _meta(kind: str, args: list[str]) -> dict:
    if kind == "answer":
        return {"grade": True, "grade_id": args[0], "locked": False, "points": int(args[1]),
                "schema_version": 3, "solution": True, "task": False}
    if kind == "solution":
        return {"grade": False, "grade_id": args[0], "locked": False, "schema_version": 3,
                "solution": True, "task": False}
    return {"grade": True, "grade_id": args[0], "locked": True, "points": int(args[1]),
            "schema_version": 3, "solution": False, "task": False}


def notebook_from_template(text: str, name: str) -> nbformat.NotebookNode:
    """The notebook the template ``text`` describes (see the module's docstring)."""
    cells, header, body = [], None, []

    def close():
        if header is None:
            return
        words = header.split()
        source = "\n".join(body).strip("\n")
        if words[:1] == ["[markdown]"]:
            cell = nbformat.v4.new_markdown_cell("\n".join(
                line[2:] if line.startswith("# ") else line.lstrip("#") for line in source.splitlines()))
            if words[1:2] == ["answer"]:
                cell.metadata["nbgrader"] = _meta("answer", words[2:])
        else:
            cell = nbformat.v4.new_code_cell(source)
            if words[:1] in (["solution"], ["test"]):
                cell.metadata["nbgrader"] = _meta(words[0], words[1:])
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell["id"] = gid or f"{name}-{len(cells) + 1}"
        cells.append(cell)

    for line in text.splitlines():
        if line.startswith("# %%"):
            close()
            header, body = line[4:].strip(), []
        elif header is not None:
            body.append(line)
    close()
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    return nb


def new_assignment(settings: Settings, name: str, title: str | None = None) -> list[Path]:
    """Write the new assignment's source notebook and variants file; return their paths."""
    if not NAME_RE.match(name):
        raise CourseError(f"{name!r} is not a usable assignment id: use lower-case letters, "
                          "digits and underscores, starting with a letter (it names a folder, a notebook "
                          "and a Python module)")
    if name in settings.assignments() or (settings.source_dir / name).exists():
        raise CourseError(f"source/{name}/ already exists: choose another name")
    title = title or name.replace("_", " ").capitalize()

    def fill(template: str) -> str:
        return (TEMPLATES / template).read_text(encoding="utf-8").replace("__NAME__", name).replace(
            "__TITLE__", title)

    notebook = settings.source_dir / name / f"{name}.ipynb"
    notebook.parent.mkdir(parents=True)
    nbformat.write(notebook_from_template(fill("new_assignment.py"), name), notebook)
    written = [notebook]
    variants = settings.root / "tests" / "variants"
    if (variants / "__init__.py").is_file():
        target = variants / f"{name}.py"
        if not target.exists():
            target.write_text(fill("new_variants.py"), encoding="utf-8")
            written.append(target)
    return written
