"""Shared helpers for the CNN course notebooks: data, devices, training loops, plots, timing.

The submodules are imported on first use, so ``import course_utils`` is fast and does not pull in
torchvision or matplotlib until a notebook needs them::

    from course_utils.data import mnist_tensors
    from course_utils.train import fit
    import course_utils
    course_utils.plots.show_images(images)   # course_utils.plots is imported here

This package holds no reference solutions and no grading code.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = ("budget", "checks", "data", "device", "plots", "seed", "timing", "train")

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name):
    """Import a submodule the first time ``course_utils.<name>`` is used."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
