"""Label sets the judge loads in the grader's own process, so that true labels never pass
through a student's kernel (where code could copy them into its predictions).

A hidden test records predictions with ``targets="mnist-test"`` instead of the labels; the
judge asks :func:`named` for them. The grader and its kernels read the same data root
(``course_utils.datafiles.data_root``: ``COURSE_DATA_DIR``, else the user cache folder); the
grader reads the raw labels file itself, without torch.
"""
from __future__ import annotations

from functools import lru_cache

from ..protocol import Tensor

#: The label sets a record may name: (data set folder, raw labels file).
LABEL_SETS = {"mnist-test": ("MNIST", "t10k-labels-idx1-ubyte")}


class LabelSetError(Exception):
    """A named label set is unknown or could not be loaded: the course's environment, not the
    student, is at fault."""


@lru_cache(maxsize=None)
def named(name: str) -> Tensor:
    """The labels of the label set ``name`` (int64), loaded once per process."""
    if name not in LABEL_SETS:
        raise LabelSetError(f"unknown label set {name!r} (known: {', '.join(sorted(LABEL_SETS))})")
    from course_utils.datafiles import data_root, read_idx

    folder, file_name = LABEL_SETS[name]
    path = data_root() / folder / "raw" / file_name
    labels = read_idx(path, 1)
    if labels is None:
        raise LabelSetError(f"the grader could not load the label set {name!r} from its data root "
                            f"({path} is missing or not an idx labels file)")
    return Tensor(labels.astype("int64"), "torch.int64")


def require(reference: dict) -> None:
    """Load every label set the reference records name (``{test id: [(name, record), ...]}``);
    raises LabelSetError before any student code runs when one cannot be loaded."""
    for records in reference.values():
        for _, expected in records:
            if isinstance(expected, dict) and isinstance(expected.get("targets"), str):
                named(expected["targets"])
