"""Reading notebooks and the nbgrader metadata of their cells."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import nbformat

from .config import CourseError

HIDDEN_RE = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*(\n|$)",
                       re.S | re.M)
SOLUTION_RE = re.compile(r"^[ \t]*### BEGIN SOLUTION.*?^[ \t]*### END SOLUTION[ \t]*$", re.S | re.M)


class NotebookError(CourseError):
    """A notebook that cannot be read as a notebook; the message says why."""


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a notebook, raising NotebookError with a clear message for anything unreadable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise NotebookError(f"{path}: cannot be read ({e})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise NotebookError(f"{path} is not valid notebook JSON (line {e.lineno}, column {e.colno}: "
                            f"{e.msg}); open it in Jupyter or Colab and save it again") from None
    return notebook_from_json(data, str(path))


def notebook_from_json(data, shown: str) -> nbformat.NotebookNode:
    """The notebook of the parsed JSON ``data`` (``shown``: its name in messages), normalised
    (nbformat 4, string sources, cell ids, dicts where metadata belong), or NotebookError.

    What Jupyter would refuse to open is refused with the reason (a cell that is not an object, a
    source that is not text, a format version that is not a number); what only hides metadata (a
    cell's or the notebook's metadata that is not an object) is read as empty metadata, as for a
    notebook whose metadata were stripped (its cells are matched by their content)."""
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError(f"{shown} is JSON but not a notebook (no list of cells)")
    again = "open it in Jupyter or Colab and save it again"
    version, minor = data.get("nbformat", 4), data.get("nbformat_minor", 0)
    if not (type(version) is int and type(minor) is int):
        raise NotebookError(f"{shown} is not a valid notebook: its format version "
                            f"({version!r}.{minor!r}) is not a pair of whole numbers; {again}")
    if version != 4:
        raise NotebookError(f"{shown} is a notebook of format {version}, not 4 (Jupyter and Colab "
                            f"save format 4); {again}")
    for index, cell in enumerate(data["cells"]):
        if not isinstance(cell, dict):
            raise NotebookError(f"{shown} is not a valid notebook: cell {index} is "
                                f"{type(cell).__name__}, not a cell; {again}")
        source = cell.get("source", "")
        if source is None:
            source = ""
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"{shown} is not a valid notebook: the source of cell {index} is "
                                f"{type(source).__name__}, not text; {again}")
        cell["source"] = source
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
        attachments = cell.get("attachments")       # images pasted into a markdown cell
        if attachments is not None and not (isinstance(attachments, dict) and all(
                isinstance(files, dict) and all(isinstance(kind, str) for kind in files)
                for files in attachments.values())):
            del cell["attachments"]                  # unreadable (and never graded)
    if not isinstance(data.get("metadata"), dict):
        data["metadata"] = {}
    try:
        nb = nbformat.from_dict(data)
        for cell in nb.cells:
            if cell.get("cell_type") == "code":
                if not isinstance(cell.get("outputs"), list):
                    cell["outputs"] = []
                cell.setdefault("execution_count", None)
        _give_cells_ids(nb)
    except Exception as e:  # anything else malformed
        raise NotebookError(f"{shown} is not a valid notebook: {e}") from None
    return nb


def _give_cells_ids(nb) -> None:
    """Cell ids where they are missing, as Jupyter does when it opens an nbformat 4.0-4.4 file
    (Google Colab saves 4.0, its ids in the cells' metadata): notebooks built from it are
    written as 4.5, which requires them. Cells are matched by nbgrader grade_id, never by id."""
    if nb.get("nbformat") != 4:
        return
    used = {c.get("id") for c in nb.cells if isinstance(c.get("id"), str) and c.get("id")}
    if len(used) == len(nb.cells) and nb.get("nbformat_minor", 0) >= 5:
        return
    for index, cell in enumerate(nb.cells):
        if not (isinstance(cell.get("id"), str) and cell.get("id")):
            new = f"cell-{index}"
            while new in used:
                new += "-"
            cell["id"] = new
            used.add(new)
    nb.nbformat_minor = max(5, nb.get("nbformat_minor", 0))


def nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def grade_id(cell) -> str | None:
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def is_test(cell) -> bool:
    """An autograded test cell: graded, not a solution, code."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.get("cell_type") == "code"


def is_solution(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_hand_graded(cell) -> bool:
    """An answer graded by hand (nbgrader's "manually graded answer", e.g. a reflection): graded
    and a solution cell. The autograder gives it no points; the instructor does, in formgrader."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and bool(meta.get("solution"))


def is_locked(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("locked")) and not meta.get("solution")


def points(cell) -> float:
    try:
        return float(nbgrader_meta(cell).get("points", 0) or 0)
    except (TypeError, ValueError):
        return 0.0


#: notebook metadata key of a release notebook: {"assignment": id, "id": release_fingerprint}
RELEASE_KEY = "course_release"


def release_fingerprint(nb) -> str:
    """12 hex digits that name a release's content: every cell's type, source and nbgrader
    metadata, in order (the same release always gets the same one)."""
    cells = [[c.get("cell_type"), c.get("source", ""), nbgrader_meta(c)] for c in nb.cells]
    return hashlib.sha256(json.dumps(cells, sort_keys=True).encode()).hexdigest()[:12]


def release_of(nb) -> str | None:
    """The release a notebook was made from (``RELEASE_KEY``), or None when it does not say
    (or says something that is not a fingerprint: the submission is the student's to edit)."""
    meta = nb.get("metadata", {}).get(RELEASE_KEY)
    value = meta.get("id") if isinstance(meta, dict) else None
    return value if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{12}", value) else None


def visible_part(source: str) -> str:
    """What a student sees of a test cell: the source without its hidden tests."""
    return HIDDEN_RE.sub("", source)


def normalized(source: str) -> str:
    """Source with blank lines and trailing spaces dropped, to compare cells as a person would."""
    return "\n".join(line.rstrip() for line in source.splitlines() if line.strip())


def defined_names(source: str) -> list[str]:
    """Names of the functions and classes a cell defines, in order (regex, no execution)."""
    return re.findall(r"^(?:def|class)\s+([A-Za-z_]\w*)", source, re.M)
