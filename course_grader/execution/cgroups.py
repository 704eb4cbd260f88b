"""Cgroups that hold one grading kernel and everything it starts (where the machine offers them).

Where the grader can create cgroups (root with cgroup v1's ``pids``/``memory`` hierarchies
writable, or a delegated cgroup v2), each kernel runs in a cgroup of its own: at most
``max_processes`` tasks (a fork bomb gets ``BlockingIOError``) and ``memory_limit_mb`` of memory
for the kernel and everything it starts together; when grading ends, every process in it is
killed and the cgroup removed. Elsewhere ``limits.py`` falls back to ``RLIMIT_NPROC``.
"""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from ..config import Settings
from .processes import kill_until_gone


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
