"""``course release``: the student version of each assignment, built with nbgrader.

nbgrader's generate_assignment runs in a scratch copy of the course (its own gradebook), so a
release that fails leaves the working one in ``release/`` untouched. Then each notebook gets an
"Open in Colab" badge and a setup cell, stubs say what to implement, and every cell keeps the
source's id: regenerating an unchanged source gives a byte-identical release.
"""
from __future__ import annotations

import ast
import re
import shutil
import tempfile
from pathlib import Path

import nbformat

from ..config import CourseError, Settings
from ..fsutil import atomic_write, tools_on_path
from .leaks import LEAK_MARKERS
from .points import stated_points_problems
from ..notebook import RELEASE_KEY, is_solution, read_notebook, release_fingerprint

BADGE_ID = "colab-badge"
SETUP_ID = "colab-setup"

#: The Colab setup cell of every release notebook (a ``str.format`` template).
SETUP_TEMPLATE = (Path(__file__).with_name("templates") / "colab_setup_cell.py").read_text(encoding="utf-8")


def badge_markdown(settings: Settings, assignment: str) -> str:
    """The first cell of a release: the "Open in Colab" badge and the library versions grading uses."""
    return (f'<a href="{settings.colab_url(assignment)}" target="_parent">'
            '<img src="https://colab.research.google.com/assets/colab-badge.svg" '
            'alt="Open In Colab"/></a>\n\n'
            + (f"*Graded with the library versions Google Colab ships ({versions}), "
               "so code that runs in Colab runs the same when graded.*" if (versions := grading_versions(settings))
               else "*Graded with the libraries Google Colab ships.*"))


def grading_versions(settings: Settings) -> str:
    """"numpy 2.1.3, matplotlib 3.10.0, ...": the libraries students import that the grading
    environment pins to Colab's versions (the ``grade`` extra of pyproject.toml, the one place)."""
    import tomllib

    try:
        with open(settings.root / "pyproject.toml", "rb") as f:
            grade = tomllib.load(f)["project"]["optional-dependencies"]["grade"]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError):
        return ""                          # a course without that pin list: the badge says less
    pins = [re.fullmatch(r"([A-Za-z0-9_.-]+)==([\w.]+)", requirement.strip()) for requirement in grade]
    return ", ".join(f"{pin[1]} {pin[2]}" for pin in pins if pin)


def _nbgrader_config(settings: Settings, course_dir: Path):
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(settings.root)).load_config()
    config.pop("Course", None)
    config.CourseDirectory.root = str(course_dir)
    config.CourseDirectory.db_url = f"sqlite:///{course_dir / 'gradebook.db'}"
    config.Exchange.root = str(course_dir / "exchange")
    return config


def generate_student_notebook(settings: Settings, assignment: str) -> nbformat.NotebookNode:
    """Run nbgrader's generate_assignment in a scratch course and return the student notebook."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    tools_on_path()                            # nbgrader runs `alembic` by name
    source = settings.source_notebook(assignment)
    problems = metadata_problems(read_notebook(source), source.relative_to(settings.root).as_posix())
    if problems:
        raise CourseError(f"nbgrader cannot generate {assignment}:\n  " + "\n  ".join(problems))
    with tempfile.TemporaryDirectory(prefix=f"course-release-{assignment}-") as tmp:
        course = Path(tmp)
        (course / "source" / assignment).mkdir(parents=True)
        shutil.copy2(source, course / "source" / assignment / source.name)
        config = _nbgrader_config(settings, course)
        coursedir = CourseDirectory(config=config)
        api = NbGraderAPI(coursedir=coursedir, config=config)
        outcome = api.generate_assignment(assignment, force=True, create=True)
        built = course / "release" / assignment / source.name
        if not outcome.get("success") or not built.is_file():
            raise CourseError(f"nbgrader could not generate {assignment} from {source.name}:\n"
                              + nbgrader_message(outcome))
        return read_notebook(built)


_EXCEPTION_LINE = re.compile(r"^\s*(?:[\w.]+\.)?(\w*(?:Error|Exception)): (.+)$")
_NOT_A_REASON = ("Please see the", "There was an error processing", "Notebook failed to validate")


def nbgrader_message(outcome: dict) -> str:
    """What went wrong, from what nbgrader's API returned: the exception messages in its log
    (nbgrader's own error only says "see the above traceback", and the traceback is in the
    log), else the last lines of the error."""
    reasons = []
    for line in (outcome.get("log") or "").splitlines():
        match = _EXCEPTION_LINE.match(line)
        if match and not match.group(2).startswith(_NOT_A_REASON) and line.strip() not in reasons:
            reasons.append(line.strip())
    if reasons:
        return "\n".join(reasons)
    return "\n".join((outcome.get("error") or outcome.get("log") or "no message").strip().splitlines()[-15:])


def metadata_problems(nb, where: str) -> list[str]:
    """nbgrader metadata that generate_assignment would reject, each naming the cell and the fix:
    a cell marked solution, grade, locked or task without a grade_id, a grade_id used twice, a
    graded cell without points."""
    problems, seen = [], {}
    for i, cell in enumerate(nb.cells):
        start = cell.source.strip().splitlines()[0][:50] if cell.source.strip() else ""
        what = f"{where}, cell {i} ({cell.cell_type}, starting {start!r})"
        for region in ("SOLUTION", "HIDDEN TESTS"):
            begins, ends = (len(re.findall(rf"^\s*### {edge} {region}\s*$", cell.source, re.M))
                            for edge in ("BEGIN", "END"))
            if begins != ends:
                problems.append(f"{what}: {begins} '### BEGIN {region}' but {ends} '### END {region}' "
                                "line(s): every region needs both, each on a line of its own")
        meta = cell.get("metadata", {}).get("nbgrader")
        if not meta:
            continue
        gid = meta.get("grade_id")
        flags = [k for k in ("solution", "grade", "locked", "task") if meta.get(k)]
        if flags and not gid:
            fix = (" A reflection answer cell is graded by hand: grade: true, solution: true, points and "
                   "the grade_id 'reflection' (docs/authoring.md);" if cell.cell_type == "markdown" else "")
            problems.append(f"{what}: nbgrader metadata {', '.join(f'{k}: true' for k in flags)} but no "
                            f"grade_id.{fix} give it a unique grade_id, or remove its nbgrader metadata")
        if gid and gid in seen:
            problems.append(f"{what}: grade_id {gid!r} is already used by cell {seen[gid]}: grade_ids must be unique")
        if gid:
            seen.setdefault(gid, i)
        if meta.get("grade") and not meta.get("points"):
            problems.append(f"{what}: a graded cell (grade: true) without points: set \"points\"")
    return problems


def finish_release(nb, settings: Settings, assignment: str) -> nbformat.NotebookNode:
    """Add the Colab cells, word the stubs, and make ids and metadata stable."""
    for index, cell in enumerate(nb.cells):
        if not cell.get("id"):
            cell["id"] = f"{assignment}-{index}"
        if cell.get("cell_type") == "code":
            cell.outputs, cell.execution_count = [], None
        cell.get("metadata", {}).pop("execution", None)
        if is_solution(cell) and cell.get("cell_type") == "code":
            cell.source = word_stubs(cell.source)
    badge = nbformat.v4.new_markdown_cell(badge_markdown(settings, assignment))
    badge["id"] = BADGE_ID
    setup = nbformat.v4.new_code_cell(SETUP_TEMPLATE.format(install_url=settings.install_url()))
    setup["id"] = SETUP_ID
    nb.cells = [badge, setup] + [c for c in nb.cells if c.get("id") not in (BADGE_ID, SETUP_ID)]
    nb.metadata["colab"] = {"provenance": []}
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    nb.nbformat, nb.nbformat_minor = 4, max(5, nb.get("nbformat_minor", 5))
    # which release a submission was made from (grading says so when it is an earlier one)
    nb.metadata.pop(RELEASE_KEY, None)
    nb.metadata[RELEASE_KEY] = {"assignment": assignment, "id": release_fingerprint(nb)}
    return nb


_STUB = re.compile(r"^([ \t]*)raise NotImplementedError\(\)[ \t]*$", re.M)
# Fallback for a cell that is not valid Python: a def/class line outside triple-quoted strings,
# one whose last character (before a comment) is the colon.
_DEF = re.compile(r"^([ \t]*)(?:async[ \t]+)?(def|class)[ \t]+([A-Za-z_]\w*)\b[^\n#]*:[ \t]*(?:#[^\n]*)?$",
                  re.M)
_TRIPLE_QUOTED = re.compile(r'"""[\s\S]*?(?:"""|\Z)|\'\'\'[\s\S]*?(?:\'\'\'|\Z)')


def _enclosing_names(source: str) -> dict | None:
    """{line number: the function (or Class.method) whose body holds that line}, from the syntax
    tree of ``source``; None when the source does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names: dict[int, str] = {}

    def visit(node, cls: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{cls}.{child.name}" if cls else child.name
                for line in range(child.body[0].lineno, (child.end_lineno or child.lineno) + 1):
                    names[line] = name          # inner definitions overwrite outer ones below
                visit(child, None)
            elif isinstance(child, ast.ClassDef):
                visit(child, child.name)
            else:
                visit(child, cls)

    visit(tree, None)
    return names


def _enclosing_by_regex(source: str, offset: int) -> str | None:
    code = _TRIPLE_QUOTED.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), source[:offset])
    defs = list(_DEF.finditer(code))
    if not defs:
        return None
    last = defs[-1]
    name = last.group(3)
    if last.group(1):  # a method: name its class too
        classes = [d for d in defs if d.group(2) == "class" and len(d.group(1)) < len(last.group(1))]
        if classes:
            name = f"{classes[-1].group(3)}.{name}"
    return name


def word_stubs(source: str) -> str:
    """Replace ``raise NotImplementedError()`` with a message naming what to implement: the
    function (or ``Class.method``) whose body holds the stub, found from the cell's syntax tree,
    so that a ``def`` or ``class`` word inside a docstring or string never counts."""
    enclosing = _enclosing_names(source)

    def message(match: re.Match) -> str:
        if enclosing is not None:
            name = enclosing.get(source.count("\n", 0, match.start()) + 1)
        else:
            name = _enclosing_by_regex(source, match.start())
        return (f'{match.group(1)}raise NotImplementedError("{name or "this part"} is not '
                'implemented yet: replace this line with your code")')
    return _STUB.sub(message, source)


def render(nb) -> str:
    return nbformat.writes(nb, version=4) + "\n"


def check_no_leaks(text: str, where: str) -> None:
    for marker in LEAK_MARKERS:
        if marker in text:
            raise CourseError(f"{where} would contain {marker!r}: refusing to write a release "
                              "that shows solutions or hidden tests")


def check_stated_points(settings: Settings, names: list[str]) -> None:
    """Refuse to release while a notebook's text states other points than its test cells'
    metadata (``course_grader.authoring.points``)."""
    problems = []
    for assignment in names:
        path = settings.source_notebook(assignment)
        problems += stated_points_problems(read_notebook(path),
                                           path.relative_to(settings.root).as_posix())
    if problems:
        raise CourseError("the points written in the notebooks differ from the points of their test cells "
                          "(nbgrader metadata, what grading uses); change the text (or the metadata), then run "
                          "`course release` again:\n  " + "\n  ".join(problems))


def release(settings: Settings, assignments: list[str] | None = None, log=print) -> list[Path]:
    """Regenerate ``release/<a>/<a>.ipynb`` for each assignment (all when none are named)."""
    names = assignments or settings.assignments()
    if not names:
        raise CourseError(f"no assignments found in {settings.source_dir}")
    check_stated_points(settings, names)
    built = {}
    for assignment in names:             # build everything first: a failure writes nothing
        nb = finish_release(generate_student_notebook(settings, assignment), settings, assignment)
        text = render(nb)
        check_no_leaks(text, f"release/{assignment}")
        built[assignment] = text
    written = []
    for assignment, text in built.items():
        target = settings.release_notebook(assignment)
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            log(f"release/{assignment}: unchanged")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, text)
            log(f"release/{assignment}: written")
        written.append(target)
    return written
