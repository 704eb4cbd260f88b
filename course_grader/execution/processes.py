"""Finding and killing the processes of one kernel run (by the mark in their environment)."""
from __future__ import annotations

import os
import signal
import time

from .environment import KERNEL_MARK


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
    """SIGKILL every pid ``list_pids()`` returns, again and again, until it returns none.

    Between rounds it waits 1 ms, then twice as long each round up to ``pause``: a killed
    kernel is usually gone within a few milliseconds (a fixed pause cost every grading 20-40 ms),
    while a process that keeps forking still gets about ``rounds * pause`` seconds."""
    for round_ in range(rounds):
        pids = list_pids()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(min(pause, 0.001 * 2 ** min(round_, 20)))


def _stat(pid: str):
    """(ppid, state, CPU seconds of the process and of its children it has waited for) from
    /proc/<pid>/stat, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()     # after "pid (comm) ": comm may hold anything
    try:
        state, ppid = fields[0], int(fields[1])
        ticks = sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    except (IndexError, ValueError):
        return None
    return ppid, state, ticks / _CLOCK_TICKS


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _tree(root: int) -> dict:
    """{pid: (ppid, state, CPU seconds)} of process ``root`` and all its descendants."""
    if _CHILDREN_FILES:
        return _tree_by_children(root)
    return _tree_by_scan(root)


#: whether this kernel lists each thread's children in /proc/<pid>/task/<tid>/children
#: (CONFIG_PROC_CHILDREN: Debian's, Ubuntu's and most distributions' kernels)
_CHILDREN_FILES = os.path.exists(f"/proc/self/task/{os.getpid()}/children")


def _tree_by_children(root: int) -> dict:
    """``_tree`` read from the children files of ``root``'s threads and of their children, down:
    only the tree's own files (a cell's start read every process of the machine, 2 ms with 90
    processes, more on a busy runner). The same processes as ``_tree_by_scan``: a process's
    children are those of its threads."""
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        found = None if pid in tree else _stat(str(pid))
        if found is None:                              # seen already, or gone
            continue
        tree[pid] = found
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in threads:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    todo += [int(child) for child in f.read().split()]
            except (OSError, ValueError):
                pass
    return tree


def _tree_by_scan(root: int) -> dict:
    """``_tree`` from every process's /proc/<pid>/stat (where there are no children files)."""
    table = {}
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else []:
        if entry.name.isdigit():
            found = _stat(entry.name)
            if found is not None:
                table[int(entry.name)] = found
    children: dict = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = {}, [root] if root in table else []
    while todo:
        pid = todo.pop()
        tree[pid] = table[pid]
        todo += children.get(pid, [])
    return tree


def tree_pids(root: int) -> list[int]:
    """Process ``root`` and all its descendants (none when it is gone)."""
    return list(_tree(root))


#: a thread in these states works: running or waiting for a CPU (R), or for the disk (D: a page
#: read back in on a loaded machine)
_WORKING = ("R", "D")


def _a_thread_works(pid: int) -> bool:
    """Whether any thread of process ``pid`` is in a ``_WORKING`` state. /proc/<pid>/stat gives
    the main thread's only, which waits (S) while another thread of the process holds the GIL."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for tid in threads:
        found = _stat(f"{pid}/task/{tid}")
        if found is not None and found[1] in _WORKING:
            return True
    return False


def tree_usage(root: int) -> tuple[float, bool]:
    """``(cpu, runnable)`` of process ``root`` and all its descendants: the CPU seconds they have
    used (with those of descendants already waited for), and whether a thread of any of them is
    running, waiting for a CPU or for the disk (``_WORKING``). A process whose threads all sleep,
    wait for input or are stopped is not runnable: it is not slowed by the machine's load."""
    tree = _tree(root)
    return _cpu(tree), any(state in _WORKING or _a_thread_works(pid) for pid, (_, state, _) in tree.items())


def tree_cpu(root: int) -> float:
    """The CPU seconds of ``tree_usage`` alone, without looking at each process's threads (what
    a cell's start needs)."""
    return _cpu(_tree(root))


def _cpu(tree: dict) -> float:
    return sum(seconds for _, _, seconds in tree.values())
