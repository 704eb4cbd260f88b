"""The fork server of pre-warmed grading kernels (a "zygote", as Android's and Chromium's).

Run inside the bubblewrap sandbox (``bwrap.bwrap_args``, plus CAP_SYS_ADMIN inside the sandbox's
own user namespace) as ``python -c <this file's text> SOCKET SCRATCH_MB``; never imported by the
grader (``zygote.py`` starts it and ``relay.py`` talks to it).

Once: import what every notebook imports (torch, numpy, matplotlib with Agg, IPython, ipykernel,
course_utils), check that the process has one thread and has not touched CUDA, then listen on
SOCKET. Per request (one grading kernel, sent by its relay with the kernel's argv, environment and
stdio), fork a child that:

1. tells the relay its pid (the relay reads it, as the host sees it, from the socket's
   credentials), and waits while the relay puts it in the kernel's cgroup and sets its rlimits;
2. unshares mount, pid, network, IPC and UTS namespaces;
3. builds its filesystem view: fresh tmpfs ``/tmp`` and ``/dev/shm`` of SCRATCH_MB each (the
   sandbox's read-only binds that lived there, a virtual environment under /tmp, bound again), a tmpfs
   over the whole spool folder (the server's socket and every other kernel's folder vanish), in
   it a fresh tmpfs working folder with the submission's files bound read-only, and the kernel's
   IPC folder (the only host folder it can write to);
4. forks pid 1 of the new pid namespace (a reaper, killed when the child dies: then every
   process the student's code started dies too), which forks the kernel. ``/proc`` stays the
   server's (a new one cannot be mounted under bwrap's covered /proc): the kernel sees the
   server's pid numbers there, but cannot signal any process outside its own namespace (it has
   no pid for them; pidfd_send_signal refuses across namespaces) nor read their memory or
   environment (they hold capabilities it has not: ptrace access is refused);
5. the kernel: a new session, the relay's stdio, no other file descriptor, the kernel's own
   environment and working folder, every capability dropped (effective, permitted, inheritable,
   ambient), no_new_privs set, not dumpable (no other kernel can trace it or read its /proc
   files), then ipykernel.

The child stays behind as the kernel's supervisor: when the relay's connection closes (the
grader stopped the kernel, or died) it kills the reaper; when the relay says "seal" (the kernel
has made its sockets) it remounts the kernel's IPC folder read-only in the kernel's mount
namespace, so that the one host folder the kernel could write to takes no files, for a root and
a non-root grader alike; and when the reaper ends it tells the relay the kernel's exit status.
The server holds no state of any kernel: each kernel is a fresh fork of the same pre-warmed
process.
"""
import ctypes
import json
import os
import re
import select
import signal
import socket
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV = 1, 2, 4
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522

#: what a notebook imports, imported once here (those that are missing are skipped);
#: torch._dynamo: the first torch dispatch mode (the op checks: ``aten_ops_used``, ``ops_seen``)
#: imports it, about 1 s; ipykernel.debugger (debugpy), sqlite3 (IPython's history), pdb,
#: tornado's queues and asyncio platform, IPython's completer, debugger, inspector and storemagic:
#: what IPKernelApp.initialize imports, about 50 ms of every kernel's start; psutil: what
#: jupyter_client imports to list the network interfaces (6 ms of a kernel's start)
PRELOAD = ("numpy", "torch", "torch.nn", "torch.nn.functional", "torch.utils.data", "torch._dynamo",
           "torchvision", "torchvision.transforms", "torchvision.datasets", "matplotlib",
           "matplotlib.pyplot", "IPython", "ipykernel.kernelapp", "ipykernel.ipkernel",
           "ipykernel.debugger", "sqlite3", "pdb", "tornado.queues", "tornado.platform.asyncio",
           "IPython.core.completerlib", "IPython.core.debugger", "IPython.core.oinspect",
           "IPython.extensions.storemagic", "IPython.utils.wildcard", "faulthandler",
           "course_utils", "course_utils.data", "course_utils.plots", "course_utils.seed",
           "course_utils.train", "course_utils.checks", "course_utils.device", "torchinfo", "tqdm",
           "tqdm.auto", "PIL.Image", "psutil")


def check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source, target, fstype=None, flags=0, data=None):
    enc = (lambda s: s.encode() if isinstance(s, str) else s)
    check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
          f"mount {target}")


def bind(source, target, read_only=False):
    mount(source, target, None, MS_BIND | MS_REC)
    if read_only:
        mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def tmpfs(target, size_mb, mode="0755"):
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(size_mb)}m,mode={mode}")


def prctl(option, arg2=0):
    check(libc.prctl(option, ctypes.c_ulong(arg2), 0, 0, 0), f"prctl {option}")


def drop_capabilities():
    """Empty the effective, permitted, inheritable and ambient sets; set no_new_privs."""
    header = struct.pack("Ii", LINUX_CAPABILITY_VERSION_3, 0)
    data = bytes(24)                                 # two zeroed __user_cap_data_struct
    check(libc.capset(ctypes.c_char_p(header), ctypes.c_char_p(data)), "capset")
    check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "ambient")
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    status = open("/proc/self/status").read()
    for field in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
        if int(status.split(field + ":")[1].split()[0], 16):
            raise OSError(f"{field} is not empty after dropping capabilities")


def preload():
    """Import PRELOAD with the cyclic collector off (importing torch and its peers builds
    millions of objects: the collections it would trigger cost about a quarter of the imports),
    then freeze what is left (``freeze``). The server keeps the collector off; each kernel turns
    it on again (``run_kernel``)."""
    import gc
    import importlib
    gc.disable()
    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    try:
        import matplotlib.font_manager       # the font cache, built once
        matplotlib.font_manager.fontManager.findfont("DejaVu Sans")
    except Exception:
        pass
    freeze()
    require_one_thread("preloading")
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        raise SystemExit("zygote: CUDA was initialised while preloading")


def require_one_thread(after):
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1:
        raise SystemExit(f"zygote: {threads} threads after {after} (forking needs one)")


def freeze():
    """Move every object to the collector's permanent generation (Python's advice for a process
    that forks without exec: collector off from the start, ``gc.freeze()`` before forking): a
    kernel's collections never walk the hundreds of thousands of preloaded objects (a full
    collection after the figure drawn once made the notebooks' figures render 2x slower), nor
    write to their pages (copy on write). No collection first: it took 0.2 s of the server's
    start, and what it would free (the imports' reference cycles) is about 12 MB of the server's
    790 MB, shared by every kernel."""
    import gc
    gc.freeze()


def draw_once():
    """Render one small figure as the notebooks' figures are rendered (a log axis with math
    tick labels, an image, a legend, a title), outside pyplot (no figure is left open): the
    first rendering in a process loads the fonts' glyphs and builds the math text parser, about
    0.3 s that every kernel would pay again for its first figure. Run once the server is idle
    after its first kernel (``serve``)."""
    import io
    from matplotlib.figure import Figure
    figure = Figure(figsize=(3, 2))
    left, right = figure.subplots(1, 2)
    left.semilogy([1, 2, 3], [0.001, 0.1, 10], label="line")
    left.legend()
    left.set_title(r"$\alpha^2$ 0123456789")
    right.imshow([[0.0, 1.0], [1.0, 0.0]], cmap="gray")
    figure.colorbar(right.images[0], ax=right)
    figure.savefig(io.BytesIO(), format="png", dpi=60)
    # the fonts it opened hold file descriptors, which the kernel closes (os.closerange): a font
    # object kept across the fork would read from a closed, or reused, descriptor
    from matplotlib import font_manager
    font_manager._get_font.cache_clear()
    del figure, left, right
    # the figure's reference cycles held the fonts too; with the server's collector off they are
    # freed only by collecting, which walks just what was made since the preload's freeze
    import gc
    gc.collect()


def recv_request(conn):
    """The relay's request: a 4-byte length, JSON, and the kernel's stdio (SCM_RIGHTS)."""
    fds = []
    data = b""
    want = None
    while want is None or len(data) < want:
        chunk, ancillary, _, _ = conn.recvmsg(1 << 16, socket.CMSG_SPACE(3 * 4))
        if not chunk:
            raise EOFError("the relay went away")
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds += list(struct.unpack(f"{len(payload) // 4}i", payload[: len(payload) // 4 * 4]))
        data += chunk
        if want is None and len(data) >= 4:
            want = 4 + struct.unpack("!I", data[:4])[0]
    return json.loads(data[4:want]), fds


def read_line(conn):
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(1)
        if not chunk:
            raise EOFError("the relay went away")
        data += chunk
    return data.decode().strip()


def mount_points():
    """The mount points of this mount namespace, in order (mountinfo's octal escapes undone)."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), p) for p in points]


def kept_under(top, leave):
    """The outermost mounts below ``top`` other than ``leave`` (the sandbox's read-only binds that
    live there, such as a virtual environment under /tmp), each held by a descriptor, so that
    they can be bound again over a fresh ``top``."""
    inside = [p for p in mount_points() if p.startswith(top + "/")
              and p != leave and not p.startswith(leave + "/")]
    outermost = [p for p in inside if not any(q != p and p.startswith(q + "/") for q in inside)]
    return [(p, os.open(p, os.O_PATH)) for p in dict.fromkeys(outermost)]


def bind_again(kept):
    for path, fd in kept:
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").close()
        bind(f"/proc/self/fd/{fd}", path, read_only=True)
        os.close(fd)


def build_view(spool, box, scratch_mb):
    """Step 3 of the module's docstring; returns the kernel's working folder."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    here = os.path.join(spool, box)
    kept = kept_under("/tmp", spool) + kept_under("/dev/shm", spool)
    # held by descriptor: the spool may lie under /tmp, which the fresh /tmp covers
    given = os.open(os.path.join(here, "in"), os.O_PATH | os.O_DIRECTORY)
    sockets = os.open(os.path.join(here, "ipc"), os.O_PATH | os.O_DIRECTORY)
    names = [name for name in sorted(os.listdir(os.path.join(here, "in")))
             if os.path.isfile(os.path.join(here, "in", name))
             and not os.path.islink(os.path.join(here, "in", name))]
    tmpfs("/tmp", scratch_mb, "1777")
    tmpfs("/dev/shm", scratch_mb, "1777")
    bind_again(kept)
    os.makedirs(spool, exist_ok=True)
    tmpfs(spool, 1, "0755")                      # the server's socket and every other box go
    work, ipc = os.path.join(here, "work"), os.path.join(here, "ipc")
    os.makedirs(work)
    os.makedirs(ipc)
    tmpfs(work, scratch_mb, "0700")
    for name in names:
        open(os.path.join(work, name), "w").close()
        bind(f"/proc/self/fd/{given}/{name}", os.path.join(work, name), read_only=True)
    bind(f"/proc/self/fd/{sockets}", ipc)
    os.close(given)
    os.close(sockets)
    mount(None, spool, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    return work


def run_kernel(request, fds, work):
    """Step 5: become the kernel (never returns)."""
    code = 1
    try:
        os.setsid()
        for target, fd in zip((0, 1, 2), fds):
            os.dup2(fd, target)
        os.closerange(3, 1 << 16)
        for name in ("SIGCHLD", "SIGTERM", "SIGHUP"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        cwd = request["cwd"]
        env = {k: v.replace(cwd, work) if isinstance(v, str) and v.startswith(cwd) else v
               for k, v in request["env"].items()}
        env["JPY_PARENT_PID"] = "1"
        os.environ.clear()
        os.environ.update(env)
        os.chdir(work)
        import gc
        gc.enable()                      # off in the server (``preload``), on as in any Python
        drop_capabilities()
        # not dumpable: another kernel of this server (same uid, no capabilities) cannot trace
        # it or read its /proc files (environ, mem, root, fds); its own code still can
        prctl(PR_SET_DUMPABLE, 0)
        argv = request["argv"]
        if argv[1:3] != ["-m", "ipykernel_launcher"]:
            raise SystemExit(f"zygote: not an ipykernel command: {argv!r}")
        sys.argv = ["ipykernel_launcher"] + list(argv[3:])
        from ipykernel.kernelapp import launch_new_instance
        launch_new_instance()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if not isinstance(e.code, int) and e.code is not None:
            print(e.code, file=sys.stderr)
    except BaseException:
        import traceback
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        os._exit(code)


def status_code(status):
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def reaper(request, fds, work):
    """Step 4: pid 1 of the kernel's pid namespace (never returns)."""
    code = 1
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        libc.sethostname(b"grading", 7)
        kernel = os.fork()
        if kernel == 0:
            run_kernel(request, fds, work)
        for fd in fds:
            os.close(fd)
        while True:
            pid, status = os.waitpid(-1, 0)
            if pid == kernel:
                code = status_code(status)
                break
    except BaseException:
        import traceback
        traceback.print_exc()
    os._exit(code)


def child(conn, spool):
    """One kernel (steps 1-4, then supervise); never returns."""
    reaper_pid = None
    try:
        request, fds = recv_request(conn)
        conn.sendall(b"pid\n")
        if read_line(conn) != "go":
            raise EOFError("the relay did not say go")
        box = os.path.basename(request["box"])
        check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS),
              "unshare")
        work = build_view(spool, box, int(request["scratch_mb"]))
        reaper_pid = os.fork()
        if reaper_pid == 0:
            conn.detach()
            reaper(request, fds, work)
        for fd in fds:
            os.close(fd)
        ipc = os.path.join(spool, box, "ipc")
        while True:                              # supervise
            readable, _, _ = select.select([conn], [], [], 0.2)
            said = conn.recv(64) if readable else b"-"
            if not said:                         # the relay went: so does the kernel
                os.kill(reaper_pid, signal.SIGKILL)
            elif b"seal" in said:                # the kernel's sockets exist: its IPC folder
                try:                             # becomes read-only in its mount namespace
                    mount(None, ipc, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
                    conn.sendall(b"sealed\n")
                except OSError as e:
                    conn.sendall(f"unsealed {e}\n".encode())
            pid, status = os.waitpid(reaper_pid, os.WNOHANG)
            if pid:
                try:
                    conn.sendall(f"exit {status_code(status)}\n".encode())
                except OSError:
                    pass
                os._exit(0)
    except BaseException as e:
        try:
            conn.sendall(f"failed {type(e).__name__}: {e}\n".replace("\n", " ").encode() + b"\n")
        except Exception:
            pass
        if reaper_pid:
            try:
                os.kill(reaper_pid, signal.SIGKILL)
            except OSError:
                pass
        os._exit(1)


def serve(path):
    spool = os.path.dirname(os.path.dirname(path))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    print(f"ZYGOTE READY threads=1 python={sys.version.split()[0]}", flush=True)
    os.dup2(2, 1)                  # nothing more for the grader's pipe: the rest goes to the log
    # drawing once, which only later kernels need, waits until the first kernel has been forked
    # and no request is pending (the first kernel does not wait for it)
    drawn, served = False, 0
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        idle = 0.05 if served and not drawn else 1.0
        readable, _, _ = select.select([listener, sys.stdin], [], [], idle)
        if sys.stdin in readable and not os.read(sys.stdin.fileno(), 1):
            return                               # the grader went away
        if listener in readable:
            conn, _ = listener.accept()
            if os.fork() == 0:
                listener.close()
                child(conn, spool)
            conn.close()
            served += 1
        elif served and not drawn:
            drawn = True
            try:
                draw_once()
                freeze()
                print("zygote: draw_once done", flush=True)
            except Exception as e:
                print(f"zygote: draw_once failed: {type(e).__name__}: {e}", flush=True)
            require_one_thread("draw_once")


if __name__ == "__main__":
    preload()
    serve(sys.argv[1])
