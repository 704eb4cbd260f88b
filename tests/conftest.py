"""Shared fixtures: the course root, settings, and the real MNIST data root.

Data-root rule (the same as the README's): ``COURSE_DATA_DIR`` when it is set, else
``../shared/data`` beside the checkout when it holds MNIST, else ``course_utils``' own download
folder, into which MNIST is downloaded once (when the network allows, and unless
``COURSE_NO_DOWNLOAD=1``) the first time a test needs it. The chosen root is exported as ``COURSE_DATA_DIR`` so that grading kernels see it too.

A test marked ``needs_mnist`` is skipped when MNIST cannot be found or downloaded, unless
``COURSE_REQUIRE_DATA=1`` (CI: ``.ci/run`` and ``.github/workflows/ci.yml`` set it): then it
FAILS, so that a CI run that could not check the data-dependent tests never passes.

The browser test (``tests/end_to_end/test_formgrader_browser.py``) drives Debian's headless
``chromium`` through ``chromedriver`` (``apt-get install chromium chromium-driver``) with
``selenium``; it is skipped where one of them is missing, unless ``COURSE_REQUIRE_BROWSER=1``
(``.ci/run`` sets it once they are installed): then it FAILS with the reason.
"""
from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
REQUIRE_DATA_ENV = "COURSE_REQUIRE_DATA"
MNIST_PROBE = Path("MNIST") / "raw" / "t10k-images-idx3-ubyte"


def _choose_data_root() -> Path:
    given = os.environ.get("COURSE_DATA_DIR")
    if given:
        return Path(given).expanduser()
    if (SHARED_DATA / MNIST_PROBE).is_file():
        return SHARED_DATA
    from course_utils.data import data_root

    return data_root()


DATA_ROOT = _choose_data_root()
os.environ["COURSE_DATA_DIR"] = str(DATA_ROOT)
os.environ.setdefault("MPLBACKEND", "Agg")


def data_required() -> bool:
    return os.environ.get(REQUIRE_DATA_ENV, "").strip() not in ("", "0")


def has_mnist() -> bool:
    return (DATA_ROOT / MNIST_PROBE).is_file()


_download_error: list = []     # the reason a download failed, once per process


def ensure_mnist() -> str:
    """Make MNIST available under DATA_ROOT (downloading once); "" or why it is not there."""
    if has_mnist():
        return ""
    if _download_error:
        return _download_error[0]
    if os.environ.get("COURSE_NO_DOWNLOAD", "").strip() not in ("", "0"):
        return f"real MNIST not found in {DATA_ROOT} (COURSE_NO_DOWNLOAD is set: not downloaded)"
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    # pytest-xdist workers share the folder: one downloads, the others wait for it
    with open(DATA_ROOT / ".download.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if has_mnist():
            return ""
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(30)
        try:
            from course_utils.data import mnist

            mnist(train=True, root=DATA_ROOT, download=True)
            mnist(train=False, root=DATA_ROOT, download=True)
        except Exception as e:            # offline, or a mirror down: the reason is reported
            _download_error.append(f"real MNIST is not in {DATA_ROOT} and could not be downloaded "
                                   f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
                                   "set COURSE_DATA_DIR to a folder holding MNIST/raw")
            return _download_error[0]
        finally:
            socket.setdefaulttimeout(previous)
    return "" if has_mnist() else f"real MNIST not found in {DATA_ROOT}"


def require_mnist() -> Path:
    """The data root holding MNIST; skips the calling test (fails it under COURSE_REQUIRE_DATA=1)
    when there is none."""
    problem = ensure_mnist()
    if problem:
        if data_required():
            pytest.fail(f"{problem} ({REQUIRE_DATA_ENV}=1: data-dependent tests must run here)",
                        pytrace=False)
        pytest.skip(problem)
    return DATA_ROOT


#: Mark for tests that need real MNIST (handled in pytest_runtest_setup below).
needs_mnist = pytest.mark.needs_mnist


def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_mnist") is not None:
        require_mnist()


REQUIRE_BROWSER_ENV = "COURSE_REQUIRE_BROWSER"


def browser_paths() -> tuple[str, str, str]:
    """(chromium, chromedriver, why not): the paths of Debian's chromium and its driver, and ""
    or the reason the browser test cannot run here."""
    chromium = shutil.which("chromium") or ""
    driver = shutil.which("chromedriver") or ""
    missing = [name for name, path in (("chromium", chromium), ("chromium-driver", driver)) if not path]
    if missing:
        return chromium, driver, (f"{' and '.join(missing)} not installed (apt-get install chromium "
                                  "chromium-driver; .ci/run does as root)")
    if importlib.util.find_spec("selenium") is None:
        return chromium, driver, "selenium is not installed (pip install -e '.[dev]')"
    return chromium, driver, ""


def browser_unavailable(problem: str):
    """Skips the calling test because of ``problem``; fails it instead under COURSE_REQUIRE_BROWSER=1."""
    if os.environ.get(REQUIRE_BROWSER_ENV, "").strip() not in ("", "0"):
        pytest.fail(f"{problem} ({REQUIRE_BROWSER_ENV}=1: the browser test must run here)", pytrace=False)
    pytest.skip(problem)


def require_browser() -> tuple[str, str]:
    """(chromium, chromedriver); skips the calling test where they are missing, fails it instead
    under COURSE_REQUIRE_BROWSER=1."""
    chromium, driver, problem = browser_paths()
    if problem:
        browser_unavailable(problem)
    return chromium, driver


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
