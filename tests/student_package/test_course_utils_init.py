"""Tests for course_utils/__init__.py: version and lazy submodule imports."""

import subprocess
import sys

import course_utils


def test_version():
    assert course_utils.__version__ == "0.1.0"


def test_submodules_are_reachable_as_attributes():
    for name in ("data", "device", "plots", "seed", "timing", "train"):
        module = getattr(course_utils, name)
        assert module.__name__ == f"course_utils.{name}"


def test_unknown_attribute_raises_attribute_error():
    try:
        course_utils.no_such_module
    except AttributeError as err:
        assert "no_such_module" in str(err)
    else:
        raise AssertionError("course_utils.no_such_module should raise AttributeError")


def test_import_does_not_load_torchvision_or_matplotlib():
    code = (
        "import sys, course_utils; "
        "print(sorted(m for m in ('torchvision', 'matplotlib', 'torch') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
