"""Run as ``python -c <this file's text> MEM_MB NPROC CGROUP_PROCS CMD...`` before a grading kernel
starts (outside any sandbox): join the kernel's cgroups, set its rlimits, then exec ``CMD``.
``launch.kernel_manager`` builds that command; this file is never imported."""
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
