"""The bubblewrap sandbox of a grading kernel (``bwrap``, Debian package ``bubblewrap``).

- no network (``--unshare-net``); the kernel talks to the grader over IPC sockets in its scratch
  folder, since TCP on loopback does not cross a new network namespace;
- the whole filesystem is read-only, and the course root and the ``hidden`` folders the caller
  passes (the folder of submissions, the output folder) are replaced by empty folders: the
  student's code sees neither ``source/``, the gradebook, the cached reference results nor other
  submissions;
- only the submission's own scratch folder is writable, and it is the working directory;
- the interpreter and ``course_utils`` are mounted back read-only so the kernel can run;
- a pid namespace of its own (``--unshare-pid``): when the grader stops the kernel, or dies,
  every process the student's code started dies with it.

Without ``bwrap`` (or with ``sandbox = "off"``) the limits still apply but the student's code can
read the machine as the grader's user can; the README says so.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ..config import CourseError, Settings


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def use_sandbox(settings: Settings) -> bool:
    mode = settings.sandbox
    if mode == "off":
        return False
    found = bwrap_path() is not None
    if mode == "require" and not found:
        raise CourseError("sandbox = 'require' but bwrap is not installed: "
                          "apt-get install bubblewrap (or set c.Course.sandbox = 'auto')")
    if mode not in ("auto", "require"):
        raise CourseError(f"c.Course.sandbox must be 'auto', 'require' or 'off', not {mode!r}")
    return found


def bwrap_args(settings: Settings, workdir: Path, hidden: tuple = ()) -> list[str]:
    """bwrap's command line for a kernel working in ``workdir``; ``hidden``: folders, besides the
    course root, that the kernel sees as empty."""
    workdir = Path(workdir).resolve()
    # --unshare-pid: when bwrap goes, every process in the namespace goes. ipykernel's parent
    # poller would see a parent pid from outside the namespace and quit: JPY_PARENT_PID=1 turns
    # it off (--die-with-parent ties the kernel to the grader instead).
    args = [bwrap_path(), "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-pid",
            "--die-with-parent", "--new-session", "--setenv", "JPY_PARENT_PID", "1",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    hidden = [settings.root.resolve(), *(Path(p).resolve() for p in hidden)]
    for path in sorted(set(hidden), key=lambda p: len(p.parts)):
        if path.exists() and path != Path("/"):
            args += ["--tmpfs", str(path)]
    # what the kernel needs back, read-only: the environment and the student-facing package
    prefix = Path(sys.prefix).resolve()
    need = [prefix]
    utils = settings.root / "course_utils"
    if utils.is_dir():
        need.append(utils.resolve())
    data = os.environ.get("COURSE_DATA_DIR")
    if data and Path(data).is_dir():
        need.append(Path(data).resolve())
    covered = hidden + [Path("/tmp").resolve()]        # replaced by empty folders above
    for path in need:
        if any(h == path or h in path.parents for h in covered):
            args += ["--ro-bind", str(path), str(path)]
    args += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir),
             "--setenv", "HOME", str(workdir)]
    return args
