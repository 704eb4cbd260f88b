"""The sandbox's mounts: what it hides, and what it gives back read-only."""
from __future__ import annotations

import sys
from pathlib import Path

from course_grader.execution import bwrap as sandbox


def _ro_binds(args: list) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == "--ro-bind"]


def test_environment_under_tmp_is_mounted_back(settings, monkeypatch, tmp_path):
    """/tmp is replaced by an empty tmpfs; an interpreter living there (a CI venv cache) must
    be bound back, or the kernel cannot start."""
    venv = Path("/tmp") / "course-test-venv-cache" / "venv-abc"
    monkeypatch.setattr(sys, "prefix", str(venv))
    args = sandbox.bwrap_args(settings, tmp_path / "work")
    assert str(venv.resolve()) in _ro_binds(args)
    assert args.index("--tmpfs") < args.index(str(venv.resolve()))


def test_course_root_is_hidden_and_course_utils_comes_back(settings, tmp_path):
    args = sandbox.bwrap_args(settings, tmp_path / "work")
    tmpfs = [args[i + 1] for i, a in enumerate(args) if a == "--tmpfs"]
    assert str(settings.root.resolve()) in tmpfs
    assert str((settings.root / "course_utils").resolve()) in _ro_binds(args)
    assert "--unshare-net" in args
