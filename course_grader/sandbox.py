"""How a grading kernel is started: resource limits, and a bubblewrap sandbox where available.

Inside the sandbox (``bwrap``, Debian package ``bubblewrap``):
- no network (``--unshare-net``); the kernel talks to the grader over IPC sockets in its scratch
  folder, since TCP on loopback does not cross a new network namespace;
- the whole filesystem is read-only, and the course root, the folder of submissions, the grader's
  scratch area and the output folder are replaced by empty folders: the student's code sees
  neither ``source/``, the gradebook, the cached reference results nor other submissions;
- only the submission's own scratch folder is writable, and it is the working directory;
- the interpreter and ``course_utils`` are mounted back read-only so the kernel can run.

Outside it (no ``bwrap``, or ``sandbox = "off"``), the limits below still apply but the student's
code can read the machine as the grader's user can; the README says so.

Limits (both ways): address space (``memory_limit_mb``), core dumps off, largest file written 1 GiB,
and the number of processes (``max_processes``, enforced where the kernel does not run as root).
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from .config import CourseError, Settings

#: Extra folders to hide from every sandboxed kernel (set by the grader for one grading run:
#: the submissions folder, the output folder, the scratch area).
HIDDEN_PATHS: list[Path] = []

LIMITS_CODE = r'''
import os, resource, sys
mem_mb, nproc = int(sys.argv[1]), int(sys.argv[2])
def cap(kind, value):
    try:
        soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))
    except (ValueError, OSError):
        pass
if mem_mb > 0:
    cap(resource.RLIMIT_AS, mem_mb * 1024 * 1024)
if nproc > 0:
    cap(resource.RLIMIT_NPROC, nproc)
cap(resource.RLIMIT_CORE, 0)
cap(resource.RLIMIT_FSIZE, 1 << 30)
os.execvp(sys.argv[3], sys.argv[3:])
'''


def venv_python() -> str:
    """The interpreter of the environment the grader runs in, by its real path."""
    prefix = Path(sys.prefix).resolve()
    for name in ("python", "python3"):
        candidate = prefix / "bin" / name
        if candidate.exists():
            return str(candidate)
    return sys.executable


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


def bwrap_args(settings: Settings, workdir: Path) -> list[str]:
    workdir = Path(workdir).resolve()
    args = [bwrap_path(), "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
            "--new-session", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--tmpfs", "/tmp"]
    hidden = [settings.root.resolve(), *(Path(p).resolve() for p in HIDDEN_PATHS)]
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
    for path in need:
        if any(h == path or h in path.parents for h in hidden):
            args += ["--ro-bind", str(path), str(path)]
    args += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir),
             "--setenv", "HOME", str(workdir)]
    return args


class GradingKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command is wrapped in limits (and the sandbox)."""

    wrapper: list = []

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None:
            # signals sent to the wrapper do not reach the kernel: ask ipykernel to interrupt itself
            spec.interrupt_mode = "message"
        return spec

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if cmd and Path(cmd[0]).name.startswith("python"):
            cmd[0] = venv_python()
        return list(self.wrapper) + cmd


def kernel_manager(settings: Settings, workdir: Path) -> GradingKernelManager:
    workdir = Path(workdir).resolve()
    limits = [venv_python(), "-c", LIMITS_CODE, str(settings.memory_limit_mb),
              str(settings.max_processes)]
    if use_sandbox(settings):
        km = GradingKernelManager(kernel_name="python3", transport="ipc",
                                  ip=str(workdir / ".kernel"))
        km.wrapper = limits + bwrap_args(settings, workdir)
    else:
        km = GradingKernelManager(kernel_name="python3")
        km.wrapper = limits
    km.connection_file = str(workdir / ".kernel-connection.json")
    return km
