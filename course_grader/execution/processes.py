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
