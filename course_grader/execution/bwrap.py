"""The bubblewrap sandbox of a grading kernel (``bwrap``, Debian package ``bubblewrap``).

What a sandboxed kernel gets, for root and non-root graders alike:

- **an unprivileged user**: a new user namespace in which the kernel is uid/gid 65534 (nobody)
  with no capabilities (``--cap-drop ALL``) and no way to make further user namespaces
  (``--disable-userns``, where bwrap supports it): it cannot mount, remount or unmount anything,
  so the view below cannot be undone;
- **a minimal filesystem view** built on an empty root: read-only ``/usr`` and the ``/bin``,
  ``/lib*`` links, a short list of ``/etc`` files (:data:`ETC_FILES`: no ``shadow``, no ssh or
  TLS keys), the Python environment the grader runs in, ``course_utils``, the data set, and the
  folders of ``sys.path`` that are not hidden. Nothing else of the host exists in it: not the
  course root (``source/``, the cached reference), not the home folders, ``/root``, ``/var``,
  ``/run`` (no host Unix sockets such as ``docker.sock``), ``/tmp``, other kernels' scratch
  folders, earlier grading outputs;
- **its own scratch**: the working folder (also ``HOME``), ``/tmp`` and ``/dev/shm`` are fresh
  tmpfs of ``scratch_limit_mb`` each (a disk quota: writes past it fail with ENOSPC; tmpfs pages
  count towards the kernel's memory cgroup where there is one). The files handed in next to the
  notebook are bound into the working folder read-only;
- **one writable host folder**, the kernel's IPC folder (its connection file and sockets, made
  fresh for each kernel), since the grader talks to the kernel over Unix sockets there;
- no network (``--unshare-net``: no TCP, no abstract Unix sockets), its own IPC, UTS and pid
  namespaces (``--unshare-pid``: when the grader stops the kernel, or dies, every process the
  student's code started dies with it), a new session (no terminal injection).

``probe(settings)`` starts that exact sandbox once (the same flags, a trivial command) before any
student code runs, so that a bwrap that cannot work here (Ubuntu 24.04's AppArmor restriction on
user namespaces, a container without namespaces) is known up front: see :func:`decide`.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..config import CourseError, Settings
from .environment import LIMITS_CODE, data_dir, venv_python

#: The uid and gid of the kernel inside its user namespace (``nobody``).
SANDBOX_UID = 65534

#: The files and folders of ``/etc`` a kernel sees (those that exist): the dynamic loader's
#: cache, name services for its own uid, time zone, fonts and MIME types. Nothing else of /etc.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "passwd", "group",
             "localtime", "timezone", "fonts", "alternatives", "mime.types", "os-release",
             "host.conf", "hosts", "matplotlibrc")

#: Where the course's own ``course_utils`` appears in the sandbox (on the kernel's PYTHONPATH, so
#: the kernel imports the course's copy, not whatever the environment has installed).
KERNEL_PACKAGES = "/course"

#: Top-level folders whose content the kernel gets read-only (merged-/usr links are re-created).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

#: What to do when the sandbox cannot run, said once per batch.
FIX = ("install bubblewrap (apt-get install bubblewrap); on Ubuntu 24.04 and later (GitHub's "
       "ubuntu-latest) unprivileged user namespaces are restricted by AppArmor: allow them with "
       "`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, or run the grader as "
       "root; in a container, allow user namespaces (e.g. docker run --security-opt "
       "seccomp=unconfined)")


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def running_as_root() -> bool:
    return os.geteuid() == 0


@functools.lru_cache(maxsize=8)
def _supports(bwrap: str, option: str) -> bool:
    """Whether this bwrap knows ``option`` (``--disable-userns`` came in 0.8.0)."""
    try:
        out = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return option in (out.stdout + out.stderr)


def _hidden_roots(settings: Settings, hidden: tuple) -> list[Path]:
    return [settings.root.resolve(), *(Path(p).resolve() for p in hidden)]


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(r == path or r in path.parents for r in roots)


def _read_only_folders(settings: Settings, hidden: tuple) -> list[Path]:
    """Folders outside /usr the kernel needs, read-only: the environment, the data set, and the
    site-packages folders of ``sys.path`` that are not hidden (never the course root itself;
    course_utils comes at :data:`KERNEL_PACKAGES`)."""
    roots = _hidden_roots(settings, hidden)
    wanted = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()]
    data = data_dir()
    if data is not None:
        wanted.append(data)
    for entry in sys.path:        # site-packages added by .pth files (a venv layered on another)
        if entry and Path(entry).name in ("site-packages", "dist-packages"):
            path = Path(entry).resolve()
            if path.is_dir() and not _inside(path, roots):
                wanted.append(path)
    keep = []
    for path in wanted:
        if str(path) == "/" or _inside(path, [Path(d) for d in SYSTEM_DIRS if not os.path.islink(d)]):
            continue
        if path.exists() and path not in keep:
            keep.append(path)
    # an outer folder already bound makes its inner ones redundant
    return [p for p in keep if not any(q != p and q in p.parents for q in keep)]


def bwrap_args(settings: Settings, workdir: Path, hidden: tuple = (), ipc_dir: Path | None = None,
               bwrap: str | None = None) -> list[str]:
    """bwrap's command line for a kernel working in ``workdir`` (see the module's docstring).

    hidden: folders, besides the course root, that must never be visible (a batch's submissions
    and output); they are not part of the view, and folders inside them are bound back only when
    the kernel needs them (a venv inside the course root). ipc_dir: the kernel's IPC folder, the
    one writable host folder (default: none). The regular files in ``workdir`` are bound
    read-only into the kernel's fresh working folder.
    """
    bwrap = bwrap or bwrap_path()
    workdir = Path(workdir).resolve()
    size = str(max(1, int(settings.scratch_limit_mb)) * 1024 * 1024)
    args = [bwrap, "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    if _supports(bwrap, "--disable-userns"):
        args += ["--disable-userns"]
    # --unshare-pid: when bwrap goes, every process in the namespace goes. ipykernel's parent
    # poller would see a parent pid from outside the namespace and quit: JPY_PARENT_PID=1 turns
    # it off (--die-with-parent ties the kernel to the grader instead).
    args += ["--cap-drop", "ALL", "--unshare-net", "--unshare-ipc", "--unshare-uts",
             "--unshare-pid", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
             "--setenv", "JPY_PARENT_PID", "1"]
    for top in SYSTEM_DIRS:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for name in ETC_FILES:
        if os.path.exists(f"/etc/{name}"):
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    for dev in sorted(Path("/dev").glob("nvidia*")):        # a GPU grading machine
        args += ["--dev-bind", str(dev), str(dev)]
    if any(Path("/dev").glob("nvidia*")) and os.path.isdir("/sys"):
        args += ["--ro-bind", "/sys", "/sys"]
    # fresh /tmp and /dev/shm first: what is bound next may live there (a CI venv under /tmp)
    for scratch in ("/tmp", "/dev/shm"):
        args += ["--size", size, "--tmpfs", scratch]
    for folder in _read_only_folders(settings, hidden):
        args += ["--ro-bind", str(folder), str(folder)]
    utils = settings.root / "course_utils"
    if utils.is_dir():
        args += ["--ro-bind", str(utils.resolve()), f"{KERNEL_PACKAGES}/course_utils",
                 "--setenv", "PYTHONPATH", KERNEL_PACKAGES]
    args += ["--size", size, "--tmpfs", str(workdir)]
    for item in sorted(workdir.iterdir()) if workdir.is_dir() else []:
        if item.is_file() and not item.is_symlink():
            args += ["--ro-bind", str(item), str(item)]
    if ipc_dir is not None:
        ipc_dir = Path(ipc_dir).resolve()
        args += ["--bind", str(ipc_dir), str(ipc_dir)]
    args += ["--remount-ro", "/", "--chdir", str(workdir), "--setenv", "HOME", str(workdir)]
    return args


# --------------------------------------------------------------------------- probe and policy


@dataclass(frozen=True)
class SandboxDecision:
    """Whether grading kernels run in the sandbox, and what to tell the instructor."""
    use: bool
    warning: str = ""        # one line for stderr and the results' notes ("" when all is well)


@functools.lru_cache(maxsize=8)
def _probe(bwrap: str, settings: Settings) -> str:
    """Start the sandbox exactly as a kernel's (limits wrapper, flags, interpreter) with a command
    that checks what the kernel will rely on; "" when it works, else why not."""
    check = ("import os, sys; "
             f"assert os.getuid() == {SANDBOX_UID}, 'uid %d' % os.getuid(); "
             "open('probe', 'w').write('x'); "
             "import json, zmq; print('sandbox ok')")
    with tempfile.TemporaryDirectory(prefix="course-probe-") as tmp:
        workdir, ipc = Path(tmp) / "work", Path(tmp) / "ipc"
        workdir.mkdir()
        ipc.mkdir()
        # the limits wrapper as the kernel's, but no memory limit: a limit too small for Python
        # is the kernel's failure to start (an error of its own), not the sandbox's
        cmd = ([venv_python(), "-c", LIMITS_CODE, "0", str(settings.max_processes), ""]
               + bwrap_args(settings, workdir, ipc_dir=ipc, bwrap=bwrap)
               + [venv_python(), "-c", check])
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                                 env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                                 stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return "bwrap did not start a process within 60 s"
        except OSError as e:
            return f"bwrap could not be started: {e}"
    if out.returncode != 0 or "sandbox ok" not in out.stdout:
        said = (out.stderr.strip() or out.stdout.strip()).splitlines()
        return f"bwrap failed (exit status {out.returncode}): {said[-1] if said else 'no message'}"
    return ""


def probe(settings: Settings) -> str:
    """Why the sandbox cannot run here ("" when it can); run once per process and settings."""
    bwrap = bwrap_path()
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    return _probe(bwrap, settings)


def decide(settings: Settings) -> SandboxDecision:
    """The sandbox policy, decided in the grader's process before any student code runs.

    - ``sandbox = "off"``: no sandbox (as root, with a warning: student code then runs as root).
    - ``"require"``: the sandbox must work, else CourseError.
    - ``"auto"``: the sandbox when it works; when it does not, a non-root grader goes on without
      it (a warning and a note in every result); a root grader refuses (CourseError), since
      student code would run as root with the whole machine in reach.
    """
    mode = settings.sandbox
    if mode not in ("auto", "require", "off"):
        raise CourseError(f"c.Course.sandbox must be 'auto', 'require' or 'off', not {mode!r}")
    if mode == "off":
        warning = ("WARNING: sandbox = 'off' and the grader runs as root: student code runs as "
                   "root, unconfined" if running_as_root() else "")
        return SandboxDecision(False, warning)
    why = probe(settings)
    if not why:
        return SandboxDecision(True)
    if mode == "require":
        raise CourseError(f"sandbox = 'require' but the sandbox cannot run here: {why}. To fix: {FIX}.")
    if running_as_root():
        raise CourseError(
            f"refusing to run student code as root without the sandbox: {why}. To fix: {FIX}. "
            "(Or, knowing that student code then runs as root with the machine in reach, "
            "set c.Course.sandbox = 'off'.)")
    return SandboxDecision(False, f"WARNING: grading without the sandbox ({why}): student code "
                                  f"can read what your user can. To fix: {FIX}.")


_said: set = set()


def announce(decision: SandboxDecision) -> None:
    """Print the decision's warning on stderr, once per process."""
    if decision.warning and decision.warning not in _said:
        _said.add(decision.warning)
        print(decision.warning, file=sys.stderr)


def use_sandbox(settings: Settings) -> bool:
    """Whether kernels run sandboxed (``decide``; raises CourseError where grading must not run)."""
    return decide(settings).use
