"""`course gradescope ASSIGNMENT OUT.zip`: the zip's run_autograder, run in a temporary folder laid
out like Gradescope's (/autograder/source = the unpacked zip, /autograder/submission,
/autograder/results), grades with this engine and writes results.json; a problem of the course
itself writes no results (Gradescope then reports a failed run, never a student's 0)."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from course_grader.authoring.examples import write_examples
from course_grader.cli import main
from course_grader.grading.gradescope import find_notebook
from tests.conftest import ROOT, needs_mnist

ASSIGNMENT = "conv_from_scratch"
pytestmark = [needs_mnist, pytest.mark.slow]


@pytest.fixture(scope="module")
def autograder(settings, tmp_path_factory):
    """The zip, built through the CLI, unpacked as Gradescope does."""
    tmp = tmp_path_factory.mktemp("gradescope")
    out = tmp / "autograder.zip"
    assert main(["gradescope", ASSIGNMENT, str(out), "--hidden-visibility", "after_due_date"]) == 0
    source = tmp / "autograder" / "source"
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        zf.extractall(source)
    for name in ("setup.sh", "run_autograder"):
        (source / name).chmod(modes[name] & 0o777)
    examples = write_examples(settings, ASSIGNMENT, tmp / "submitted")
    return {"zip": out, "names": names, "modes": modes, "source": source, "examples": examples, "tmp": tmp}


def _run(autograder, files: dict, name: str) -> tuple:
    """Run run_autograder on a submission folder holding ``files`` ({name: path or bytes})."""
    root = autograder["tmp"] / name
    submission, results = root / "submission", root / "results"
    submission.mkdir(parents=True)
    results.mkdir()
    for filename, content in files.items():
        if isinstance(content, Path):
            shutil.copy2(content, submission / filename)
        else:
            (submission / filename).write_bytes(content)
    env = {**os.environ, "GRADESCOPE_PYTHON": sys.executable, "GRADESCOPE_SUBMISSION": str(submission),
           "GRADESCOPE_RESULTS": str(results)}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([str(autograder["source"] / "run_autograder")], env=env, cwd=root,
                          capture_output=True, text=True, timeout=900)
    path = results / "results.json"
    return proc, (json.loads(path.read_text()) if path.exists() else None)


def test_the_zip_holds_the_scripts_and_this_assignment_only(autograder):
    names, modes = autograder["names"], autograder["modes"]
    assert {"setup.sh", "run_autograder"} <= set(names)
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    sources = sorted(n for n in names if n.startswith("course/source/"))
    assert sources == [f"course/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"]
    assert "course/course_grader/grading/gradescope.py" in names
    assert "course/nbgrader_config.py" in names and "course/pyproject.toml" in names
    assert any(n.startswith(f"course/.course_cache/reference/{ASSIGNMENT}-") for n in names)
    assert not any("__pycache__" in n or n.startswith(("course/release/", "course/tests/")) for n in names)
    setup = (autograder["source"] / "setup.sh").read_text()
    assert "download.pytorch.org/whl/cpu" in setup and "bubblewrap" in setup
    assert '"/autograder/source/course[grade]"' in setup


def test_the_reference_gets_full_marks_in_gradescopes_format(autograder):
    proc, results = _run(autograder, {f"{ASSIGNMENT}.ipynb": autograder["examples"]["reference"]}, "reference")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tests = results["tests"]
    assert results["score"] == sum(t["max_score"] for t in tests) > 0
    assert all(t["score"] == t["max_score"] and t["status"] == "passed" for t in tests)
    assert results["execution_time"] > 0
    visibility = {t["name"]: t["visibility"] for t in tests}
    assert set(visibility.values()) <= {"visible", "after_due_date"} and "after_due_date" in visibility.values()


def test_wrong_work_loses_points_and_an_untouched_release_gets_none(autograder):
    proc, partial = _run(autograder, {f"{ASSIGNMENT}.ipynb": autograder["examples"]["partial"]}, "partial")
    assert proc.returncode == 0, proc.stderr
    assert 0 < partial["score"] < sum(t["max_score"] for t in partial["tests"])
    proc, untouched = _run(autograder, {f"{ASSIGNMENT}.ipynb": autograder["examples"]["untouched"]}, "untouched")
    assert proc.returncode == 0, proc.stderr
    assert untouched["score"] == 0
    failed = [t for t in untouched["tests"] if t["status"] == "failed"]
    assert failed and all("BEGIN HIDDEN" not in t["output"] and "record(" not in t["output"] for t in failed)


def test_a_missing_notebook_is_named_and_a_renamed_one_graded(autograder, tmp_path):
    proc, results = _run(autograder, {"notes.txt": b"hello"}, "nothing")
    assert proc.returncode == 0 and results["score"] == 0
    assert f"no notebook was submitted: upload {ASSIGNMENT}.ipynb" in results["output"]
    assert find_notebook(tmp_path, ASSIGNMENT) == (None, f"no notebook was submitted: upload {ASSIGNMENT}.ipynb")
    (tmp_path / "mine.ipynb").write_text("{}")
    assert find_notebook(tmp_path, ASSIGNMENT) == (tmp_path / "mine.ipynb",
                                                   f"graded mine.ipynb (expected {ASSIGNMENT}.ipynb)")
    (tmp_path / "other.ipynb").write_text("{}")
    assert find_notebook(tmp_path, ASSIGNMENT)[0] is None
    (tmp_path / f"{ASSIGNMENT}.ipynb").symlink_to(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    assert find_notebook(tmp_path, ASSIGNMENT)[0] is None, "a link is never read"


def test_a_broken_course_writes_no_results(autograder, tmp_path):
    broken = dict(autograder, source=tmp_path / "source")
    shutil.copytree(autograder["source"], broken["source"], symlinks=True)
    (broken["source"] / "course" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").unlink()
    proc, results = _run(broken, {f"{ASSIGNMENT}.ipynb": autograder["examples"]["reference"]}, "broken")
    assert proc.returncode != 0 and results is None
    assert "a problem of the course, not of the student's work" in proc.stderr


def test_a_bad_visibility_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["gradescope", ASSIGNMENT, "x.zip", "--hidden-visibility", "sometimes"])
    assert e.value.code == 2
