"""Drive one grading kernel: ``KernelSession`` (start, run cells, close) and ``run_notebook``.

The session never raises for what the notebook's code does: errors, time-outs, a dead kernel and
oversized outputs all end up in the ``CellResult`` of the cell and in ``fatal`` (why no later
cell can run). Its invariants, kept here once for the grader and the variants harness alike:
the prelude runs first (``inside/guard.py`` then ``inside/prelude.py``), the guard runs again
before each test cell, every cell runs within the cell limit and what is left of the notebook's,
and after a fatal problem nothing more runs.
"""
from __future__ import annotations

import ast
import base64
import copy
import functools
import importlib.util
import marshal
import re
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync

from .. import protocol
from ..config import CourseError, Settings
from ..inside import doubles as doubles_module, figures as figures_module, guard as guard_module, \
    kernel as kernel_module, prelude as prelude_module, probes as probes_module
from ..notebook import is_test
from . import launch
from .client import CellBudget, GradingClient, classify, death_reason, kernel_responds, run_guard
from .processes import tree_cpu, tree_usage
from .environment import KERNEL_MARK, kernel_env


#: at most this many figures are kept for the instructor's figures page, rendered within this
#: many seconds in all
MAX_FIGURES, FIGURES_SECONDS = 30, 30
#: a cell that still computes when its limit is reached, on a machine too busy to give it a whole
#: core, runs on until it has used its limit in CPU time, at most this many times the limit in
#: wall-clock time (``client.CellBudget``)
WALL_FACTOR = 5


@dataclass
class CellResult:
    index: int                     # position in the executed notebook (prelude excluded)
    status: str = "not_run"        # ok | error | timeout | dead | not_run
    ename: str = ""
    evalue: str = ""
    records: list = field(default_factory=list)   # [(name, protocol.Record)]
    seconds: float = 0.0


@dataclass
class RunResult:
    notebook: nbformat.NotebookNode
    cells: dict                    # index -> CellResult (code cells only)
    fatal: str = ""                # why the run stopped early, if it did
    seconds: float = 0.0
    figures: list = field(default_factory=list)   # PNGs (base64) of the figures left open, for the instructor


def _source(module) -> str:
    return Path(module.__file__).read_text(encoding="utf-8")


#: the modules the guard installs in the kernel, in the order they import each other
KERNEL_LIBRARY = (("kernel", kernel_module), ("probes", probes_module), ("doubles", doubles_module))


def _without_docstrings(source: str) -> ast.Module:
    """``source`` parsed, with the docstrings of the module, its classes and functions left out
    (every other line keeps its number, for tracebacks)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass(lineno=body[0].lineno, col_offset=body[0].col_offset)]
    return tree


@functools.lru_cache(maxsize=1)
def guard_source() -> str:
    """Installs fresh ``course_grader.kernel``, ``.probes`` and ``.doubles`` modules in the kernel
    (before each test cell); kernel first, as the others import it. The modules are compiled here,
    once per process (every kernel's prelude and every test cell send the same text), and sent as
    marshalled code objects (``inside/guard.py`` says why)."""
    codes = [(name, compile(_without_docstrings(_source(module)), f"course_grader/{name}.py", "exec",
                            dont_inherit=True))     # not this file's __future__ imports
             for name, module in KERNEL_LIBRARY]
    packed = base64.b64encode(zlib.compress(marshal.dumps((importlib.util.MAGIC_NUMBER, codes)), 9))
    return (_source(guard_module) + f"_course_guard({packed.decode('ascii')!r})\n"
            "del _course_guard\n")


def kernel_code_text(settings: Settings) -> str:
    """The source text of everything the grader runs in a kernel besides the notebook (guard,
    kernel library, prelude and its settings), for cache keys: unlike ``prelude_source``, whose
    marshalled code objects may differ from one process to the next, it is the same wherever the
    code is."""
    return "\n".join([_source(guard_module), *(_source(module) for _, module in KERNEL_LIBRARY),
                      _source(prelude_module), f"{int(settings.seed)} {int(settings.torch_threads)}"])


def prelude_source(settings: Settings) -> str:
    """Installs ``course_grader.kernel`` in the kernel, then sets seeds, threads and backend."""
    return (guard_source() + _source(prelude_module)
            + f"_course_prelude({int(settings.seed)}, {int(settings.torch_threads)})\n"
            "del _course_prelude\n")


class KernelSession:
    """One grading kernel: ``start()``, then ``run(cell, i, ...)`` for the notebook's code cells,
    then ``close()``.

    hidden: folders the sandbox shows as empty besides the course root (the submissions and the
    output folder of a batch). metadata: the notebook's metadata, which the kernel's
    ``language_info`` is written into (as nbclient does).
    """

    def __init__(self, settings: Settings, workdir: Path, hidden: tuple = (), metadata=None):
        self.settings, self.workdir, self.hidden = settings, Path(workdir), tuple(hidden)
        self.fatal = ""
        self.started = time.monotonic()
        self.client = self.km = None
        self.console = None            # the kernel process's own stdout and stderr (KernelConsole)
        self._setup = None
        # the client's notebook: the prelude at 0, the notebook's cell i at i + 1 (grown in run)
        self.nb = nbformat.v4.new_notebook()
        if metadata is not None:
            self.nb.metadata = metadata
        self.guard = guard_source()

    def start(self) -> str:
        """Start the kernel and run the prelude; returns ``fatal`` ("" when the kernel is ready)."""
        settings = self.settings
        self.started = time.monotonic()
        self.nb.cells = [nbformat.v4.new_code_cell(prelude_source(settings))]
        try:
            self.km = launch.kernel_manager(settings, self.workdir, self.hidden)
            self.client = GradingClient(
                self.nb, km=self.km, timeout=settings.cell_timeout,
                startup_timeout=settings.startup_timeout, allow_errors=True,
                interrupt_on_timeout=True, record_timing=False,
                error_on_timeout={"ename": "CellTimeoutError",
                                  "evalue": f"the cell ran longer than {settings.cell_timeout} s and was stopped"},
                resources={"metadata": {"path": str(self.workdir)}}, shutdown_kernel="immediate",
            )
            self.client._bytes_in_cell = {}
            env = kernel_env(settings, self.workdir)
            env[KERNEL_MARK] = self.km.mark
            self.console = launch.KernelConsole()
            self._setup = self.client.setup_kernel(env=env, cwd=str(self.workdir),
                                                   stdout=self.console.fd, stderr=self.console.fd)
            try:
                self._setup.__enter__()
            finally:
                self.console.launched()
            unsealed = launch.seal_ipc_dir(self.km)   # the kernel's sockets exist: no more files there
            if unsealed:
                self.fatal = f"the grading kernel could not be prepared: {unsealed}"
                return self.fatal
            prelude = self.nb.cells[0]
            self.client.timeout = settings.startup_timeout + 60
            self.client.execute_cell(prelude, 0, store_history=False)   # the notebook's cells count from 1
            errors = [o for o in prelude.outputs if o.get("output_type") == "error"]
            if errors:
                self.fatal = (f"the grading kernel could not be prepared: {errors[0].get('ename')}: "
                              f"{errors[0].get('evalue')}")
        except CourseError:     # grading must not run here (the sandbox policy): not the student's
            raise
        except Exception as e:  # the kernel did not start, or the client broke
            self.failed(e, starting=True)
        return self.fatal

    def failed(self, e: Exception, starting: bool = False) -> None:
        """Note that the kernel or the client broke with ``e`` (unless a reason is known already);
        ``starting``: before any of the notebook's code ran, when the last lines the kernel's
        process wrote (its wrapper's, relay's or Python's errors) say why, and are added."""
        if not self.fatal:
            reason = self.km.exit_reason() if self.km is not None and "died" in str(e) else ""
            self.fatal = f"the kernel failed: {type(e).__name__}: {e}" + (f" ({reason})" if reason else "")
            said = self.console.tail(wait=1.0) if starting and self.console is not None else ""
            if said:
                self.fatal += f"; it wrote: {said}"

    def run(self, cell, i: int, result: CellResult | None = None,
            remaining: float | None = None) -> CellResult:
        """Run the notebook's code cell ``cell`` (number ``i``) within the cell time limit and the
        ``remaining`` seconds of the notebook; fill in and return ``result``. A cell that makes
        later cells impossible sets ``fatal``."""
        settings, client = self.settings, self.client
        result = result if result is not None else CellResult(index=i)
        remaining = settings.notebook_timeout if remaining is None else remaining
        while len(self.nb.cells) <= i + 1:
            self.nb.cells.append(nbformat.v4.new_code_cell(""))
        client._bytes_in_cell.pop(i + 1, None)      # each run of a cell gets its own output budget
        client.__dict__.setdefault("_records_in_cell", {}).pop(i + 1, None)
        fatal = ""
        client.timeout = max(1, int(min(settings.cell_timeout, remaining)))
        client.timed_out = False
        t0 = time.monotonic()
        try:
            if is_test(cell) and not run_guard(client, self.guard):
                result.status, result.ename = "error", "GraderError"
                result.evalue = ("the grader's test helpers could not be set up before this "
                                 "test (the notebook's code changed Python itself); the test "
                                 "was not run")
            else:
                client.budget = self._budget(min(settings.cell_timeout, remaining), remaining)
                client.execute_cell(cell, i + 1)
        except DeadKernelError:
            reason = death_reason(self.km)
            result.status = "dead"
            result.ename = "DeadKernelError"
            result.evalue = f"the kernel died while running this cell: {reason}"
            fatal = f"the kernel died while running cell {i}: {reason}; later cells were not run"
        except CellTimeoutError:
            result.status = "timeout"
            result.ename, result.evalue = "CellTimeoutError", "the cell ran too long"
        finally:
            result.seconds = time.monotonic() - t0
            budget, client.budget = client.budget, None
        if result.status == "not_run":
            classify(cell, result, client.timed_out, settings, budget.why if budget else "")
        result.records = protocol.take_records(cell)
        if result.status == "timeout" and not fatal:
            # an interrupted kernel normally recovers; one that ignores interrupts does not
            if not kernel_responds(client, wait=min(10.0, max(3.0, settings.cell_timeout / 2))):
                fatal = (f"cell {i} ran longer than {settings.cell_timeout} s and the kernel "
                         "did not stop when interrupted; later cells were not run")
        self.fatal = self.fatal or fatal
        return result

    def figures(self, limit: int = MAX_FIGURES, dpi: int = 60) -> list:
        """The figures the notebook's code left open, as base64 PNGs (at most ``limit``, each
        within the output cap of a cell), for the instructor's figures page; [] when anything
        goes wrong. Run after the notebook's last cell."""
        code = _source(figures_module)
        client, found = self.client, []
        deadline = time.monotonic() + FIGURES_SECONDS      # all of it: the student's code could stall it
        try:
            client.timeout, client.timed_out = FIGURES_SECONDS, False
            probe = nbformat.v4.new_code_cell(code + "_course_figure_numbers()\n")
            client._bytes_in_cell.pop(0, None)
            client.execute_cell(probe, 0, store_history=False)
            text = "".join(o.get("text", "") for o in probe.outputs if o.get("output_type") == "stream")
            numbers = re.search(r"COURSE_FIGURES \[([0-9, ]{0,2000})\]", text)
            for number in [int(n) for n in numbers.group(1).split(",") if n.strip()][:limit] if numbers else []:
                if client.timed_out or time.monotonic() > deadline - 1:
                    break
                client.timeout = max(1, int(deadline - time.monotonic()))
                cell = nbformat.v4.new_code_cell(f"_course_render_figure({number}, {int(dpi)})\n")
                client._bytes_in_cell.pop(0, None)
                client.execute_cell(cell, 0, store_history=False)
                if client.timed_out:
                    break
                found += [o["data"]["image/png"] for o in cell.outputs
                          if isinstance(o.get("data", {}).get("image/png"), str)]
        except Exception:
            return found
        return found

    def _budget(self, limit: float, remaining: float) -> CellBudget | None:
        """The cell's limit in CPU time (``CellBudget``): ``limit`` seconds of CPU time of the
        kernel and every process it started, with a wall-clock backstop of
        ``WALL_FACTOR * limit`` (at most ``remaining``); None when the kernel's processes cannot
        be read (then nbclient's wall-clock limit alone holds)."""
        pid = self.km.kernel_pid() if self.km is not None else None
        if not pid:
            return None
        try:
            start = tree_cpu(pid)
        except OSError:
            return None

        def usage():
            cpu, runnable = tree_usage(pid)
            return cpu - start, runnable

        wall = max(limit, min(WALL_FACTOR * limit, remaining))
        return CellBudget(usage=usage, cpu_seconds=limit, wall_deadline=time.monotonic() + wall,
                          wall_seconds=round(wall))

    def close(self) -> None:
        """Stop the kernel, whatever state it is in, and everything it started; never raises.

        nbclient does not shut down a kernel whose manager it was given, so this is the only
        place a grading kernel is stopped (after a normal run, a time-out, a dead kernel or a
        failed start).
        """
        setup, self._setup = self._setup, None
        if setup is not None:
            try:
                setup.__exit__(None, None, None)
            except Exception:
                pass
        if self.km is None:
            return
        try:
            if self.client is not None and self.client.kc is not None:
                self.client.kc.stop_channels()
        except Exception:
            pass
        launch.stop_kernel(self.km)
        try:
            run_sync(self.km.cleanup_resources)()     # connection file, sockets of the manager
        except Exception:
            pass
        launch.remove_ipc_dir(self.km)


def run_notebook(nb: nbformat.NotebookNode, workdir: Path, settings: Settings,
                 progress=None, hidden: tuple = (), figures: bool = False) -> RunResult:
    """Execute ``nb`` (a copy is made) in a new kernel whose working folder is ``workdir``.

    progress: optional callable(str) told which cell runs. hidden: see ``KernelSession``.
    figures: also render the figures the notebook left open (``RunResult.figures``).
    Returns the executed notebook (record outputs removed) and a CellResult per code cell.
    """
    nb = copy.deepcopy(nb)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    cells = nb.cells
    results = {i: CellResult(index=i) for i, c in enumerate(cells) if c.get("cell_type") == "code"}
    session = KernelSession(settings, workdir, hidden, metadata=nb.metadata)
    started = session.started
    deadline = started + settings.notebook_timeout
    drawn: list = []
    try:
        session.start()
        for i, cell in enumerate(cells):
            if session.fatal:
                break
            if cell.get("cell_type") != "code":
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 1:
                session.fatal = (f"the notebook ran longer than {settings.notebook_timeout} s; "
                                 "later cells were not run")
                break
            if progress:
                progress(f"cell {i}")
            session.run(cell, i, results[i], remaining)
        drawn = session.figures() if figures and not session.fatal else []
    except CourseError:
        raise
    except Exception as e:  # the client broke
        session.failed(e)
    finally:
        session.close()
    nb.cells = cells
    return RunResult(notebook=nb, cells=results, fatal=session.fatal, seconds=time.monotonic() - started,
                     figures=drawn)
