"""A module that the grading environment lacks is named in every output: "module X is not
available in the grading environment" in report.json, the feedback page, grades.csv's message and
`course check`, whether the import failed in an answer cell (the tests then fail with NameError)
or inside a function that a test calls."""
from __future__ import annotations

import csv
import json
import shutil

import nbformat
import pytest

from course_grader.grading.batch import grade_folder
from course_grader.cli import main
from course_grader.authoring.examples import write_examples
from course_grader.grading.missing_modules import explain, missing_module, sentence
from tests.conftest import needs_mnist

ASSIGNMENT = "conv_from_scratch"
AT_TOP = "colab_only_helpers_xyz"          # imported at the top of an answer cell
IN_BODY = "colab_only_helpers_abc"         # imported inside a function a test calls


def test_the_sentence_and_the_module_name():
    assert sentence("sklearn") == "module sklearn is not available in the grading environment"
    assert missing_module("ModuleNotFoundError", "No module named 'sklearn'") == "sklearn"
    assert missing_module("ImportError", "No module named 'a.b'") == "a.b"
    assert missing_module("NameError", "No module named 'x'") == ""
    assert missing_module("ImportError", "cannot import name 'f' from 'numpy'") == ""

    class Outcome:
        status, ename, evalue = "error", "ModuleNotFoundError", "No module named 'sklearn'"
    message = "ModuleNotFoundError: No module named 'sklearn' (while checking small input)"
    assert explain(message, Outcome, None, 0, None) == \
        "module sklearn is not available in the grading environment (while checking small input)"


def test_an_error_for_asking_a_gpu_says_grading_has_none():
    """torch's own words speak of drivers; the message says what it means for the student."""
    from course_grader.grading.verdicts import no_gpu_hint
    for evalue in ("Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU",
                   "Torch not compiled with CUDA enabled"):
        assert "the grading machine has no GPU" in no_gpu_hint(evalue)
    assert no_gpu_hint("expected scalar type Float but found Double") == ""


@pytest.fixture(scope="module")
def graded(tmp_path_factory, settings):
    """The reference submission, with a missing module at the top of conv_output_size's answer
    cell and one inside pad2d's body, graded as a batch of one."""
    folder = tmp_path_factory.mktemp("submitted")
    path = write_examples(settings, ASSIGNMENT, folder)["reference"]
    for other in ("untouched", "partial"):
        shutil.rmtree(folder / other)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "conv_output_size":
            cell.source = f"import {AT_TOP}\n" + cell.source
        if gid == "pad2d":
            cell.source = cell.source.replace("def pad2d(x, padding):\n",
                                              f"def pad2d(x, padding):\n    import {IN_BODY}\n", 1)
            assert IN_BODY in cell.source
    nbformat.write(nb, path)
    out = tmp_path_factory.mktemp("out")
    [result] = grade_folder(settings, folder, out, jobs=1, progress=False)
    return result, out, path


@needs_mnist
@pytest.mark.slow
def test_every_output_names_the_missing_module(graded, capsys):
    result, out, path = graded
    assert result.status == "graded"
    tests = {t.name: t for t in result.tests}
    top, body = sentence(AT_TOP), sentence(IN_BODY)
    assert not tests["test_conv_output_size"].passed
    assert tests["test_conv_output_size"].message.startswith(top), tests["test_conv_output_size"].message
    assert "NameError" in tests["test_conv_output_size"].message     # what actually failed, after it
    assert not tests["test_pad2d"].passed
    assert tests["test_pad2d"].message.startswith(body), tests["test_pad2d"].message
    assert result.score < result.max_score
    # report.json
    report = json.loads((out / "feedback" / "reference" / ASSIGNMENT / "report.json").read_text())
    messages = {t["name"]: t["message"] for t in report["tests"]}
    assert messages["test_conv_output_size"].startswith(top) and messages["test_pad2d"].startswith(body)
    assert any(top in note for note in report["notes"])
    # the feedback page
    html = (out / "feedback" / "reference" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert top in html and body in html
    # grades.csv
    with (out / "grades.csv").open(newline="") as f:
        [row] = list(csv.DictReader(f))
    assert top in row["message"]
    # course check
    assert main(["check", str(path), "--assignment", ASSIGNMENT]) == 0
    printed = capsys.readouterr().out
    assert top in printed and body in printed
