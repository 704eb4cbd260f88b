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


def _loaded_after(statement: str) -> list:
    code = f"import sys; {statement}; print(sorted(m for m in ('torchvision', 'matplotlib', 'torch') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return eval(result.stdout.strip())


def test_data_module_loads_torchvision_only_for_its_loaders():
    # mnist_tensors etc. need torchvision; importing course_utils.data (as every notebook's
    # setup does) and tensor_loader do not
    assert _loaded_after("import course_utils.data as d; d.tensor_loader(*[d.torch.zeros(2, 1)] * 2)") == ["torch"]
    loader = ("import course_utils.data as d\ntry:\n    d.mnist(root='/nonexistent-root', download=False)\n"
              "except d.DataUnavailableError:\n    pass")
    assert "torchvision" in _loaded_after(f"exec({loader!r})")


def test_the_data_root_rule_is_readable_without_torch():
    # the grader reads it (to give kernels the data set) without importing torch
    assert _loaded_after("from course_utils.datafiles import data_root; data_root()") == []
    import course_utils.data
    import course_utils.datafiles
    assert course_utils.data.data_root is course_utils.datafiles.data_root
    assert course_utils.data.DATA_DIR_ENV_VAR == course_utils.datafiles.DATA_DIR_ENV_VAR == "COURSE_DATA_DIR"
