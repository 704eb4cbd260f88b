"""The grading environment is the student's: code that runs in Google Colab (numpy 2.1, with
scikit-learn) gets full marks when graded. `float()` of a one-element array works under Colab's
numpy 2.1 (a TypeError under numpy 2.4), and scikit-learn is importable in the grading kernel."""
from __future__ import annotations

import shutil
from importlib import metadata

import nbformat
import pytest

from course_grader.grading.batch import grade_folder
from course_grader.authoring.examples import write_examples
from tests.conftest import needs_mnist

ASSIGNMENT = "misclassifications"
#: The grade extra's pins (pyproject.toml), what /work/shared/colab/pip-freeze.txt says Colab ships.
COLAB = {"numpy": "2.1.3", "matplotlib": "3.10.0", "pillow": "11.3.0", "scikit-learn": "1.6.1",
         "pandas": "2.2.3", "scipy": "1.16.3"}
SKLEARN_ANSWER = '''\
def confusion_matrix(preds, targets, num_classes=10):
    """Count (true class, predicted class) pairs, with scikit-learn (as Colab allows)."""
    import numpy as np
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    counts = sk_confusion_matrix(targets.cpu().numpy(), preds.cpu().numpy(),
                                 labels=list(range(num_classes)))
    one = float(np.ones(1))        # a one-element array to float: fine under numpy < 2.4
    return torch.as_tensor(counts * int(one), dtype=torch.int64)
'''


def test_the_grading_environment_has_colabs_versions():
    import tomllib

    from tests.conftest import ROOT

    grade = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["grade"]
    for name, version in COLAB.items():
        assert f"{name}=={version}" in grade
        assert metadata.version(name) == version, f"this environment has {name} {metadata.version(name)}"


@needs_mnist
@pytest.mark.slow
def test_colab_code_with_sklearn_and_float_of_an_array_gets_full_marks(settings, tmp_path):
    folder = tmp_path / "submitted"
    path = write_examples(settings, ASSIGNMENT, folder)["reference"]
    for other in ("untouched", "partial"):
        shutil.rmtree(folder / other)
    nb = nbformat.read(path, as_version=4)
    [cell] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "confusion_matrix"]
    cell.source = SKLEARN_ANSWER
    nbformat.write(nb, path)
    [result] = grade_folder(settings, folder, tmp_path / "out", jobs=1, progress=False)
    failed = [(t.name, t.message) for t in result.tests if not t.passed]
    assert result.status == "graded" and not failed, failed
    assert result.score == result.auto_max
