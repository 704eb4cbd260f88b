"""`course publish`: the student repository holds what students need and nothing of the grader.

- exactly release/, course_utils/ (no tests), a README and a pyproject.toml for course_utils alone;
- no solution, hidden test, source notebook or grading code anywhere in it;
- the README's Colab links, the notebooks' badges and setup cell, and the packaging agree;
- it installs with pip into a fresh virtual environment in which nbgrader and course_grader do
  not exist (the Colab-like environment of tests/colab_env.py);
- it refuses to write into a folder that is not its own, and deletes nothing it did not write.
"""
from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement

from course_grader.authoring import publish as publish_mod
from course_grader.authoring import release as release_mod
from course_grader.authoring.leaks import LEAK_MARKERS
from course_grader.cli import main
from course_grader.config import CourseError
from course_grader.notebook import HIDDEN_RE, SOLUTION_RE, read_notebook
from tests.colab_env import FORBIDDEN_MODULES, colab, published  # noqa: F401 (fixtures)
from tests.conftest import ROOT

QUIET = {"log": lambda *_: None}


def _tree(folder) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------ contents

def test_published_tree_holds_exactly_the_student_files(settings, published):
    files = set(_tree(published))
    utils = {p.relative_to(ROOT).as_posix() for p in (ROOT / "course_utils").rglob("*.py")
             if "__pycache__" not in p.parts}
    notebooks = {f"release/{a}/{a}.ipynb" for a in settings.assignments()}
    expected = {"README.md", "pyproject.toml", ".gitignore", publish_mod.MARKER} | utils | notebooks
    assert files == expected
    assert not any(f.startswith(("source/", "course_grader/", "tests/")) for f in files)


def test_published_release_notebooks_are_the_committed_ones(settings, published):
    for a in settings.assignments():
        assert (published / "release" / a / f"{a}.ipynb").read_bytes() == \
            settings.release_notebook(a).read_bytes()
    for path in (ROOT / "course_utils").glob("*.py"):
        assert (published / "course_utils" / path.name).read_bytes() == path.read_bytes()


def _secret_and_public_lines(settings):
    """Every line of every solution and hidden-test region of source/, and every line the
    sources show students (markdown, stubs, visible tests, plain cells)."""
    secret, public = set(), set()
    for a in settings.assignments():
        for cell in read_notebook(settings.source_notebook(a)).cells:
            shown = SOLUTION_RE.sub("", HIDDEN_RE.sub("", cell.source))
            public |= {line.strip() for line in shown.splitlines()}
            for regex in (SOLUTION_RE, HIDDEN_RE):
                for match in regex.finditer(cell.source):
                    secret |= {line.strip() for line in match.group(0).splitlines()[1:-1]}
    return secret, public


def _shown_lines(rel: str, text: str) -> set:
    if rel.endswith(".ipynb"):
        text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
    return {line.strip() for line in text.splitlines()}


def test_nothing_published_shows_a_solution_hidden_test_or_the_grader(settings, published):
    tree = _tree(published)
    secret, public = _secret_and_public_lines(settings)
    utils_lines = set().union(*(_shown_lines(r, t) for r, t in tree.items() if r.startswith("course_utils/")))
    # a line counts when it says something: "return out" or ")" are in honest code everywhere
    telling = {l for l in secret - public - utils_lines if len(l) >= 12 and not l.startswith("#")}
    assert len(telling) > 100, "the check would not notice a leak"
    sources = {settings.source_notebook(a).read_text(encoding="utf-8") for a in settings.assignments()}
    for rel, text in tree.items():
        for marker in LEAK_MARKERS:
            assert marker not in text, f"{rel} contains {marker!r}"
        assert text not in sources, f"{rel} is a source notebook"
        if not rel.startswith("course_utils/"):       # course_utils is public by design (and
            shown = telling & _shown_lines(rel, text)  # checked against the repo's copy above)
            assert not shown, f"{rel} shows solution or hidden-test lines: {sorted(shown)[:3]}"


def test_student_pyproject_packages_course_utils_alone(settings, published):
    student = tomllib.loads((published / "pyproject.toml").read_text())
    instructor = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert student["project"]["name"] == "course-utils"
    assert student["tool"]["setuptools"]["packages"] == ["course_utils"]
    assert "course_grader" in instructor["tool"]["setuptools"]["packages"]
    assert "scripts" not in student["project"] and "optional-dependencies" not in student["project"]
    deps = [Requirement(d) for d in student["project"]["dependencies"]]
    assert {d.name for d in deps} == {"torch", "torchvision", "matplotlib", "numpy", "tqdm", "torchinfo"}
    assert {d.name for d in deps} == {Requirement(d).name for d in instructor["project"]["dependencies"]}, \
        "the student package's dependencies drifted from the instructor's pyproject.toml"
    assert str(next(d for d in deps if d.name == "torch").specifier) == ">=2.2"
    for dep in deps:   # lower bounds only: installing on Colab must never replace Colab's torch
        assert all(spec.operator == ">=" for spec in dep.specifier), dep
    import course_utils

    assert student["project"]["version"] == course_utils.__version__


def test_readme_badges_and_setup_cell_point_at_the_student_repo(settings, published):
    readme = (published / "README.md").read_text()
    install = f"git+https://github.com/{settings.student_repo}@{settings.branch}"
    assert f'pip install "course-utils @ {install}"' in readme
    assert f"git clone -b {settings.branch} https://github.com/{settings.student_repo}.git" in readme
    assert readme.startswith(f"# {settings.course_title}: assignments\n")
    assert re.search(r"(?i)submi", readme) and ".ipynb" in readme and "upload" in readme
    for a in settings.assignments():
        url = settings.colab_url(a)
        assert url == (f"https://colab.research.google.com/github/{settings.student_repo}/blob/"
                       f"{settings.branch}/release/{a}/{a}.ipynb")
        assert url in readme, f"the README has no Colab link for {a}"
        assert url.split(f"/blob/{settings.branch}/")[1] == f"release/{a}/{a}.ipynb"
        assert (published / "release" / a / f"{a}.ipynb").is_file()   # where the link points
        nb = read_notebook(published / "release" / a / f"{a}.ipynb")
        assert nb.cells[0].id == release_mod.BADGE_ID and f'href="{url}"' in nb.cells[0].source
        setup = nb.cells[1]
        assert setup.id == release_mod.SETUP_ID
        # the name in the setup cell's requirement is the published package's name
        assert f'"course-utils @ {install}"' in setup.source
    assert re.findall(r"https://colab\.research\.google\.com/github/[^)\s\"]+", readme) == \
        [settings.colab_url(a) for a in _readme_order(settings)]


def _readme_order(settings):
    titles = {a: publish_mod.notebook_title(read_notebook(settings.release_notebook(a)))
              for a in settings.assignments()}
    return sorted(titles, key=lambda a: publish_mod._order(titles[a], a))


def test_setup_cell_installs_only_in_colab(settings, published, monkeypatch):
    """Outside Colab the setup cell does nothing; in Colab it pip-installs the student repo."""
    import subprocess as subprocess_mod

    source = read_notebook(published / "release" / "pooling" / "pooling.ipynb").cells[1].source
    calls = []
    monkeypatch.setattr(subprocess_mod, "check_call", lambda args, **kw: calls.append(args))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "setup", "exec"), {})
    assert calls == []
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    exec(compile(source, "setup", "exec"), {})
    assert calls == [[sys.executable, "-m", "pip", "install", "--quiet",
                      f"course-utils @ git+https://github.com/{settings.student_repo}@{settings.branch}"]]


# ------------------------------------------------------------------------------ installing

def test_published_tree_installs_into_a_fresh_venv_without_the_grader(settings, colab, tmp_path):
    """pip installs course_utils from the published tree with --no-index: everything it needs is
    in the Colab-like set, and nothing of the instructor side is importable there."""
    probe = (
        "import importlib.util, json, sys\n"
        "import course_utils, course_utils.data, course_utils.plots, course_utils.train\n"
        "from importlib import metadata\n"
        f"print(json.dumps({{'file': course_utils.__file__, 'prefix': sys.prefix,\n"
        "  'requires': metadata.requires('course-utils'),\n"
        f"  'missing': [m for m in {list(FORBIDDEN_MODULES)!r} if importlib.util.find_spec(m) is None]}}))\n"
    )
    done = colab.run(probe, tmp_path)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["file"].startswith(str(colab.folder / "venv")), found["file"]
    assert found["missing"] == list(FORBIDDEN_MODULES), "the instructor side leaks into the Colab-like env"
    assert {Requirement(r).name for r in found["requires"]} == \
        {Requirement(d).name for d in publish_mod.student_dependencies(settings)}
    for module in ("nbgrader", "course_grader"):
        failed = colab.run(f"import {module}", tmp_path)
        assert failed.returncode != 0 and "ModuleNotFoundError" in failed.stderr
    assert "No broken requirements found" in "".join(colab.info["log"])
    installed = subprocess.run([str(colab.python), "-m", "pip", "list", "--format=json",
                                "--disable-pip-version-check"], capture_output=True, text=True,
                               env=colab.env(tmp_path), cwd=tmp_path, timeout=120)
    names = {d["name"].lower() for d in json.loads(installed.stdout)}
    assert "course-utils" in names and not names & {"nbgrader", "nbclient", "nbconvert", "pytest"}


# ------------------------------------------------------------------------------ the output folder

def test_publish_refuses_a_folder_that_is_not_its_own(settings, tmp_path):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "thesis.tex").write_text("mine")
    with pytest.raises(CourseError, match="not the output of an earlier `course publish`"):
        publish_mod.publish(settings, out, regenerate=False, **QUIET)
    assert sorted(p.name for p in out.iterdir()) == ["thesis.tex"]
    with pytest.raises(CourseError, match="holds the course itself"):
        publish_mod.publish(settings, ROOT, regenerate=False, **QUIET)


def test_publish_into_a_fresh_clone_and_again(settings, tmp_path):
    """An empty clone (only .git) is fine; publishing again replaces exactly its own files."""
    out = tmp_path / "student-repo"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    publish_mod.publish(settings, out, regenerate=False, **QUIET)
    first = _tree(out)
    # the instructor adds a licence; an assignment of an earlier publish was dropped since
    (out / "LICENSE").write_text("MIT\n")
    (out / "release" / "dropped").mkdir()
    (out / "release" / "dropped" / "dropped.ipynb").write_text("{}")
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    marker = json.loads((out / publish_mod.MARKER).read_text())
    marker["files"] += ["release/dropped/dropped.ipynb", "../outside.txt", "/etc/hostname"]
    (out / publish_mod.MARKER).write_text(json.dumps(marker))
    (out / "README.md").write_text("edited by hand")
    changes = publish_mod.publish(settings, out, regenerate=False, **QUIET)
    assert changes["removed"] == ["release/dropped/dropped.ipynb"]
    assert not (out / "release" / "dropped").exists()
    assert outside.read_text() == "keep" and (out / "LICENSE").read_text() == "MIT\n"
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    mine = lambda tree: {k: v for k, v in tree.items() if k not in ("LICENSE", ".git/HEAD")}  # noqa: E731
    assert mine(_tree(out)) == mine(first)


def test_publish_never_overwrites_a_file_it_did_not_write(settings, tmp_path):
    out = tmp_path / "student-repo"
    publish_mod.publish(settings, out, regenerate=False, **QUIET)
    marker = json.loads((out / publish_mod.MARKER).read_text())
    marker["files"].remove("README.md")             # README.md is now someone else's file
    (out / publish_mod.MARKER).write_text(json.dumps(marker))
    (out / "README.md").write_text("someone else's")
    (out / "course_utils" / "seed.py").write_text("# edited")
    with pytest.raises(CourseError, match="was not written by `course publish`"):
        publish_mod.publish(settings, out, regenerate=False, **QUIET)
    assert (out / "README.md").read_text() == "someone else's"
    assert (out / "course_utils" / "seed.py").read_text() == "# edited"   # nothing was written


def test_publish_refuses_a_stale_release(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(release_mod, "generate_student_notebook",
                        lambda s, a: read_notebook(s.release_notebook(a)))
    monkeypatch.setattr(release_mod, "render", lambda nb: "regenerated differently\n")
    out = tmp_path / "student-repo"
    with pytest.raises(CourseError, match=r"out of date with source/.*run `course release`"):
        publish_mod.publish(settings, out, regenerate=True, **QUIET)
    assert not out.exists() or not any(out.iterdir())


def test_publish_refuses_a_release_that_points_elsewhere(settings, tmp_path):
    moved = dataclasses.replace(settings, student_repo="another-org/another-repo")
    with pytest.raises(CourseError, match="does not point at another-org/another-repo"):
        publish_mod.publish(moved, tmp_path / "out", regenerate=False, **QUIET)


def test_publish_refuses_a_tree_with_a_solution(settings, monkeypatch):
    real = publish_mod._course_utils_files

    def leaky(s):
        files = real(s)
        files["course_utils/answers.py"] = "### BEGIN SOLUTION\n"
        return files

    monkeypatch.setattr(publish_mod, "_course_utils_files", leaky)
    with pytest.raises(CourseError, match="refusing to publish"):
        publish_mod.build_tree(settings, regenerate=False)


def test_cli_publish(settings, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("COURSE_ROOT", raising=False)
    out = tmp_path / "student-repo"
    assert main(["publish", str(out), "--no-check"]) == 0
    assert "published" in capsys.readouterr().out and (out / "README.md").is_file()
    assert main(["publish", str(out), "--no-check"]) == 0      # again, over its own output
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "file.txt").write_text("x")
    assert main(["publish", str(tmp_path / "other"), "--no-check"]) == 1
    assert "nothing was written" in capsys.readouterr().err
