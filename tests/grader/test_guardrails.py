"""Instructor and student guardrails: a placeholder student repository is warned about loudly, and
the release setup cell says how to install course_utils when it is missing outside Colab."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

from course_grader import cli
from course_grader.authoring.release import SETUP_TEMPLATE
from course_grader.config import PLACEHOLDER_STUDENT_REPO, placeholder_warning

URL = "git+https://github.com/someone/their-course@main"


def test_the_placeholder_student_repo_is_warned_about(settings):
    placeholder = replace(settings, student_repo=PLACEHOLDER_STUDENT_REPO)
    warning = placeholder_warning(placeholder)
    assert warning.startswith("WARNING") and PLACEHOLDER_STUDENT_REPO in warning
    assert "nbgrader_config.py" in warning and "PUBLIC" in warning
    assert placeholder_warning(replace(settings, student_repo="someone/their-course")) == ""


def test_release_prints_the_warning(settings, capsys, monkeypatch):
    from course_grader.authoring import release
    released = []
    monkeypatch.setattr(cli, "_settings", lambda: replace(settings, student_repo=PLACEHOLDER_STUDENT_REPO))
    monkeypatch.setattr(release, "release", lambda s, names: released.append(names))
    assert cli.main(["release", "pooling"]) == 0
    assert released == [["pooling"]]
    assert "still the placeholder" in capsys.readouterr().err


def test_setup_cell_outside_colab_without_course_utils_says_how_to_install():
    # -I -S: no site-packages, so course_utils cannot be imported, as on a fresh local Python
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", SETUP_TEMPLATE.format(install_url=URL)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: course_utils is not installed"), proc.stderr
    assert f'pip install "course-utils @ {URL}"' in last and "restart the kernel" in last


def test_setup_cell_outside_colab_with_course_utils_prints_nothing():
    proc = subprocess.run([sys.executable, "-c", SETUP_TEMPLATE.format(install_url=URL)],
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
