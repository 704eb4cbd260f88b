"""Shared fixtures: the course root, settings, and the real MNIST data root when present."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

# The tests and .ci/run read MNIST from ../shared/data when it exists (no downloads in CI).
if SHARED_DATA.is_dir() and not os.environ.get("COURSE_DATA_DIR"):
    os.environ["COURSE_DATA_DIR"] = str(SHARED_DATA)
os.environ.setdefault("MPLBACKEND", "Agg")


def has_mnist() -> bool:
    root = os.environ.get("COURSE_DATA_DIR")
    return bool(root) and (Path(root) / "MNIST" / "raw" / "t10k-images-idx3-ubyte").is_file()


needs_mnist = pytest.mark.skipif(not has_mnist(), reason="real MNIST not found: set COURSE_DATA_DIR")
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None,
                                 reason="bubblewrap is not installed (apt-get install bubblewrap)")


@pytest.fixture(scope="session")
def settings():
    from course_grader.config import load_settings

    return load_settings(ROOT)


def assignments() -> list[str]:
    from course_grader.config import load_settings

    return load_settings(ROOT).assignments()
