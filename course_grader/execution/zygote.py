"""Pre-warmed grading kernels: one fork server per grading process, inside the sandbox (issue 16).

A fresh kernel spends about 4 s importing torch, torchvision, matplotlib and ipykernel before the
student's first line runs. The fork server (``zygote_server.py``) imports them once; each grading
kernel is then a fork of it, confined as tightly as a fresh sandboxed kernel:

- the server runs in the same bubblewrap sandbox as a fresh kernel (``bwrap.bwrap_args``: the same
  minimal filesystem view, environment allowlist, no network, no host sockets, a new user
  namespace with uid 65534), plus CAP_SYS_ADMIN *inside that user namespace only*, which it needs
  to give each child namespaces of its own (bubblewrap maps it to the grader's own uid on the host,
  as a fresh kernel);
- each child gets new mount, pid, network, IPC and UTS namespaces, fresh tmpfs scratch folders of
  ``scratch_limit_mb`` (working folder, /tmp, /dev/shm), the submission's files read-only, its
  own IPC folder, a /proc of its own pid namespace, no capabilities and no_new_privs; it cannot see,
  signal or reach the server or any other kernel;
- the relay (``relay.py``, the kernel command jupyter_client starts on the host) puts the child in
  the kernel's cgroup and sets its rlimits before any of its code runs, and ties the kernel's life
  to its own: when the grader stops the kernel or dies, the relay goes, and the kernel's whole pid
  namespace with it (``launch.stop_kernel`` also kills the child by pid, and the cgroup).

``kernel_mode`` (``c.Course.kernel_mode``): "auto" (pre-warmed where the sandbox runs and the
server starts; else a fresh kernel per notebook, said once with why), "prewarmed" (refuse to
grade otherwise) or "fresh". A server that dies is started again for the next kernel.
"""
from __future__ import annotations

import atexit
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from ..config import CourseError, Settings
from .bwrap import _supports as supports, bwrap_args, bwrap_path, decide
from .environment import data_dir, kernel_env, venv_python

SERVER_CODE = Path(__file__).with_name("zygote_server.py").read_text(encoding="utf-8")
RELAY_CODE = Path(__file__).with_name("relay.py").read_text(encoding="utf-8")
MODES = ("auto", "prewarmed", "fresh")


class ForkServer:
    """One running fork server and its spool folder (socket, log, one box per kernel)."""

    def __init__(self, settings: Settings, hidden: tuple):
        self.settings, self.hidden = settings, tuple(hidden)
        self.spool = Path(tempfile.mkdtemp(prefix="course-zygote-")).resolve()
        os.chmod(self.spool, 0o755)
        self.socket = self.spool / "server" / "zygote.sock"
        self.log = self.spool / "zygote.log"
        self.process: subprocess.Popen | None = None
        self.ready = False
        self.why = ""

    def start(self) -> None:
        """Start the server (returns at once; ``wait`` for it)."""
        (self.spool / "server").mkdir(mode=0o700)
        home = self.spool / "home"
        home.mkdir()
        # --as-pid-1: the server is pid 1 of its namespace, so that no process there lacks the
        # capabilities that keep a kernel from tracing it (bwrap's own pid 1 would)
        cmd = (bwrap_args(self.settings, home, self.hidden, ipc_dir=self.spool)
               + ["--as-pid-1", "--cap-add", "CAP_SYS_ADMIN", venv_python(), "-c", SERVER_CODE,
                  str(self.socket)])
        env = kernel_env(self.settings, home)
        env["PYTHONPATH"] = "/course"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=log, env=env, cwd="/", start_new_session=True)

    def wait(self, timeout: float) -> bool:
        """Wait until the server says it is ready; False (and ``why``) when it does not."""
        if self.ready or self.why:
            return self.ready
        deadline = time.monotonic() + timeout
        out = self.process.stdout
        line = b""
        while time.monotonic() < deadline:
            readable, _, _ = select.select([out], [], [], max(0.0, deadline - time.monotonic()))
            if not readable:
                break
            chunk = os.read(out.fileno(), 256)
            if not chunk:
                break
            line += chunk
            if b"\n" in line:
                break
        if line.startswith(b"ZYGOTE READY"):
            self.ready = True
            return True
        said = self.log.read_text(errors="replace").strip().splitlines() if self.log.exists() else []
        self.close()
        self.why = ("the fork server did not start: "
                    + (said[-1] if said else line.decode(errors="replace").strip() or f"no answer within {timeout:g} s"))
        return False

    def alive(self) -> bool:
        return self.ready and self.process is not None and self.process.poll() is None

    def new_box(self, workdir: Path) -> tuple[str, Path]:
        """A folder for one kernel: ``in/`` (copies of the regular files in ``workdir``) and
        ``ipc/`` (its connection file and sockets). Returns the box's name and its IPC folder."""
        name = uuid.uuid4().hex
        box = self.spool / name
        (box / "in").mkdir(parents=True)
        os.chmod(box, 0o755)
        os.chmod(box / "in", 0o755)
        for item in sorted(Path(workdir).iterdir()) if Path(workdir).is_dir() else []:
            if item.is_file() and not item.is_symlink():
                shutil.copyfile(item, box / "in" / item.name)
                os.chmod(box / "in" / item.name, 0o644)
        ipc = box / "ipc"
        ipc.mkdir(mode=0o700)
        return name, ipc

    def relay_command(self, s: Settings, box: str, cgroup_procs: str, pidfile: Path) -> list[str]:
        """The kernel command of a kernel graded with settings ``s`` (its limits)."""
        # -I -S: the relay needs the standard library only (10 ms less than with site-packages)
        return [venv_python(), "-I", "-S", "-c", RELAY_CODE, str(self.socket), box, str(max(1, int(s.scratch_limit_mb))),
                str(s.memory_limit_mb), str(s.max_processes), cgroup_procs, str(pidfile), "--"]

    def remove_box(self, box: str) -> None:
        if box:
            shutil.rmtree(self.spool / os.path.basename(box), ignore_errors=True)

    def close(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                process.kill()
                process.wait(timeout=10)
            except Exception:
                pass
            for pipe in (process.stdin, process.stdout):
                try:
                    pipe.close()
                except Exception:
                    pass
        self.ready = False
        shutil.rmtree(self.spool, ignore_errors=True)


_servers: dict = {}
_said: set = set()


def mode(settings: Settings) -> tuple[str, str]:
    """("prewarmed" or "fresh", why fresh), decided in the grader's process before a kernel starts
    (without starting the server: ``server_for`` may still fall back). CourseError for a bad
    setting, or for "prewarmed" where the sandbox cannot run."""
    wanted = getattr(settings, "kernel_mode", "auto")
    if wanted not in MODES:
        raise CourseError(f"c.Course.kernel_mode must be one of {', '.join(map(repr, MODES))}, not {wanted!r}")
    if wanted == "fresh":
        return "fresh", "c.Course.kernel_mode = 'fresh'"
    why = ""
    if not decide(settings).use:
        why = "pre-warmed kernels need the bubblewrap sandbox, which is not used here"
    elif not supports(bwrap_path(), "--as-pid-1"):
        why = "this bubblewrap is too old for pre-warmed kernels (no --as-pid-1)"
    if why:
        if wanted == "prewarmed":
            raise CourseError(f"c.Course.kernel_mode = 'prewarmed' but {why}")
        return "fresh", why
    return "prewarmed", ""


def for_one_kernel(settings: Settings) -> Settings:
    """``settings`` for Gradescope's autograder, which grades one notebook in a container whose
    memory the instructor sets: under ``kernel_mode = 'auto'``, a fresh kernel (about 0.56 GB;
    a fork server and its one kernel hold about 1.16 GB); a mode set by hand stays.
    ``course check`` keeps ``auto``: its fork server imports torch while the grader starts,
    and the conv_from_scratch reference is checked end to end in 3.0 s instead of 4.4 s fresh
    (2026-12-05, ``benchmarks/kernel_modes.py``)."""
    if getattr(settings, "kernel_mode", "auto") == "auto":
        return replace(settings, kernel_mode="fresh")
    return settings


def warm(settings: Settings, hidden: tuple = ()) -> None:
    """Start this process's fork server now, if kernels will be pre-warmed (it imports torch while
    the grader prepares the submission); never raises."""
    try:
        if mode(settings)[0] == "prewarmed":
            _server(settings, hidden, wait=False)
    except Exception:
        pass


#: fork servers one grading process keeps at most (each holds about 0.3-0.7 GB; the least
#: recently used goes first)
MAX_SERVERS = 2


def _key(settings: Settings, hidden: tuple) -> tuple:
    """What a server's sandbox and its start-time environment depend on (the rest of the
    settings reach each kernel through the relay); the process last (a worker's own)."""
    data = data_dir()
    return (settings.root, tuple(hidden), settings.seed, settings.torch_threads,
            settings.scratch_limit_mb, str(data) if data else "", os.getpid())


def _server(settings: Settings, hidden: tuple, wait: bool = True) -> ForkServer:
    key = _key(settings, hidden)
    server = _servers.pop(key, None)
    if server is not None and server.ready and not server.alive():
        server.close()                      # it died: start a new one
        server = None
    if server is None:
        mine = [k for k in _servers if k[-1] == os.getpid()]
        for old in mine[: max(0, len(mine) - MAX_SERVERS + 1)]:
            _servers.pop(old).close()
        server = ForkServer(settings, hidden)
    _servers[key] = server                  # the most recently used last
    if server.process is None and not server.why:
        try:
            server.start()
        except OSError as e:
            server.why = f"the fork server could not be started: {e}"
    if wait and not server.why:
        server.wait(settings.startup_timeout + 60)
    return server


#: this batch's kernels, as this process (and its workers, through ``absorb``) started them:
#: whether any was pre-warmed, and why any started fresh instead (in order, once each)
_batch: dict = {"prewarmed": False, "fell_back": []}


def begin() -> None:
    """A new batch: forget how the kernels of the last one started."""
    _batch.update(prewarmed=False, fell_back=[])


def state() -> dict:
    """How this process's kernels of the batch started (for a worker to send to its batch)."""
    return {"prewarmed": _batch["prewarmed"], "fell_back": list(_batch["fell_back"])}


def absorb(other: dict) -> None:
    """Add a worker's ``state()`` to this process's."""
    _batch["prewarmed"] = _batch["prewarmed"] or other["prewarmed"]
    for why in other["fell_back"]:
        if why not in _batch["fell_back"]:
            _batch["fell_back"].append(why)


def server_for(settings: Settings, hidden: tuple = ()) -> tuple["ForkServer | None", str]:
    """This process's ready fork server for kernels that must not see ``hidden``, or (None, why)
    when kernels start fresh. CourseError when ``kernel_mode = 'prewarmed'`` cannot be met."""
    chosen, why = mode(settings)
    if chosen == "fresh":
        return None, why
    server = _server(settings, hidden)
    if server.ready:
        _batch["prewarmed"] = True
        return server, ""
    if getattr(settings, "kernel_mode", "auto") == "prewarmed":
        raise CourseError(f"c.Course.kernel_mode = 'prewarmed' but {server.why}")
    if server.why not in _batch["fell_back"]:
        _batch["fell_back"].append(server.why)
    if server.why not in _said:
        _said.add(server.why)
        print(f"warning: grading kernels start fresh ({server.why})", file=sys.stderr)
    return None, server.why


def describe(settings: Settings) -> str:
    """One line for a batch's summary: how its kernels started, and why."""
    chosen, why = mode(settings)
    fell_back = _batch["fell_back"]
    if chosen == "prewarmed" and not fell_back:
        return ("kernels: pre-warmed (forked from a fork server per grading process, in the sandbox; "
                "c.Course.kernel_mode = 'fresh' starts a new kernel process for each notebook)")
    if chosen == "prewarmed" and _batch["prewarmed"]:
        return f"kernels: pre-warmed where a fork server started, fresh elsewhere ({fell_back[0]})"
    return f"kernels: fresh, one new kernel process per notebook ({fell_back[0] if fell_back else why})"


@atexit.register
def close_all() -> None:
    """Stop this process's fork servers (a forked worker leaves its parent's alone)."""
    for key, server in list(_servers.items()):
        if key[-1] == os.getpid():
            server.close()
            del _servers[key]
