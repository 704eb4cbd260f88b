"""Shared fixtures: the course root, settings, and the real MNIST data root when present."""
from __future__ import annotations

import json
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


# ---- tests/end_to_end/test_variants.py: the share of wrong implementations caught, printed after the run.
_variant_outcomes: list = []


def pytest_runtest_logreport(report):
    if report.when == "call":
        _variant_outcomes.extend(json.loads(value) for name, value in report.user_properties
                                 if name == "variant_outcome")


def pytest_terminal_summary(terminalreporter):
    if _variant_outcomes:
        from tests.variants.report import format_table, summarize

        terminalreporter.write_sep("-", "wrong implementations caught by the hidden tests (tests/variants)")
        terminalreporter.write_line(format_table(summarize(_variant_outcomes)))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Make ``--dist loadgroup`` group ``xdist_group`` tests again under pytest 9: pytest-xdist
    (3.8) marks a test's group by renaming ``item._nodeid``, which pytest 9 no longer reads
    (``nodeid`` comes from ``item._id``), so every test became a group of its own."""
    try:
        from _pytest.nodeid import NodeId
    except ImportError:        # pytest < 9: xdist's renaming works as it is
        return
    for item in items:
        renamed = getattr(item, "_nodeid", None)
        if isinstance(renamed, str) and renamed.startswith(item.nodeid + "@"):
            item._id = NodeId.parse(renamed)
