"""`course new` (issue 17.1): a new assignment, scaffolded in a course of its own, releases, grades
(reference full marks, untouched release 0) and passes the variant checks at once, and passes
the checks every notebook of the course passes (points stated once, nbgrader metadata, lint)."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_grader.authoring.points import stated_points_problems
from course_grader.authoring.release import metadata_problems
from course_grader.config import load_settings
from course_grader.grading.grade import grade_notebook
from tests.conftest import ROOT
from tests.grader.test_notebook_lint import notebook_problems
from tests.helpers import fill_solutions

NAME = "dropout_demo"
COURSE = str(Path(sys.prefix) / "bin" / "course")
pytestmark = pytest.mark.slow


def _course(course: Path, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "COURSE_ROOT": str(course)}
    return subprocess.run([COURSE, *args], cwd=course, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course of its own (what an instructor's clone holds) with one new assignment."""
    course = tmp_path_factory.mktemp("new-course")
    for item in ("nbgrader_config.py", "pyproject.toml"):
        shutil.copy2(ROOT / item, course / item)
    shutil.copytree(ROOT / "course_utils", course / "course_utils", ignore=shutil.ignore_patterns("__pycache__"))
    (course / "tests" / "variants").mkdir(parents=True)
    (course / "tests" / "variants" / "__init__.py").write_text("")
    made = _course(course, "new", NAME, "--title", "Dropout, a first look")
    assert made.returncode == 0, made.stderr
    assert f"wrote source/{NAME}/{NAME}.ipynb" in made.stdout and f"wrote tests/variants/{NAME}.py" in made.stdout
    released = _course(course, "release", NAME)
    assert released.returncode == 0, released.stderr
    return course


def test_the_new_notebook_passes_every_check_a_course_notebook_passes(course):
    for folder in ("source", "release"):
        path = course / folder / NAME / f"{NAME}.ipynb"
        nb = nbformat.read(path, as_version=4)
        assert notebook_problems(nb, str(path)) == []
    source = nbformat.read(course / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    assert source.cells[0].source.startswith("# Dropout, a first look\n")
    assert stated_points_problems(source, "nb") == [] and metadata_problems(source, "nb") == []


@pytest.mark.parametrize("folder, score, hand", [
    ("source", 3, {"name": "reflection", "max_points": 1, "answered": True, "points": None, "elsewhere": ""}),
    ("release", 0, {"name": "reflection", "max_points": 1, "answered": False, "points": 0.0, "elsewhere": ""})])
def test_the_reference_earns_full_marks_and_the_untouched_release_none(course, folder, score, hand):
    checked = _course(course, "check", f"{folder}/{NAME}/{NAME}.ipynb", "--json")
    assert checked.returncode == 0, checked.stderr
    result = json.loads(checked.stdout)
    # the reflection is graded by hand: the reference's answer waits for it, the release's gets 0
    assert (result["score"], result["max_score"], result["status"]) == (score, 4, "graded"), result
    assert result["hand"] == [hand]


def test_the_scaffolded_variants_lose_exactly_their_tests(course, tmp_path):
    spec = importlib.util.spec_from_file_location(f"new_{NAME}", course / "tests" / "variants" / f"{NAME}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert {v.correct for v in module.VARIANTS} == {True, False}
    assert module.SUBTLE_VARIANT in {v.name for v in module.VARIANTS}
    settings = load_settings(course)
    source = nbformat.read(settings.source_notebook(NAME), as_version=4)
    release = nbformat.read(settings.release_notebook(NAME), as_version=4)
    for variant in module.VARIANTS:
        path = tmp_path / variant.name / NAME / f"{NAME}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(fill_solutions(release, source, replace=variant.replace), path)
        result, executed = grade_notebook(settings, NAME, path, student=variant.name)
        assert {t.name for t in result.tests if not t.passed} == set(variant.lost), (variant.name, result.tests)
        if variant.name == module.SUBTLE_VARIANT:       # no cell raised: it fails on a record only
            assert len(variant.lost) == 1
            assert not [o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


def test_course_new_refuses_a_taken_or_unusable_name(course):
    again = _course(course, "new", NAME)
    assert again.returncode != 0 and f"source/{NAME}/ already exists" in again.stderr
    bad = _course(course, "new", "Dropout-2")
    assert bad.returncode != 0 and "is not a usable assignment id" in bad.stderr
    assert again.stderr.count("course new:") == bad.stderr.count("course new:") == 1   # said once
