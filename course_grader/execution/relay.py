"""The kernel command of a pre-warmed grading kernel: run on the host, outside the sandbox, as
``python -c <this file's text> SOCKET BOX SCRATCH_MB MEM_MB NPROC CGROUP_PROCS PIDFILE -- CMD...``
(jupyter_client launches it where it would launch ipykernel; ``zygote.py`` builds the command;
this file is never imported).

It hands CMD, its environment, its working folder and its stdio to the fork server listening on
SOCKET (``zygote_server.py``), learns the forked child's pid from the socket's credentials (the
kernel translates it into the host's pid namespace), puts that child in the kernel's cgroups and
sets its rlimits (as ``limits.py`` does for a fresh kernel) before it runs anything, writes the
pid to PIDFILE (for the grader's CPU-time limits and clean-up), then waits and exits with the
kernel's status (128 + N when signal N killed it, as bwrap does). If the grader dies, so does the
relay (PR_SET_PDEATHSIG), and the child kills its kernel when the relay's connection closes.
SIGUSR1 (``launch.seal_ipc_dir``) asks the child to seal the kernel's IPC folder; the answer is
written to a file ``sealed`` next to PIDFILE.
"""
import array, ctypes, json, os, resource, signal, socket, struct, sys

sock_path, box, scratch_mb, mem_mb, nproc, cgroups, pidfile = sys.argv[1:8]
if sys.argv[8] != "--":
    sys.exit("relay: usage: SOCKET BOX SCRATCH_MB MEM_MB NPROC CGROUP_PROCS PIDFILE -- CMD...")
command = sys.argv[9:]
ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)         # PR_SET_PDEATHSIG
signal.signal(signal.SIGUSR1, lambda *_: server.sendall(b"seal\n"))   # from launch.seal_ipc_dir
if os.getppid() == 1:
    sys.exit("relay: the grader is gone")
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
try:
    server.connect(sock_path)
except OSError as e:
    sys.exit(f"relay: the fork server cannot be reached at {sock_path}: {e}")
request = json.dumps({"argv": command, "env": dict(os.environ), "cwd": os.getcwd(), "box": box,
                      "scratch_mb": int(scratch_mb)}).encode()
server.sendmsg([struct.pack("!I", len(request)) + request],
               [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [0, 1, 2]))])


def line():
    data, pid = b"", None
    while not data.endswith(b"\n"):
        chunk, ancillary, _, _ = server.recvmsg(1, socket.CMSG_SPACE(12))
        if not chunk:
            return "", pid
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", payload[:12])[0]
        data += chunk
    return data.decode(errors="replace").strip(), pid


said, pid = line()
if said != "pid" or not pid:
    sys.exit(f"relay: the fork server did not start a kernel: {said or 'no answer'}")
pids_capped = False
for procs in filter(None, cgroups.split(os.pathsep)):
    if not (procs.startswith("/sys/fs/cgroup/") and procs.endswith("/cgroup.procs")):
        sys.exit(f"relay: {procs!r} is not a cgroup")
    try:
        with open(procs, "w") as f:
            f.write(str(pid))
        pids_capped = pids_capped or os.path.isfile(os.path.join(os.path.dirname(procs), "pids.max"))
    except OSError as e:
        print(f"relay: cannot put the kernel in the cgroup {procs}: {e}", file=sys.stderr)


def cap(kind, value):
    try:
        soft, hard = resource.prlimit(pid, kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.prlimit(pid, kind, (value, value))
    except (ValueError, OSError) as e:
        print(f"relay: cannot limit the kernel ({kind}): {e}", file=sys.stderr)


if int(mem_mb) > 0:
    cap(resource.RLIMIT_AS, int(mem_mb) * 1024 * 1024)
if int(nproc) > 0 and not pids_capped:
    cap(resource.RLIMIT_NPROC, int(nproc))
cap(resource.RLIMIT_CORE, 0)
cap(resource.RLIMIT_FSIZE, 1 << 30)
with open(pidfile, "w") as f:
    f.write(str(pid))
server.sendall(b"go\n")
said, _ = line()
while said.startswith(("sealed", "unsealed")):
    with open(os.path.join(os.path.dirname(pidfile), "sealed"), "w") as f:
        f.write(said)
    said, _ = line()
if said.startswith("exit "):
    sys.exit(int(said.split()[1]))
sys.exit(f"relay: the kernel's supervisor ended without a status: {said or 'no answer'}")
