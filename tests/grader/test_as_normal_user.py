"""The isolation tests again, with a grader that is not root.

This project's CI runs as root; an instructor's laptop, a university server or a GitHub runner's
user does not, and there bubblewrap, the pre-warmed kernels' namespaces and the CPU limits work
differently (no capabilities outside the user namespace, no cgroup of the grader's own). As root,
this test copies the course into a folder owned by an ordinary account and runs the sandbox,
fork-server, CPU-limit and test-guard tests there as that account (``setpriv``), in a mount namespace of its
own where the interpreter's folder is reachable (a pyenv under /root is not, for other users): the
host's permissions are never changed. Run as a normal user it is skipped: the whole suite is then
this check.
"""
from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INNER = ["tests/grader/test_zygote.py", "tests/grader/test_sandbox_policy.py",
         "tests/grader/test_cpu_time_limit.py", "tests/grader/test_guard.py"]
#: what the inner tests may skip for a normal user (nothing that means "no sandbox")
ALLOWED_SKIPS = {"the refusal is for a grader running as root"}
COPY_IGNORE = shutil.ignore_patterns(".venv", ".git", ".course_cache", "__pycache__", "*.egg-info",
                                     "autograded", "submitted", "feedback", ".pytest_cache")


def _account() -> pwd.struct_passwd:
    """An ordinary account: the first with a uid from 1000, else nobody."""
    for entry in sorted(pwd.getpwall(), key=lambda e: e.pw_uid):
        if 1000 <= entry.pw_uid < 65534:
            return entry
    return pwd.getpwnam("nobody")


def _closed_ancestor(path: Path) -> Path | None:
    """The first folder above ``path`` that others cannot enter (``/root``), or None."""
    for folder in reversed(path.parents):
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return folder
    return None


def _mount_script(paths: list[Path]) -> str:
    """Shell lines, run as root in a new mount namespace, that make each of ``paths`` reachable for
    others: a tmpfs over each closed folder above them, with just their subtrees bound back.

    The paths are the virtual environment and its interpreter: CI keeps the venv in root's cache
    (``/root/.cache/...``) and a pyenv interpreter lies under ``/root/.pyenv``; both must survive
    the tmpfs over ``/root``."""
    children: dict[Path, list[Path]] = {}
    for path in paths:
        closed = _closed_ancestor(path)
        if closed is None:
            continue
        child = closed / path.relative_to(closed).parts[0]
        deeper = [f for f in [path, *path.parents] if f == child or child in f.parents]
        if any(f.is_dir() and not os.stat(f).st_mode & stat.S_IXOTH for f in deeper):
            pytest.skip(f"{path} lies under more than one folder other users cannot enter")
        if child not in children.setdefault(closed, []):
            children[closed].append(child)
    lines = []
    for n, (closed, kept) in enumerate(children.items()):
        keeps = [f"/tmp/.course-normal-user-keep-{n}-{k}" for k in range(len(kept))]
        for child, keep in zip(kept, keeps):
            lines.append(f"mkdir -p {keep} && mount --bind {shlex.quote(str(child))} {keep}")
        lines.append(f"mount -t tmpfs -o mode=755 tmpfs {shlex.quote(str(closed))}")
        for child, keep in zip(kept, keeps):
            lines.append(f"mkdir -p {shlex.quote(str(child))} && mount --bind {keep} {shlex.quote(str(child))}")
    return "".join(line + " && " for line in lines)


@pytest.mark.xdist_group("cpu_time")      # see test_cpu_time_limit.py
def test_isolation_tests_pass_for_a_grader_that_is_not_root():
    if os.geteuid() != 0:
        pytest.skip("the grader is not root here: the whole suite is this check")
    for tool in ("setpriv", "unshare"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} (util-linux) is not installed")
    account = _account()
    venv = (ROOT / ".venv").resolve()
    interpreter = (venv / "bin" / "python").resolve()
    data = os.environ.get("COURSE_DATA_DIR", "")
    base = Path(tempfile.mkdtemp(prefix="course-normal-user-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        course = base / "course"
        shutil.copytree(ROOT, course, ignore=COPY_IGNORE, symlinks=True)
        (course / ".venv").symlink_to(venv)
        home = base / "home"
        home.mkdir()
        for path in [base, *base.rglob("*")]:
            os.lchown(path, account.pw_uid, account.pw_gid)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
               "COURSE_DATA_DIR": data, "COURSE_REQUIRE_DATA": os.environ.get("COURSE_REQUIRE_DATA", "")}
        run_as = (f"exec setpriv --reuid {account.pw_uid} --regid {account.pw_gid} --clear-groups "
                  f"--inh-caps=-all env -i " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
                  + f" {shlex.quote(str(course / '.venv' / 'bin' / 'python'))} -m pytest -q -rs -p no:cacheprovider "
                  + " ".join(INNER))
        script = f"cd {shlex.quote(str(course))} && {_mount_script([venv, interpreter])}{run_as}"
        result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                                capture_output=True, text=True, timeout=1500)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    tail = (result.stdout + result.stderr)[-4000:]
    assert result.returncode == 0, f"as {account.pw_name} (uid {account.pw_uid}):\n{tail}"
    passed = re.search(r"(\d+) passed", result.stdout)
    skips = re.findall(r"^SKIPPED \[\d+\] [^:]+:\d+: (.*)$", result.stdout, re.M)
    # the sandbox must have run: any other skip would be a normal user's grader that never sandboxed
    assert passed and int(passed.group(1)) >= 20, tail
    assert set(skips) <= ALLOWED_SKIPS, tail
    print(f"as {account.pw_name} (uid {account.pw_uid}): {passed.group(0)}", file=sys.stderr)
