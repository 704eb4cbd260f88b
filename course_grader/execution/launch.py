"""How a grading kernel is started and stopped: its command wrapped in resource limits
(``limits.py``: address space ``memory_limit_mb``, core dumps off, files up to 1 GiB, processes
``max_processes``), its own cgroup where possible (``cgroups.py``), and the bubblewrap sandbox
where available (``bwrap.py``).

Stopping is as sound as the machine allows: the kernel's process group, then its cgroup, then
every process that still carries the run's ``KERNEL_MARK`` (``processes.py``; a last sweep for
``sandbox = "off"``).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from queue import Empty

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async

from ..config import Settings
from .bwrap import SANDBOX_UID, bwrap_args, use_sandbox
from .cgroups import KernelCgroup
from .environment import LIMITS_CODE, venv_python
from .processes import sweep
from . import zygote



class GradingKernelClient(AsyncKernelClient):
    """The grader's kernel client: jupyter_client's, with a quicker start."""

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        """jupyter_client's handshake (a ``kernel_info`` reply on the shell channel, then a
        message on IOPub, which shows it is connected), without its last step: waiting until
        IOPub has been quiet for 0.2 s, a fixed 0.2 s of every kernel start. Nothing needs it
        here: nbclient matches every output to the request of its cell (a late status message of
        the handshake belongs to none), and ``tests/grader/test_zygote.py`` runs kernels back to
        back."""
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        while True:
            self.kernel_info()
            try:
                msg = await ensure_async(self.shell_channel.get_msg(timeout=1))
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:
                        await ensure_async(self.iopub_channel.get_msg(timeout=0.2))
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    wait_for_ready = _async_wait_for_ready

    #: zmq's interval between attempts to connect to a kernel that is not listening yet
    #: (milliseconds; zmq's default is 100, a tenth of a pre-warmed kernel's start: the client
    #: connects when the kernel is launched, about 0.12 s before it listens)
    RECONNECT_MS = 10

    def _create_connected_socket(self, channel: str, identity: bytes | None = None):
        import zmq
        self.context.setsockopt(zmq.RECONNECT_IVL, self.RECONNECT_MS)   # for the sockets it makes
        return super()._create_connected_socket(channel, identity)


class GradingKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command is wrapped in limits (and the sandbox)."""

    client_class = "course_grader.execution.launch.GradingKernelClient"
    client_factory = GradingKernelClient

    wrapper: list = []
    cgroup: "KernelCgroup | None" = None
    mark: str = ""
    ipc_dir: str = ""              # the kernel's IPC folder (its connection file and sockets)
    sandboxed: bool = False
    process = None                 # the launched process (the wrapper, then bwrap or the kernel)
    server = None                  # the fork server of a pre-warmed kernel (zygote.ForkServer)
    box: str = ""                  # the pre-warmed kernel's folder in the server's spool
    pidfile: str = ""              # where the relay writes the forked kernel's host pid
    _forked: tuple = ()            # (pid, start time) of the forked child, once known

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
        """Whether the exit status says 128 + N for a kernel killed by signal N (bwrap, relay)."""
        return self.server is not None or any(Path(str(a)).name == "bwrap" for a in self.wrapper)

    def kernel_pid(self) -> int | None:
        """The host pid of the process whose tree holds the kernel: the forked child of a
        pre-warmed kernel (from the relay's pidfile), else the launched process."""
        if self.server is None:
            return getattr(self.process, "pid", None)
        if not self._forked:
            try:
                pid = int(Path(self.pidfile).read_text())
                self._forked = (pid, start_time(pid))
            except (OSError, ValueError):
                return None
        pid, started = self._forked
        return pid if start_time(pid) == started else None


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
    if km.server is not None:       # the forked child: its pid namespace dies with it
        pid = km.kernel_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    if km.cgroup is not None:
        km.cgroup.kill_all()
        km.cgroup.remove()
    if km.mark:
        sweep(km.mark)


def seal_ipc_dir(km: GradingKernelManager) -> str:
    """Once the sandboxed kernel has made its sockets, take its IPC folder from it, so that the
    sandbox's only writable host folder gets no files past the scratch quota; returns why that
    failed ("" when sealed, or when there is nothing to seal).

    A root grader gives the folder to the host's nobody (65534), mode 0555, which the kernel (the
    grader's own uid on the host, without capabilities) can no longer write to. A pre-warmed
    kernel's folder is also remounted read-only in the kernel's own mount namespace (by its
    supervisor, asked through the relay), for a non-root grader too; a fresh kernel's, where the
    grader is not root, by the grader itself (``seal_in_sandbox``; where that fails the folder
    stays writable, said once on stderr, never a reason to stop)."""
    if not (km.ipc_dir and km.sandboxed):
        return ""
    root = os.geteuid() == 0
    if root:
        try:
            os.chown(km.ipc_dir, SANDBOX_UID, SANDBOX_UID)
            os.chmod(km.ipc_dir, 0o555)
        except OSError:
            pass
    if km.server is None:
        why = "" if root else seal_in_sandbox(km)
        if why and not _warned.get("seal"):
            _warned["seal"] = True
            print(f"course: a fresh kernel's IPC folder stays writable for its code ({why}); "
                  "pre-warmed kernels (kernel_mode) or a root grader seal it", file=sys.stderr)
        return ""
    answer = Path(km.pidfile).with_name("sealed")
    try:
        os.kill(km.process.pid, signal.SIGUSR1)
    except (OSError, AttributeError) as e:
        return f"the kernel's relay could not be reached ({e})"
    deadline = time.monotonic() + 30
    pause = 0.0005
    while time.monotonic() < deadline:
        said = answer.read_text() if answer.is_file() else ""
        if said.strip() == "sealed":
            return ""
        if said:
            return f"its IPC folder could not be sealed ({said.strip()})"
        time.sleep(pause)                      # the supervisor answers within a few ms
        pause = min(0.01, pause * 2)
    return "its IPC folder was not sealed within 30 s"


_warned: dict = {}

#: Run by ``seal_in_sandbox`` as ``python -I -S -c SEAL_CODE PID FOLDER``: enters the mount
#: namespace of process PID, through the user namespace that owns it (NS_GET_USERNS), and
#: remounts FOLDER there read-only. Linux lets a namespace's owner (the grader's uid, which made
#: the sandbox's user namespace with bwrap) do this without any privilege on the host.
SEAL_CODE = """
import ctypes, fcntl, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pid, folder = int(sys.argv[1]), sys.argv[2].encode()
mnt = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY)
user = fcntl.ioctl(mnt, 0xb701)                      # NS_GET_USERNS: the mount namespace's owner
for fd, flag, what in ((user, 0x10000000, "setns user"), (mnt, 0x00020000, "setns mnt")):
    if libc.setns(fd, flag) != 0:
        sys.exit(f"{what}: {os.strerror(ctypes.get_errno())}")
# MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
if libc.mount(None, folder, None, ctypes.c_ulong(32 | 4096 | 1 | 2 | 4), None) != 0:
    sys.exit(f"remount: {os.strerror(ctypes.get_errno())}")
"""


def seal_in_sandbox(km: GradingKernelManager) -> str:
    """Remount a fresh sandboxed kernel's IPC folder read-only in the sandbox's own mount
    namespace (a non-root grader cannot give the folder away, and the kernel, the folder's owner
    on the host, could undo a chmod); "" when done, else why not."""
    from .processes import tree_pids

    root, inside = km.kernel_pid(), []
    try:
        own = os.readlink("/proc/self/ns/mnt")
    except OSError as e:
        return f"the grader's mount namespace could not be read: {e}"
    for pid in tree_pids(root) if root else []:
        try:
            if os.readlink(f"/proc/{pid}/ns/mnt") != own:
                inside.append(pid)
        except OSError:                        # gone meanwhile
            continue
    if not inside:
        return "no process of the sandbox was found"
    try:
        done = subprocess.run([venv_python(), "-I", "-S", "-c", SEAL_CODE, str(inside[0]), str(km.ipc_dir)],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return str(e)
    return "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["failed"])[-1]


def remove_ipc_dir(km: GradingKernelManager) -> None:
    """Remove the kernel's IPC folder (after ``stop_kernel`` and the manager's own cleanup)."""
    if km.server is not None:
        km.server.remove_box(km.box)
    elif km.ipc_dir:
        shutil.rmtree(km.ipc_dir, ignore_errors=True)


class KernelConsole:
    """The kernel process's own stdout and stderr: not the notebook's outputs (ipykernel sends
    those as messages) but what reaches the file descriptors themselves: ``os.write(1, ...)``,
    a subprocess's output, C libraries' warnings, the wrapper's and relay's errors. They go to
    a pipe whose reader, a thread of the grader, keeps only the last ``keep`` bytes: no
    submission can flood the grader's console or a CI log (they used to be the grader's own),
    nor block on a full pipe; ``tail()`` explains a kernel that could not start.

    ``fd`` is given to the kernel's launch as its stdout and stderr; ``launched()`` then closes
    the grader's copy, so that the reader ends when the kernel and every process that
    inherited it have ended."""

    def __init__(self, keep: int = 4096):
        import threading

        self.keep = keep
        self.total = 0
        self._tail = bytearray()
        read_fd, self.fd = os.pipe()
        self._reader = threading.Thread(target=self._read, args=(read_fd,), daemon=True,
                                        name="kernel-console")
        self._reader.start()

    def _read(self, read_fd: int) -> None:
        try:
            while True:
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    return
                self.total += len(chunk)
                self._tail += chunk
                del self._tail[:-self.keep]
        except OSError:
            pass
        finally:
            os.close(read_fd)

    def launched(self) -> None:
        """Close the grader's copy of the writing end (the kernel has its own); never raises."""
        fd, self.fd = self.fd, -1
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass

    def tail(self, lines: int = 3, wait: float = 0.0) -> str:
        """The last ``lines`` lines written that say something (not blank, not a traceback's
        ``^^^^`` markers), after waiting up to ``wait`` seconds for the writers to end, on one
        line, joined by " | "."""
        if wait:
            self._reader.join(wait)
        text = bytes(self._tail).decode("utf-8", "replace")
        said = [line.strip() for line in text.splitlines() if line.strip(" \t^~")]
        return " | ".join(said[-lines:])


def kernel_manager(settings: Settings, workdir: Path, hidden: tuple = ()) -> GradingKernelManager:
    """A manager for one grading kernel working in ``workdir``; ``hidden``: folders the
    sandbox never shows besides the course root (see ``bwrap.bwrap_args``).

    The kernel talks to the grader over Unix sockets in a fresh IPC folder of its own
    (``km.ipc_dir``, in the system's temporary folder, outside ``workdir``: the sandbox's working
    folder is a tmpfs); ``remove_ipc_dir`` removes it. Raises CourseError when grading must not
    run (``bwrap.decide``).
    """
    workdir = Path(workdir).resolve()
    sandboxed = use_sandbox(settings)
    server = zygote.server_for(settings, hidden)[0] if sandboxed else None
    cgroup = KernelCgroup.create(settings)
    procs = os.pathsep.join(cgroup.procs_files()) if cgroup else ""
    if server is not None:
        box, ipc_dir = server.new_box(workdir)
    else:
        box = ""
        # Unix sockets in a private folder (mode 0700), sandboxed or not: no TCP port on loopback
        # for other local users to try, and no "Kernel is running over TCP without encryption"
        ipc_dir = Path(tempfile.mkdtemp(prefix="course-kernel-ipc-")).resolve()
    km = GradingKernelManager(kernel_name="python3", transport="ipc", ip=str(ipc_dir / "kernel"))
    if server is not None:
        km.server, km.box = server, box
        km.pidfile = str(server.spool / box / "pid")
        km.wrapper = server.relay_command(settings, box, procs, Path(km.pidfile))
    else:
        limits = [venv_python(), "-c", LIMITS_CODE, str(settings.memory_limit_mb),
                  str(settings.max_processes), procs]
        km.wrapper = limits + (bwrap_args(settings, workdir, hidden, ipc_dir=ipc_dir) if sandboxed else [])
    km.ipc_dir = str(ipc_dir)
    km.connection_file = str(ipc_dir / "connection.json")
    km.sandboxed = sandboxed
    km.cgroup = cgroup
    km.mark = f"{os.getpid()}-{uuid.uuid4().hex}"
    return km


def start_time(pid: int) -> str:
    """A process's start time (field 22 of /proc/PID/stat), to tell it from a later one with the
    same pid ("" when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""
