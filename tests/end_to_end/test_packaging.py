"""The instructor's distribution (cnn-course-grader: `course`, course_grader, course_utils) and the
students' (course-utils, as `course publish` writes it: course_utils alone) have different names,
so installing one never removes the other, in either order. Both are built as wheels and installed
with `pip install --no-deps --no-index` into fresh virtual environments that see this venv's
third-party packages (torch, nbgrader, ...) through a .pth file, but not its copy of the course."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from course_grader.authoring import publish as publish_mod
from tests.conftest import ROOT

pytestmark = pytest.mark.slow          # two venvs and two wheels: about a minute

COURSE_ENTRIES = ("course_utils", "course_grader", "cnn_course_grader", "__editable__")
PROBE = """
import importlib.util, json, shutil, sys
from importlib import metadata
def origin(name):
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:            # its parent package is missing
        return None
    return spec.origin if spec else None
found = {m: origin(m) for m in ("course_utils", "course_grader", "course_grader.cli")}
print(json.dumps({"found": found, "prefix": sys.prefix, "course": shutil.which("course"),
                  "dists": sorted(d.metadata["Name"] for d in metadata.distributions()
                                  if d.metadata["Name"] in ("course-utils", "cnn-course-grader"))}))
"""


def _run(args, **kw):
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)
    assert proc.returncode == 0, f"{args}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def _third_party_site(tmp: Path) -> Path:
    """Links to this environment's packages, except every copy of the course itself."""
    import torch

    site_packages = Path(torch.__file__).resolve().parents[1]
    linked = tmp / "third-party"
    linked.mkdir()
    for entry in site_packages.iterdir():
        if entry.name.startswith(COURSE_ENTRIES) or entry.name.startswith("course_utils-") \
                or entry.suffix == ".pth":
            continue
        (linked / entry.name).symlink_to(entry)
    return linked


def _fresh_venv(folder: Path, third_party: Path) -> Path:
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", folder])
    python = folder / "bin" / "python"
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    if any(purelib.glob("setuptools-*.dist-info")):      # Python < 3.12 bundles an old setuptools
        shutil.rmtree(purelib / "setuptools")            # that would shadow the >=77 one needed
        for info in purelib.glob("setuptools-*.dist-info"):  # to build (PEP 639 licence)
            shutil.rmtree(info)
    (purelib / "zz_third_party.pth").write_text(f"{third_party}\n")
    return python


def _build_wheels(python: Path, tmp: Path, settings) -> dict:
    instructor = tmp / "src-instructor"
    instructor.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, instructor / name)
    for package in ("course_utils", "course_grader"):
        shutil.copytree(ROOT / package, instructor / package, ignore=shutil.ignore_patterns("__pycache__"))
    student = tmp / "published"
    publish_mod.publish(settings, student, regenerate=False, log=lambda *_: None)
    wheels = tmp / "wheels"
    for source in (instructor, student):
        _run([python, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
              "--disable-pip-version-check", "-w", wheels, source], cwd=tmp)
    return {"instructor": next(wheels.glob("cnn_course_grader-*.whl")),
            "student": next(wheels.glob("course_utils-*.whl"))}


def _state(python: Path, cwd: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    return json.loads(_run([python, "-c", PROBE], cwd=cwd, env=env).stdout)


def test_the_two_distributions_have_different_names(settings):
    instructor = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    student = tomllib.loads(publish_mod.student_pyproject(settings, "0.1.0"))["project"]
    assert instructor["name"] == "cnn-course-grader" and student["name"] == "course-utils"
    assert instructor["scripts"] == {"course": "course_grader.cli:main"}


@pytest.mark.parametrize("order", [("instructor", "student"), ("student", "instructor")])
def test_installing_one_never_removes_the_other(settings, tmp_path, order):
    third_party = _third_party_site(tmp_path)
    python = _fresh_venv(tmp_path / "venv", third_party)
    wheels = _build_wheels(python, tmp_path, settings)
    run_in = tmp_path / "elsewhere"           # not the checkout: nothing importable from the cwd
    run_in.mkdir()
    before = _state(python, run_in)
    assert before["found"] == {"course_utils": None, "course_grader": None, "course_grader.cli": None}, \
        "the fresh venv sees a copy of the course already"
    for step, which in enumerate(order, start=1):
        _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
              "--disable-pip-version-check", wheels[which]], cwd=run_in)
        state = _state(python, run_in)
        installed = set(order[:step])
        expected_dists = {"instructor": "cnn-course-grader", "student": "course-utils"}
        assert state["dists"] == sorted(expected_dists[w] for w in installed), state
        for module, origin in state["found"].items():
            wanted = module == "course_utils" or "instructor" in installed
            if wanted:
                assert origin and origin.startswith(str(tmp_path / "venv")), (which, module, state)
            else:
                assert origin is None, (which, module, state)
        if "instructor" in installed:
            assert state["course"] == str(tmp_path / "venv" / "bin" / "course"), state
            help_text = _run([tmp_path / "venv" / "bin" / "course", "--help"], cwd=run_in).stdout
            assert "merge-gradebooks" in help_text
