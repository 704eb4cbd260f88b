"""Label sets the judge loads in the grader's own process, so that true labels never pass
through a student's kernel (where code could copy them into its predictions).

A hidden test records predictions with ``targets="mnist-test"`` instead of the labels; the
judge asks :func:`named` for them. The grader and its kernels read the same data root
(``course_utils.data``'s rule: ``COURSE_DATA_DIR``, then ``../shared/data``, then a download).
"""
from __future__ import annotations

from functools import lru_cache

import torch

#: The label sets a record may name, and how to load each one: (data set loader, split).
LABEL_SETS = {"mnist-test": ("mnist_tensors", False)}


class LabelSetError(Exception):
    """A named label set is unknown or could not be loaded: the course's environment, not the
    student, is at fault."""


@lru_cache(maxsize=None)
def named(name: str) -> torch.Tensor:
    """The labels of the label set ``name`` (an int64 tensor), loaded once per process."""
    if name not in LABEL_SETS:
        raise LabelSetError(f"unknown label set {name!r} (known: {', '.join(sorted(LABEL_SETS))})")
    loader, train = LABEL_SETS[name]
    try:
        from course_utils import data
        return getattr(data, loader)(train=train, download=False)[1].long()
    except Exception as error:
        raise LabelSetError(f"the grader could not load the label set {name!r} from its data root "
                            f"({type(error).__name__}: {str(error)[:120]})") from None


def require(reference: dict) -> None:
    """Load every label set the reference records name (``{test id: [(name, record), ...]}``);
    raises LabelSetError before any student code runs when one cannot be loaded."""
    for records in reference.values():
        for _, expected in records:
            if isinstance(expected, dict) and isinstance(expected.get("targets"), str):
                named(expected["targets"])
