"""``course publish OUT_DIR``: the student-facing repository.

What students get, and nothing else::

    OUT_DIR/README.md                  how to open each assignment (Colab badge, or locally),
                                       how to submit; one Colab link per assignment
    OUT_DIR/pyproject.toml             packaging of course_utils alone, so that
                                       pip install git+https://github.com/<student_repo> works
    OUT_DIR/.gitignore
    OUT_DIR/course_utils/*.py          the helper package (no tests)
    OUT_DIR/release/<a>/<a>.ipynb      the release notebooks, exactly as in release/
    OUT_DIR/.course-publish.json       the list of files written, for the next publish

Push OUT_DIR to ``c.Course.student_repo`` (branch ``c.Course.branch``): the Colab badges and the
setup cell of every release notebook point there. Solutions, hidden tests, source notebooks and
the grader never go there: every file is checked for them before anything is written.

OUT_DIR must be new, empty (a ``.git`` folder aside) or the output of an earlier publish. An
earlier output is updated in place: the files it listed are replaced or removed, anything else
in the folder (``.git``, a LICENSE you added) is left alone.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path, PurePosixPath

from . import release as release_mod
from ..config import CourseError, Settings
from ..fsutil import atomic_write
from .leaks import LEAK_MARKERS
from ..notebook import HIDDEN_RE, SOLUTION_RE, read_notebook

MARKER = ".course-publish.json"
#: The student repository's README, pyproject.toml and .gitignore (``str.format`` templates).
TEMPLATES = Path(__file__).with_name("templates")


def _template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def student_dependencies(settings: Settings) -> tuple:
    """What ``pip install git+https://github.com/<student_repo>`` installs besides course_utils:
    the course pyproject's ``[project].dependencies`` with lower bounds only, so that installing
    on Colab never replaces Colab's own (newer) torch."""
    try:
        import tomllib
    except ImportError:                     # Python 3.10
        import tomli as tomllib
    with open(settings.root / "pyproject.toml", "rb") as f:
        deps = tomllib.load(f)["project"]["dependencies"]
    lower = []
    for dep in deps:
        name = re.match(r"[A-Za-z0-9._\-\[\]]+", dep.strip()).group(0)
        bounds = [b.strip() for b in dep.strip()[len(name):].split(",") if b.strip().startswith(">=")]
        lower.append(name + ",".join(bounds))
    return tuple(lower)


#: Lines of solution and hidden-test regions shorter than this are not searched for (``return
#: out`` is also in plenty of honest code).
SECRET_LINE_MIN = 24

COLAB_BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"

# ------------------------------------------------------------------------------ the tree

def notebook_title(nb) -> str:
    """The first markdown heading of a notebook (the Colab badge cell has none)."""
    for cell in nb.cells:
        if cell.get("cell_type") != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("#"):
                return line.lstrip("#").strip()
    return ""


def _order(title: str, name: str):
    match = re.match(r"Assignment\s+(\d+)\b", title)
    return (int(match.group(1)) if match else 0, name)


def student_readme(settings: Settings, titles: dict) -> str:
    """The student README; ``titles`` is {assignment: notebook title}."""
    rows = []
    for number, name in enumerate(sorted(titles, key=lambda a: _order(titles[a], a)), start=1):
        title = re.sub(r"^Assignment\s+\d+\s*[:.-]\s*", "", titles[name]) or name
        badge = f"[![Open In Colab]({COLAB_BADGE_SVG})]({settings.colab_url(name)})"
        rows.append(f"| {number} | {title.replace('|', '/')} | {badge} | "
                    f"[`release/{name}/{name}.ipynb`](release/{name}/{name}.ipynb) |")
    return _template("student_README.md").format(rows="\n".join(rows), repo=settings.student_repo,
                                  repo_name=settings.student_repo.rsplit("/", 1)[-1],
                                  install_url=settings.install_url(), branch=settings.branch,
                                  title=settings.course_title)


def student_pyproject(settings: Settings, version: str) -> str:
    deps = "\n".join(f'    "{d}",' for d in student_dependencies(settings))
    return _template("student_pyproject.toml").format(version=version, dependencies=deps, repo=settings.student_repo,
                                     install_url=settings.install_url())


def course_utils_version(settings: Settings) -> str:
    init = settings.root / "course_utils" / "__init__.py"
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', init.read_text(encoding="utf-8"), re.M)
    if not match:
        raise CourseError(f"{init} sets no __version__: the student package needs one")
    return match.group(1)


def _course_utils_files(settings: Settings) -> dict:
    package = settings.root / "course_utils"
    if not (package / "__init__.py").is_file():
        raise CourseError(f"{package} is not a package (no __init__.py)")
    files = {}
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(settings.root)
        parts = rel.parts
        if (not path.is_file() or path.is_symlink() or "__pycache__" in parts
                or any(p.startswith(".") or p in ("tests", "test") for p in parts)
                or path.suffix in (".pyc", ".pyo") or path.name.startswith("test_")
                or path.name == "conftest.py"):
            continue
        files[rel.as_posix()] = path.read_text(encoding="utf-8")
    return files


def _check_release(settings: Settings, assignment: str, text: str, regenerate: bool) -> None:
    """The committed release must be what the source generates, pointing at the student repo."""
    where = f"release/{assignment}/{assignment}.ipynb"
    nb = read_notebook(settings.release_notebook(assignment))
    cells = {c.get("id"): c for c in nb.cells}
    badge, setup = cells.get(release_mod.BADGE_ID), cells.get(release_mod.SETUP_ID)
    expected_setup = release_mod.SETUP_TEMPLATE.format(install_url=settings.install_url())
    if (badge is None or badge.source != release_mod.badge_markdown(settings, assignment)
            or setup is None or setup.source.strip() != expected_setup.strip()):
        raise CourseError(f"{where}: its Colab badge or setup cell does not point at "
                          f"{settings.student_repo} (branch {settings.branch}): run `course release`")
    if regenerate:
        fresh = release_mod.render(release_mod.finish_release(
            release_mod.generate_student_notebook(settings, assignment), settings, assignment))
        if fresh != text:
            raise CourseError(f"{where} is out of date with source/{assignment}: run `course release` "
                              "(and commit release/) before publishing")


def _public_lines(source_nb) -> set:
    public = "\n".join(SOLUTION_RE.sub("", HIDDEN_RE.sub("", c.source)) for c in source_nb.cells)
    return {line.strip() for line in public.splitlines()}


def secret_lines(source_nbs) -> set:
    """Lines of the source notebooks' solution and hidden-test regions, at least SECRET_LINE_MIN
    characters long, that no notebook shows in its public text (markdown, stubs, visible tests,
    plain cells)."""
    secret, public = set(), set()
    for nb in source_nbs:
        public |= _public_lines(nb)
        for cell in nb.cells:
            for regex in (HIDDEN_RE, SOLUTION_RE):
                for match in regex.finditer(cell.source):
                    for line in match.group(0).splitlines()[1:-1]:
                        line = line.strip()
                        if len(line) >= SECRET_LINE_MIN and not line.startswith("#"):
                            secret.add(line)
    return secret - public


def check_tree(files: dict, settings: Settings) -> None:
    """Refuse a tree that shows a solution, a hidden test, a source notebook or the grader."""
    source_nbs = [read_notebook(settings.source_notebook(a)) for a in settings.assignments()]
    secrets = secret_lines(source_nbs)
    for rel, text in files.items():          # course_utils is public by design: its lines are not
        if rel.startswith("course_utils/"):  # secrets (``device = torch.device(device)``)
            secrets -= _lines(rel, text)
    sources = {settings.source_notebook(a).read_text(encoding="utf-8") for a in settings.assignments()}
    for rel, text in files.items():
        if rel.startswith(("source/", "course_grader/", "tests/")):
            raise CourseError(f"refusing to publish {rel}: instructor material")
        for marker in LEAK_MARKERS:
            if marker in text:
                raise CourseError(f"refusing to publish: {rel} contains {marker!r}")
        if text in sources:
            raise CourseError(f"refusing to publish: {rel} is a source notebook")
        shown = secrets & _lines(rel, text)
        if shown:
            raise CourseError(f"refusing to publish: {rel} shows a line of a solution or hidden "
                              f"test: {sorted(shown)[0]}")


def _lines(rel: str, text: str) -> set:
    """The stripped lines of a file; of a notebook, the lines of its cells."""
    if rel.endswith(".ipynb"):
        cells = json.loads(text).get("cells", [])
        text = "\n".join("".join(c.get("source", "")) for c in cells)
    return {line.strip() for line in text.splitlines()}


def build_tree(settings: Settings, regenerate: bool = True) -> dict:
    """{relative path: text} of the student repository."""
    names = settings.assignments()
    if not names:
        raise CourseError(f"no assignments found in {settings.source_dir}")
    files: dict = {}
    titles = {}
    for assignment in names:
        path = settings.release_notebook(assignment)
        if not path.is_file():
            raise CourseError(f"release/{assignment}/{assignment}.ipynb is missing: run `course release`")
        text = path.read_text(encoding="utf-8")
        _check_release(settings, assignment, text, regenerate)
        files[f"release/{assignment}/{assignment}.ipynb"] = text
        titles[assignment] = notebook_title(read_notebook(path)) or assignment
    files.update(_course_utils_files(settings))
    files["README.md"] = student_readme(settings, titles)
    files["pyproject.toml"] = student_pyproject(settings, course_utils_version(settings))
    files[".gitignore"] = _template("student_gitignore")
    check_tree(files, settings)
    files[MARKER] = json.dumps({"generated_by": "course publish", "student_repo": settings.student_repo,
                                "branch": settings.branch,
                                "files": sorted(files)}, indent=2) + "\n"
    return files


# ------------------------------------------------------------------------------ writing

def _previous_files(out: Path) -> set:
    """Files of an earlier publish in ``out`` (empty for a new or empty folder); refuses a folder
    that holds anything else."""
    if not out.exists():
        return set()
    if not out.is_dir():
        raise CourseError(f"{out} exists and is not a folder")
    entries = sorted(p.name for p in out.iterdir() if p.name != ".git")
    if not entries:
        return set()
    marker = out / MARKER
    if not marker.is_file():
        shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
        raise CourseError(f"{out} is not empty ({shown}) and is not the output of an earlier "
                          f"`course publish` (it has no {MARKER}): nothing was written. Publish into "
                          "a new or empty folder (a clone of the student repository is fine).")
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        listed = data["files"]
        if not (isinstance(listed, list) and all(isinstance(f, str) for f in listed)):
            raise ValueError("files is not a list of paths")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CourseError(f"{marker} cannot be read ({e}): nothing was written; remove the folder "
                          "or publish elsewhere") from None
    return {f for f in listed if _safe_relative(f)}


def _safe_relative(rel: str) -> bool:
    path = PurePosixPath(rel)
    return bool(rel) and not path.is_absolute() and ".." not in path.parts and "\\" not in rel


def _inside(out: Path, rel: str) -> Path:
    target = out / rel
    resolved_out = out.resolve()
    if not target.resolve().is_relative_to(resolved_out):
        raise CourseError(f"{target} leads outside {out} (a symbolic link?): nothing was written")
    return target


def write_tree(out: Path, files: dict) -> dict:
    """Write ``files`` into ``out``, replacing an earlier publish; returns {"written", "removed"}."""
    out = Path(out)
    previous = _previous_files(out)
    out.mkdir(parents=True, exist_ok=True)
    for rel in files:                       # check everything before changing anything
        target = _inside(out, rel)
        if target.is_symlink() or target.is_dir():
            raise CourseError(f"{target} is in the way (a folder or link): nothing was written")
        if target.exists() and rel not in previous and rel != MARKER:
            raise CourseError(f"{target} exists and was not written by `course publish`: "
                              "nothing was written; move it away first")
    removed = []
    for rel in sorted(previous - set(files)):
        target = out / rel
        if target.is_file() and not target.is_symlink() and target.resolve().is_relative_to(out.resolve()):
            target.unlink()
            removed.append(rel)
            parent = target.parent
            while parent != out and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
    for rel, text in sorted(files.items(), key=lambda kv: kv[0] == MARKER):  # the marker last
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, text)
    return {"written": sorted(files), "removed": removed}


def _uncommitted(settings: Settings) -> str:
    if not (settings.root / ".git").exists():
        return ""
    try:
        done = subprocess.run(["git", "status", "--porcelain", "--", "release", "course_utils"],
                              cwd=settings.root, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def publish(settings: Settings, out: Path, regenerate: bool = True, log=print) -> dict:
    """Write the student repository into ``out``.

    regenerate: rebuild each release notebook from source/ with nbgrader and refuse to publish
    one that differs from release/ (False: take release/ as it is; the Colab cells are checked).
    Returns {"written": [...], "removed": [...]}, paths relative to ``out``.
    """
    out = Path(out).resolve()
    root = settings.root.resolve()
    if out == root or root.is_relative_to(out):
        raise CourseError(f"refusing to publish into {out}: it holds the course itself")
    _previous_files(out)                     # a clear refusal before the slow part
    files = build_tree(settings, regenerate=regenerate)
    changes = write_tree(out, files)
    dirty = _uncommitted(settings)
    if dirty:
        log("note: release/ or course_utils/ has changes that are not committed; they were published:\n"
            + "\n".join("  " + line for line in dirty.splitlines()[:10]))
    log(f"published {len(changes['written'])} files to {out}"
        + (f" (removed {len(changes['removed'])} of the previous publish)" if changes["removed"] else ""))
    log(f"next: push it to https://github.com/{settings.student_repo} (branch {settings.branch}); "
        "the Colab badges and the notebooks' setup cell point there")
    return changes
