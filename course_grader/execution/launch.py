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
and the number of processes (``max_processes``).

Processes are capped, and cleaned up, as soundly as the machine allows:
- where the grader can create cgroups (root with cgroup v1's ``pids``/``memory`` hierarchies
  writable, or a delegated cgroup v2), each kernel runs in a cgroup of its own: at most
  ``max_processes`` tasks (a fork bomb gets ``BlockingIOError``) and ``memory_limit_mb`` of memory
  for the kernel and everything it starts together; when grading ends, every process in it is
  killed and the cgroup removed;
- else ``RLIMIT_NPROC`` caps the processes of the grader's user, which Linux does not enforce for
  root: a grader running as root without writable cgroups cannot cap a fork bomb (the README says
  so);
- in the sandbox the kernel runs in a pid namespace of its own (``--unshare-pid``): when the
  grader stops the kernel, or dies, every process the student's code started dies with it, even
  one that left the kernel's session;
- everywhere, every kernel process carries ``KERNEL_MARK`` in its environment, and processes that
  still carry the run's mark when it ends are killed (a last sweep, for ``sandbox = "off"``).
"""
from __future__ import annotations

import os
import shutil
import signal
import sys
import time
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from ..config import CourseError, Settings

#: Extra folders to hide from every sandboxed kernel (set by the grader for one grading run:
#: the submissions folder, the output folder, the scratch area).
HIDDEN_PATHS: list[Path] = []

#: Environment variable set, with a value unique to one kernel run, in every grading kernel.
KERNEL_MARK = "COURSE_KERNEL_RUN"

LIMITS_CODE = r'''
import os, resource, sys
mem_mb, nproc, cgroups = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
pids_capped = False
for procs in filter(None, cgroups.split(os.pathsep)):
    if not (procs.startswith("/sys/fs/cgroup/") and procs.endswith("/cgroup.procs")):
        sys.exit(f"grading kernel: {procs!r} is not a cgroup")
    try:
        with open(procs, "w") as f:
            f.write(str(os.getpid()))
        pids_capped = pids_capped or os.path.isfile(os.path.join(os.path.dirname(procs), "pids.max"))
    except OSError as e:
        print(f"grading kernel: cannot join the cgroup {procs}: {e}", file=sys.stderr)
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
if nproc > 0 and not pids_capped:    # the cgroup caps this kernel alone; RLIMIT_NPROC the user
    cap(resource.RLIMIT_NPROC, nproc)
cap(resource.RLIMIT_CORE, 0)
cap(resource.RLIMIT_FSIZE, 1 << 30)
os.execvp(sys.argv[4], sys.argv[4:])
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
    # --unshare-pid: when bwrap goes, every process in the namespace goes. ipykernel's parent
    # poller would see a parent pid from outside the namespace and quit: JPY_PARENT_PID=1 turns
    # it off (--die-with-parent ties the kernel to the grader instead).
    args = [bwrap_path(), "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-pid",
            "--die-with-parent", "--new-session", "--setenv", "JPY_PARENT_PID", "1",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
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
    covered = hidden + [Path("/tmp").resolve()]        # replaced by empty folders above
    for path in need:
        if any(h == path or h in path.parents for h in covered):
            args += ["--ro-bind", str(path), str(path)]
    args += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir),
             "--setenv", "HOME", str(workdir)]
    return args


class KernelCgroup:
    """The cgroups (one per controller) that hold one grading kernel and all it starts."""

    def __init__(self, dirs: dict, version: int):
        self.dirs = dirs              # controller ("pids", "memory") -> cgroup folder
        self.version = version

    @property
    def caps_processes(self) -> bool:
        return "pids" in self.dirs

    def procs_files(self) -> list[str]:
        return sorted({str(d / "cgroup.procs") for d in self.dirs.values()})

    @classmethod
    def create(cls, settings: Settings) -> "KernelCgroup | None":
        """New cgroups with the settings' limits, or None where this machine offers none."""
        name = f"course-kernel-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        wanted = {"pids": str(settings.max_processes) if settings.max_processes > 0 else "max",
                  "memory": (str(settings.memory_limit_mb * 1024 * 1024)
                             if settings.memory_limit_mb > 0 else None)}
        dirs, version = {}, 1
        try:
            own = _own_cgroups()
            _remove_stale(own)
            unified = Path("/sys/fs/cgroup")
            if (unified / "cgroup.controllers").is_file() and "" in own:
                version = 2
                folder = unified / own[""].lstrip("/") / name
                folder.mkdir()
                dirs = {c: folder for c in ("pids", "memory") if (folder / f"{c}.max").is_file()}
                if not dirs:
                    folder.rmdir()
                    return None
                if "pids" in dirs:
                    (folder / "pids.max").write_text(wanted["pids"])
                if "memory" in dirs and wanted["memory"]:
                    (folder / "memory.max").write_text(wanted["memory"])
                    if (folder / "memory.swap.max").is_file():
                        (folder / "memory.swap.max").write_text("0")
            else:
                for controller in ("pids", "memory"):
                    base = Path("/sys/fs/cgroup") / controller
                    if controller not in own or not (base / "cgroup.procs").is_file():
                        continue
                    folder = base / own[controller].lstrip("/") / name
                    try:
                        folder.mkdir()
                    except OSError:
                        continue
                    dirs[controller] = folder
                    if controller == "pids":
                        (folder / "pids.max").write_text(wanted["pids"])
                    elif wanted["memory"]:
                        (folder / "memory.limit_in_bytes").write_text(wanted["memory"])
        except OSError:
            cgroup = cls(dirs, version)
            cgroup.remove()
            return None
        return cls(dirs, version) if dirs else None

    def pids(self) -> set[int]:
        found = set()
        for d in set(self.dirs.values()):
            try:
                found |= {int(x) for x in (d / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                pass
        return found

    def oom_killed(self) -> bool:
        """Whether the kernel's memory cgroup has killed a process for lack of memory."""
        folder = self.dirs.get("memory")
        if folder is None:
            return False
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            for line in (folder / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        except (OSError, ValueError):
            pass
        return False

    def kill_all(self) -> None:
        if self.version == 2 and (self.dirs.get("pids") or self.dirs.get("memory")):
            folder = next(iter(self.dirs.values()))
            try:
                (folder / "cgroup.kill").write_text("1")
            except OSError:
                pass
        kill_until_gone(self.pids, rounds=200, pause=0.02)   # a fork bomb refills; the pids cap keeps this short

    def remove(self) -> None:
        for d in sorted(set(self.dirs.values()), reverse=True):
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def _remove_stale(own: dict) -> None:
    """Remove empty kernel cgroups left by graders that were killed before they could."""
    bases = [Path("/sys/fs/cgroup") / c / own[c].lstrip("/") for c in ("pids", "memory") if c in own]
    if "" in own:
        bases.append(Path("/sys/fs/cgroup") / own[""].lstrip("/"))
    for base in bases:
        for folder in base.glob("course-kernel-*") if base.is_dir() else []:
            try:
                owner = int(folder.name.split("-")[2])
                os.kill(owner, 0)
                continue                      # its grader still runs
            except ProcessLookupError:
                pass
            except (ValueError, IndexError, OSError):
                continue
            try:
                folder.rmdir()                # fails, harmlessly, while processes are inside
            except OSError:
                pass


def _own_cgroups() -> dict:
    """{controller: path} of the grader's own cgroups ("" for the cgroup v2 hierarchy)."""
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            own[controller] = path
    return own


class GradingKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command is wrapped in limits (and the sandbox)."""

    wrapper: list = []
    cgroup: "KernelCgroup | None" = None
    mark: str = ""
    process = None                 # the launched process (the wrapper, then bwrap or the kernel)

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

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            self.process = getattr(self.provisioner, "process", None) or self.process

    def exit_reason(self) -> str:
        """Why the kernel process ended, in words ("" while it runs or when unknown)."""
        code = self.process.poll() if self.process is not None else None
        if self.cgroup is not None and self.cgroup.oom_killed():
            return "it ran out of memory"
        if code is None:
            return ""
        # bwrap exits with 128 + N when the kernel inside was killed by signal N
        sig = -code if code < 0 else (code - 128 if code > 128 and self.wrapper_is_bwrap() else 0)
        words = {signal.SIGSEGV: "it crashed (segmentation fault)",
                 signal.SIGBUS: "it crashed (bus error)",
                 signal.SIGABRT: "it crashed (aborted)",
                 signal.SIGKILL: "it was killed (SIGKILL, often for lack of memory)"}
        if sig:
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            return words.get(sig, f"it was killed by {name}")
        return f"the process exited with status {code}"

    def wrapper_is_bwrap(self) -> bool:
        return any(Path(str(a)).name == "bwrap" for a in self.wrapper)


def stop_kernel(km: GradingKernelManager) -> None:
    """Make sure the kernel and every process it started are gone; never raises."""
    process = km.process
    try:
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)   # jupyter starts it in a new session
            except OSError:
                pass
            process.kill()
        if process is not None:
            process.wait(timeout=10)
    except Exception:
        pass
    if km.cgroup is not None:
        km.cgroup.kill_all()
        km.cgroup.remove()
    if km.mark:
        sweep(km.mark)


def marked_pids(mark: str) -> list[int]:
    """Processes whose environment holds ``KERNEL_MARK=<mark>`` (those this user may read)."""
    needle = f"{KERNEL_MARK}={mark}".encode() + b"\0"
    found = []
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else []:
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                if needle in f.read() + b"\0":
                    found.append(int(entry.name))
        except OSError:
            pass
    return found


def sweep(mark: str, rounds: int = 20) -> None:
    """Kill every process that carries ``mark`` (a kernel run's mark) until none is left."""
    me = os.getpid()
    kill_until_gone(lambda: [p for p in marked_pids(mark) if p != me], rounds=rounds, pause=0.05)


def kill_until_gone(list_pids, rounds: int, pause: float) -> None:
    """SIGKILL every pid ``list_pids()`` returns, again and again, until it returns none."""
    for _ in range(rounds):
        pids = list_pids()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(pause)


def kernel_manager(settings: Settings, workdir: Path) -> GradingKernelManager:
    workdir = Path(workdir).resolve()
    cgroup = KernelCgroup.create(settings)
    limits = [venv_python(), "-c", LIMITS_CODE, str(settings.memory_limit_mb), str(settings.max_processes),
              os.pathsep.join(cgroup.procs_files()) if cgroup else ""]
    if use_sandbox(settings):
        km = GradingKernelManager(kernel_name="python3", transport="ipc",
                                  ip=str(workdir / ".kernel"))
        km.wrapper = limits + bwrap_args(settings, workdir)
    else:
        km = GradingKernelManager(kernel_name="python3")
        km.wrapper = limits
    km.cgroup = cgroup
    km.mark = f"{os.getpid()}-{uuid.uuid4().hex}"
    km.connection_file = str(workdir / ".kernel-connection.json")
    return km
