"""The sandbox's command line and the kernel's environment (no kernel is started here).

What the kernel can actually do inside is tested by running kernels: tests/grader/test_sandbox_policy.py
and the hostile cases of tests/submissions (read_secrets, sandbox_escape, fill_scratch, ...).
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from course_grader.execution import bwrap as sandbox
from course_grader.execution import environment


def _binds(args: list, flag: str = "--ro-bind") -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


def _all_sources(args: list) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a in ("--ro-bind", "--bind", "--dev-bind")]


@pytest.fixture
def args(settings, tmp_path):
    (tmp_path / "work").mkdir()
    return sandbox.bwrap_args(settings, tmp_path / "work", ipc_dir=tmp_path / "ipc", bwrap="bwrap")


def test_unprivileged_user_without_capabilities(args):
    assert args[args.index("--unshare-user") + 1:args.index("--unshare-user") + 5] == \
        ["--uid", "65534", "--gid", "65534"]
    assert args[args.index("--cap-drop") + 1] == "ALL"
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--new-session"):
        assert flag in args


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")
def test_no_further_user_namespaces_where_bwrap_can(settings, tmp_path):
    real = shutil.which("bwrap")
    args = sandbox.bwrap_args(settings, tmp_path, bwrap=real)
    assert ("--disable-userns" in args) == sandbox._supports(real, "--disable-userns")


def test_minimal_view_never_binds_the_host_root_or_home(args, settings):
    sources = _all_sources(args)
    assert "/" not in sources
    for path in ("/root", "/home", "/var", "/run", "/tmp", "/etc", str(Path.home())):
        assert path not in sources, path
    etc = [s for s in sources if s.startswith("/etc/")]
    assert etc and all(s[len("/etc/"):] in sandbox.ETC_FILES for s in etc)
    assert "/etc/shadow" not in sources


def test_course_root_is_never_bound_but_course_utils_is(args, settings):
    root = settings.root.resolve()
    sources = [Path(s) for s in _all_sources(args)]
    assert root not in sources and not any(s in root.parents for s in sources)
    inside = [s for s in sources if root in s.parents]
    assert (root / "course_utils").resolve() in inside
    utils = args.index(str((root / "course_utils").resolve()))
    assert args[utils - 1:utils + 2] == ["--ro-bind", str((root / "course_utils").resolve()),
                                         sandbox.KERNEL_PACKAGES + "/course_utils"]
    env = args.index("PYTHONPATH")
    assert args[env - 1:env + 2] == ["--setenv", "PYTHONPATH", sandbox.KERNEL_PACKAGES]
    # what else of the course root may come back: only the environment the grader runs in
    prefix = Path(sys.prefix).resolve()
    assert all(s == (root / "course_utils").resolve() or s == prefix or prefix in s.parents
               for s in inside), inside
    assert not any((root / name).resolve() in sources for name in ("source", ".course_cache", "release"))


def test_scratch_is_size_capped_tmpfs_and_ipc_the_only_writable_host_folder(args, settings, tmp_path):
    size = str(settings.scratch_limit_mb * 1024 * 1024)
    work = str((tmp_path / "work").resolve())
    for scratch in ("/tmp", "/dev/shm", work):
        i = args.index(scratch, args.index("--proc"))
        assert args[i - 1] == "--tmpfs" and args[i - 3:i - 1] == ["--size", size], scratch
    assert _binds(args, "--bind") == [str((tmp_path / "ipc").resolve())]
    assert args[args.index("--remount-ro") + 1] == "/"
    assert args[args.index("--chdir") + 1] == work


def test_files_handed_in_are_bound_read_only_into_the_scratch(settings, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "data.csv").write_text("1,2\n")
    (work / "link.csv").symlink_to("/etc/hostname")
    args = sandbox.bwrap_args(settings, work, bwrap="bwrap")
    ro = _binds(args)
    assert str((work / "data.csv").resolve()) in ro
    assert not any("link.csv" in s for s in _all_sources(args))
    assert ro.index(str((work / "data.csv").resolve())) > 0
    assert args.index(str((work / "data.csv").resolve())) > args.index(str(work.resolve()))


def test_environment_under_tmp_is_mounted_back(settings, monkeypatch, tmp_path):
    """/tmp is a fresh tmpfs; an interpreter living there (a CI venv cache) must be bound back,
    after the tmpfs, or the kernel cannot start."""
    venv = tmp_path / "venv-cache" / "venv-abc"
    venv.mkdir(parents=True)
    monkeypatch.setattr(sys, "prefix", str(venv))
    args = sandbox.bwrap_args(settings, tmp_path / "work", bwrap="bwrap")
    assert str(venv.resolve()) in _binds(args)
    # bound after the fresh /tmp, or the tmpfs would hide it (CI's venv cache lives in /tmp)
    assert args.index("/tmp", args.index("--proc")) < args.index(str(venv.resolve()))


def test_hidden_batch_folders_are_not_bound(settings, tmp_path):
    submitted, out = tmp_path / "submitted", tmp_path / "out"
    submitted.mkdir(), out.mkdir()
    args = sandbox.bwrap_args(settings, tmp_path / "work", hidden=(submitted, out), bwrap="bwrap")
    for source in _all_sources(args):
        assert not source.startswith((str(submitted.resolve()), str(out.resolve()))), source


SECRETS = {"LANGCHAIN_API_KEY": "lc-secret", "HOMEBREW_GITHUB_API_TOKEN": "gh-secret",
           "PATHOLOGICAL_TOKEN": "p-secret", "LANG_SECRET": "l-secret", "LC_TOKEN": "c-secret",
           "PYTHONPATH": "/somewhere", "XDG_CACHE_HOME": "/root/.cache", "TORCH_HOME": "/root/t",
           "AWS_SECRET_ACCESS_KEY": "aws", "GITHUB_TOKEN": "ghs", "HOME": "/root"}


def test_kernel_environment_is_an_exact_allowlist(settings, monkeypatch, tmp_path):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("LANG", "C.UTF-8")
    env = environment.kernel_env(settings, tmp_path)
    for name in SECRETS:
        if name != "HOME":
            assert name not in env, name
    assert not any(v in env.values() for k, v in SECRETS.items() if k != "HOME")
    assert env["HOME"] == str(tmp_path)
    assert env["PATH"] == "/usr/bin:/bin" and env["LANG"] == "C.UTF-8"
    extra = set(env) - environment.KEEP - {"COURSE_DATA_DIR"}
    assert all(name.isupper() for name in extra)
    assert extra == {"COURSE_GRADING", "COURSE_TRAIN_EPOCHS", "MPLBACKEND", "OMP_NUM_THREADS",
                     "MKL_NUM_THREADS", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "MPLCONFIGDIR",
                     "TQDM_MININTERVAL", "PYDEVD_DISABLE_FILE_VALIDATION", "JUPYTER_PLATFORM_DIRS", "HOME",
                     "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", *environment.PIP_OFFLINE}
    assert env["PIP_NO_INDEX"] == "1" and env["PIP_CONFIG_FILE"] == os.devnull   # !pip install installs nothing


def test_kernel_gets_the_graders_data_root(settings, monkeypatch, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(data))
    assert environment.kernel_env(settings, tmp_path / "w")["COURSE_DATA_DIR"] == str(data.resolve())
    args = sandbox.bwrap_args(settings, tmp_path / "w", bwrap="bwrap")
    assert str(data.resolve()) in _binds(args)
