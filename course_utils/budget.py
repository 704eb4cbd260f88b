"""The training budget: how many epochs a notebook's own training cells run.

Students train for the number of epochs the notebook suggests. When a notebook is autograded the
grader sets ``COURSE_TRAIN_EPOCHS`` (one documented setting, ``grading_epochs`` in
``nbgrader_config.py``) so that the notebook's demonstration training stays quick. Points never
depend on this number: hidden tests that need a trained model train it themselves, with a budget
they fix, and evaluate it on the test set.
"""
from __future__ import annotations

import os

ENV_VAR = "COURSE_TRAIN_EPOCHS"


def training_epochs(default: int) -> int:
    """Epochs for a notebook's own training loop: ``default`` unless the grader set a budget.

    default: the number of epochs the notebook suggests to students.
    Returns a positive int.
    """
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        return default
    try:
        epochs = int(value)
    except ValueError:
        raise ValueError(f"{ENV_VAR} must be a whole number of epochs, got {value!r}") from None
    if epochs < 1:
        raise ValueError(f"{ENV_VAR} must be at least 1, got {epochs}")
    return epochs
