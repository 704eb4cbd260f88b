"""The data-root rule of tests/conftest.py: COURSE_DATA_DIR is honoured, and a data-dependent
test is skipped without MNIST but FAILS under COURSE_REQUIRE_DATA=1 (what CI sets), so that a CI
run that could not check the data-dependent tests never passes."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.conftest import ROOT

PROBE = textwrap.dedent("""\
    import os
    import pytest

    @pytest.mark.needs_mnist
    def test_needs_data():
        print("DATA_ROOT=" + os.environ["COURSE_DATA_DIR"])
""")


def _run_probe(tmp_path, **env_changes):
    test_file = tmp_path / "test_probe.py"
    test_file.write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_REQUIRE_DATA", "PYTEST_ADDOPTS")}
    env.update(env_changes)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-rs", "-p", "no:cacheprovider", "-p", "tests.conftest",
         "--rootdir", str(tmp_path), "-c", os.devnull, "-W", "ignore::pytest.PytestUnknownMarkWarning",
         str(test_file)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_missing_data_skips_normally(tmp_path):
    empty = tmp_path / "no-data"
    proc = _run_probe(tmp_path, COURSE_DATA_DIR=str(empty), COURSE_NO_DOWNLOAD="1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 skipped" in proc.stdout and str(empty) in proc.stdout, proc.stdout


def test_missing_data_fails_under_course_require_data(tmp_path):
    empty = tmp_path / "no-data"
    proc = _run_probe(tmp_path, COURSE_DATA_DIR=str(empty), COURSE_NO_DOWNLOAD="1", COURSE_REQUIRE_DATA="1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed" in proc.stdout or "1 error" in proc.stdout, proc.stdout
    assert "COURSE_REQUIRE_DATA" in proc.stdout and str(empty) in proc.stdout


def test_course_data_dir_is_honoured(tmp_path):
    """A COURSE_DATA_DIR holding MNIST is used (not ../shared/data), and the test runs."""
    root = tmp_path / "data"
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-images-idx3-ubyte").write_bytes(b"")
    proc = _run_probe(tmp_path, COURSE_DATA_DIR=str(root), COURSE_REQUIRE_DATA="1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"DATA_ROOT={root}" in proc.stdout
