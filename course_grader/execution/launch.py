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
import signal
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from ..config import Settings
from .bwrap import bwrap_args, use_sandbox
from .cgroups import KernelCgroup
from .environment import venv_python
from .processes import sweep

#: The script that sets the limits and execs the kernel (run with ``python -c``).
LIMITS_CODE = (Path(__file__).with_name("limits.py")).read_text(encoding="utf-8")


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


def kernel_manager(settings: Settings, workdir: Path, hidden: tuple = ()) -> GradingKernelManager:
    """A manager for one grading kernel working in ``workdir``; ``hidden``: folders the
    sandbox shows as empty besides the course root (see ``bwrap.bwrap_args``)."""
    workdir = Path(workdir).resolve()
    cgroup = KernelCgroup.create(settings)
    limits = [venv_python(), "-c", LIMITS_CODE, str(settings.memory_limit_mb), str(settings.max_processes),
              os.pathsep.join(cgroup.procs_files()) if cgroup else ""]
    if use_sandbox(settings):
        km = GradingKernelManager(kernel_name="python3", transport="ipc",
                                  ip=str(workdir / ".kernel"))
        km.wrapper = limits + bwrap_args(settings, workdir, hidden)
    else:
        km = GradingKernelManager(kernel_name="python3")
        km.wrapper = limits
    km.cgroup = cgroup
    km.mark = f"{os.getpid()}-{uuid.uuid4().hex}"
    km.connection_file = str(workdir / ".kernel-connection.json")
    return km
