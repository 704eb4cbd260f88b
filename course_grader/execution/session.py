"""Execute a notebook in a fresh kernel, cell by cell, under the grader's limits.

The runner never raises for what the notebook's code does: errors, time-outs, a dead kernel and
oversized outputs all end up in the returned ``RunResult``.
"""
from __future__ import annotations

import base64
import copy
import io
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync

from ..inside import kernel as kernel_module
from . import launch as sandbox
from ..notebook import is_test
from ..config import Settings

#: Largest amount of output text one cell keeps; the rest is dropped with a notice.
MAX_CELL_OUTPUT_BYTES = 200_000

#: The first cell of every grading run, after the kernel module is installed (GUARD_TEMPLATE):
#: the grader's seeds, thread count and plotting backend, before any student code.
PRELUDE_TEMPLATE = '''\
import os as _os
_os.environ["COURSE_GRADING"] = "1"
import random as _random
_random.seed({seed})
try:
    import numpy as _np
    _np.random.seed({seed})
except ImportError:
    pass
import torch as _torch
_torch.manual_seed({seed})
_torch.set_num_threads({threads})
try:
    _torch.set_num_interop_threads(1)
except RuntimeError:
    pass
import matplotlib as _mpl
_mpl.use("Agg")
# exit() and quit() in a cell must not end the kernel some moments later (at a random cell)
get_ipython().ask_exit = lambda: None
del _os, _random, _torch, _mpl
'''

#: Run right before every instructor test cell: a fresh ``course_grader.kernel``, so that the
#: student's code replacing ``record``, ``aten_ops_used`` or ``forbidden`` in the module has no
#: effect on the tests (a best-effort guard: see "What the grader can and cannot check" in
#: docs/authoring.md).
GUARD_TEMPLATE = '''\
def _course_guard(_src):
    import sys, types
    _pkg = types.ModuleType("course_grader")
    _pkg.__path__ = []
    _mod = types.ModuleType("course_grader.kernel")
    exec(compile(_src, "course_grader/kernel.py", "exec"), _mod.__dict__)
    _pkg.kernel = _mod
    sys.modules["course_grader"] = _pkg
    sys.modules["course_grader.kernel"] = _mod
_course_guard({kernel_source!r})
del _course_guard
'''


@dataclass
class CellResult:
    index: int                     # position in the executed notebook (prelude excluded)
    status: str = "not_run"        # ok | error | timeout | dead | not_run
    ename: str = ""
    evalue: str = ""
    records: list = field(default_factory=list)   # [(name, payload dict)]
    seconds: float = 0.0


@dataclass
class RunResult:
    notebook: nbformat.NotebookNode
    cells: dict                    # index -> CellResult (code cells only)
    fatal: str = ""                # why the run stopped early, if it did
    seconds: float = 0.0


def prelude_source(settings: Settings) -> str:
    """Installs ``course_grader.kernel`` in the kernel, then sets seeds, threads and backend."""
    return guard_source() + PRELUDE_TEMPLATE.format(seed=int(settings.seed),
                                                    threads=int(settings.torch_threads))


def guard_source() -> str:
    """Installs a fresh ``course_grader.kernel`` module in the kernel (before each test cell)."""
    source = Path(kernel_module.__file__).read_text(encoding="utf-8")
    return GUARD_TEMPLATE.format(kernel_source=source)


def kernel_env(settings: Settings, workdir: Path) -> dict:
    """The environment of a grading kernel: the grader's, minus its secrets, plus the settings."""
    keep_prefixes = ("PATH", "LANG", "LC_", "HOME", "TZ", "COURSE_DATA_DIR", "TORCH_HOME",
                     "XDG_CACHE_HOME", "CUDA_VISIBLE_DEVICES", "OPENBLAS_", "LD_LIBRARY_PATH",
                     "VIRTUAL_ENV", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k.startswith(keep_prefixes)}
    env.update({
        "COURSE_GRADING": "1",
        "COURSE_TRAIN_EPOCHS": str(settings.grading_epochs),
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": str(settings.torch_threads),
        "MKL_NUM_THREADS": str(settings.torch_threads),
        "PYTHONHASHSEED": str(settings.seed),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLCONFIGDIR": str(workdir / ".mplconfig"),
        "TQDM_MININTERVAL": "5",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
    })
    if "HOME" not in env:
        env["HOME"] = str(workdir)
    return env


def decode_record(data: str) -> dict:
    """A record payload as written by ``course_grader.kernel.record``; never unpickles code."""
    import torch

    raw = base64.b64decode(data.encode("ascii"), validate=True)
    payload = torch.load(io.BytesIO(raw), weights_only=True, map_location="cpu")
    if not isinstance(payload, dict) or "value" not in payload:
        raise ValueError("record payload is not a dict with a value")
    return payload


class _GradingClient(NotebookClient):
    """nbclient, with a cap on output size and a flag for cells that timed out."""

    timed_out = False
    _bytes_in_cell: dict

    def output(self, outs, msg, display_id, cell_index):
        budget = self._bytes_in_cell.setdefault(cell_index, 0)
        content = msg.get("content", {})
        size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in content.get("data", {}).values())
        is_record = kernel_module.RECORD_MIME in content.get("data", {})
        # an error is always kept: it is how the cell is known to have failed (_classify)
        if not is_record and msg.get("msg_type") != "error":
            if budget > MAX_CELL_OUTPUT_BYTES:
                return None
            self._bytes_in_cell[cell_index] = budget + size
            if budget + size > MAX_CELL_OUTPUT_BYTES:
                outs.append(nbformat.v4.new_output(
                    "stream", name="stderr",
                    text=f"[grader: output of this cell cut at {MAX_CELL_OUTPUT_BYTES} bytes]\n"))
                return None
        return super().output(outs, msg, display_id, cell_index)

    async def _async_handle_timeout(self, timeout, cell=None):
        self.timed_out = True
        return await super()._async_handle_timeout(timeout, cell)


def run_notebook(nb: nbformat.NotebookNode, workdir: Path, settings: Settings,
                 progress=None) -> RunResult:
    """Execute ``nb`` (a copy is made) in a new kernel whose working folder is ``workdir``.

    progress: optional callable(str) told which cell runs.
    Returns the executed notebook (record outputs removed) and a CellResult per code cell.
    """
    nb = copy.deepcopy(nb)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    prelude = nbformat.v4.new_code_cell(prelude_source(settings))
    cells = nb.cells
    nb.cells = [prelude] + list(cells)
    started = time.monotonic()
    deadline = started + settings.notebook_timeout
    results = {i: CellResult(index=i) for i, c in enumerate(cells) if c.get("cell_type") == "code"}
    fatal = ""

    client, km, env = grading_client(nb, workdir, settings)
    guard = guard_source()
    try:
        with client.setup_kernel(env=env, cwd=str(workdir)):
            client.timeout = settings.startup_timeout + 60
            client.execute_cell(nb.cells[0], 0)
            if any(o.get("output_type") == "error" for o in nb.cells[0].outputs):
                err = next(o for o in nb.cells[0].outputs if o.get("output_type") == "error")
                fatal = f"the grading kernel could not be prepared: {err.get('ename')}: {err.get('evalue')}"
            for i, cell in enumerate(cells):
                if fatal:
                    break
                if cell.get("cell_type") != "code":
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 1:
                    fatal = f"the notebook ran longer than {settings.notebook_timeout} s; later cells were not run"
                    break
                if progress:
                    progress(f"cell {i}")
                fatal = run_cell(client, km, cell, i, results[i], settings, guard, remaining)
    except Exception as e:  # the kernel did not start, or the client broke
        if not fatal:
            reason = km.exit_reason() if "died" in str(e) else ""
            fatal = f"the kernel failed: {type(e).__name__}: {e}" + (f" ({reason})" if reason else "")
    finally:
        _shutdown(client, km)
    nb.cells = cells
    return RunResult(notebook=nb, cells=results, fatal=fatal, seconds=time.monotonic() - started)


def grading_client(nb: nbformat.NotebookNode, workdir: Path, settings: Settings) -> tuple:
    """``(client, km, env)``: the nbclient client that runs ``nb`` (the prelude at position 0)
    in a grading kernel, its kernel manager (limits, sandbox), and the kernel's environment.
    Start the kernel with ``client.setup_kernel(env=env, cwd=str(workdir))``; stop it with
    ``_shutdown(client, km)``."""
    km = sandbox.kernel_manager(settings, workdir)
    client = _GradingClient(
        nb, km=km, timeout=settings.cell_timeout, startup_timeout=settings.startup_timeout,
        allow_errors=True, interrupt_on_timeout=True, record_timing=False,
        error_on_timeout={"ename": "CellTimeoutError",
                          "evalue": f"the cell ran longer than {settings.cell_timeout} s and was stopped"},
        resources={"metadata": {"path": str(workdir)}}, shutdown_kernel="immediate",
    )
    client._bytes_in_cell = {}
    env = kernel_env(settings, workdir)
    env[sandbox.KERNEL_MARK] = km.mark
    return client, km, env


def run_cell(client, km, cell, i: int, result: CellResult, settings: Settings, guard: str,
             remaining: float) -> str:
    """Run the notebook's code cell ``cell`` (number ``i``, position ``i + 1`` in the client's
    notebook) in the grading kernel, within the cell time limit and the ``remaining`` seconds of
    the notebook; fill in ``result``. Returns why no later cell can run, or "".

    ``run_notebook`` runs every cell with it; the variant tests (tests/variants/harness.py) also
    use it to run cells again in one kernel.
    """
    fatal = ""
    client.timeout = max(1, int(min(settings.cell_timeout, remaining)))
    client.timed_out = False
    t0 = time.monotonic()
    try:
        if is_test(cell) and not _run_guard(client, guard):
            result.status, result.ename = "error", "GraderError"
            result.evalue = ("the grader's test helpers could not be set up before this "
                             "test (the notebook's code changed Python itself); the test "
                             "was not run")
        else:
            client.execute_cell(cell, i + 1)
    except DeadKernelError:
        reason = _death_reason(km)
        result.status = "dead"
        result.ename = "DeadKernelError"
        result.evalue = f"the kernel died while running this cell: {reason}"
        fatal = f"the kernel died while running cell {i}: {reason}; later cells were not run"
    except CellTimeoutError:
        result.status = "timeout"
        result.ename, result.evalue = "CellTimeoutError", "the cell ran too long"
    finally:
        result.seconds = time.monotonic() - t0
    if result.status == "not_run":
        _classify(cell, result, client.timed_out, settings)
    result.records = _take_records(cell)
    if result.status == "timeout" and not fatal:
        # an interrupted kernel normally recovers; one that ignores interrupts does not
        if not _kernel_responds(client, wait=min(10.0, max(3.0, settings.cell_timeout / 2))):
            fatal = (f"cell {i} ran longer than {settings.cell_timeout} s and the kernel "
                     "did not stop when interrupted; later cells were not run")
    return fatal


def _death_reason(km, wait: float = 2.0) -> str:
    """Why the kernel died, in words: out of memory, a crash, an exit status."""
    deadline = time.monotonic() + wait
    reason = km.exit_reason()
    while not reason and time.monotonic() < deadline:   # the process may still be exiting
        time.sleep(0.05)
        reason = km.exit_reason()
    return reason or "the code exited the process, crashed, or ran out of memory"


def _shutdown(client: NotebookClient, km) -> None:
    """Stop the kernel, whatever state it is in, and everything it started; never raises.

    nbclient does not shut down a kernel whose manager it was given, so this is the only place
    a grading kernel is stopped (after a normal run, a time-out, a dead kernel or a failed start).
    """
    try:
        if client.kc is not None:
            client.kc.stop_channels()
    except Exception:
        pass
    sandbox.stop_kernel(km)
    try:
        run_sync(km.cleanup_resources)()     # connection file, sockets of the manager
    except Exception:
        pass


def _classify(cell, result: CellResult, timed_out: bool, settings: Settings) -> None:
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if timed_out:
        result.status = "timeout"
        result.ename = "CellTimeoutError"
        result.evalue = f"the cell ran longer than {settings.cell_timeout} s and was stopped"
        cell.outputs.append(nbformat.v4.new_output("error", ename=result.ename, evalue=result.evalue,
                                                   traceback=[f"{result.ename}: {result.evalue}"]))
    elif errors:
        result.status = "error"
        result.ename = str(errors[0].get("ename", "Error"))
        result.evalue = str(errors[0].get("evalue", ""))
    else:
        result.status = "ok"


def _take_records(cell) -> list:
    """Remove the record outputs from ``cell`` and return them decoded, in order."""
    records, kept = [], []
    for out in cell.get("outputs", []):
        data = out.get("data", {}) if out.get("output_type") in ("display_data", "execute_result") else {}
        if kernel_module.RECORD_MIME in data:
            item = data[kernel_module.RECORD_MIME]
            name = str(item.get("name", "?")) if isinstance(item, dict) else "?"
            try:
                payload = decode_record(item["data"])
                name = str(payload.get("name", name))
            except Exception as e:  # anything malformed is a record that matches nothing
                payload = {"error": f"unreadable record ({type(e).__name__})"}
            records.append((name, payload))
        else:
            kept.append(out)
    cell.outputs = kept
    return records


def _run_guard(client: NotebookClient, source: str) -> bool:
    """Run the guard before a test cell; False when it did not run cleanly (a dead kernel raises
    DeadKernelError, as the test cell itself would)."""
    cell = nbformat.v4.new_code_cell(source)
    client.timed_out = False
    client.execute_cell(cell, 0)
    return not client.timed_out and not any(o.get("output_type") == "error" for o in cell.outputs)


def _kernel_responds(client: NotebookClient, wait: float = 10.0) -> bool:
    """Whether the kernel answers a trivial request after an interrupt."""
    iopub_timeout = client.iopub_timeout
    try:
        probe = nbformat.v4.new_code_cell("pass")
        client.timeout = int(wait)
        client.timed_out = False
        client.iopub_timeout = 1       # no output to wait for; a stuck kernel sends none
        client.execute_cell(probe, 0)
        return not client.timed_out
    except Exception:
        return False
    finally:
        client.iopub_timeout = iopub_timeout
