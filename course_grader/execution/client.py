"""nbclient, as a grading kernel's client: one cell at a time, output capped, time-outs flagged.

The helpers below run one code cell and classify how it ended; ``session.KernelSession.run``
strings them together.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from queue import Empty

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async, run_sync

from .. import protocol
from ..config import Settings


@dataclass
class CellBudget:
    """How long one cell may run, robust to the machine's load (issue 17).

    nbclient's own time-out (``client.timeout``, the cell limit in seconds) is when the first
    check happens: a cell whose processes all wait (sleep, input, a lock) is stopped once they
    have been seen waiting for ``idle_seconds`` on end (one look could catch a starved cell
    between two steps), as is one that has used ``cpu_seconds`` of CPU time. A cell that still
    computes but has had less CPU time than that (a loaded machine gave it less than a core)
    runs on until it has, or until ``wall_deadline`` (``time.monotonic()``), a backstop that no
    code outlives.
    """
    usage: object                  # callable() -> (CPU seconds used by the cell so far, runnable)
    cpu_seconds: float
    wall_deadline: float
    wall_seconds: float            # the backstop, in seconds from the cell's start (for messages)
    why: str = ""                  # why the cell was stopped, once it was
    idle_seconds: float = 1.0      # how long its processes must be seen waiting, on end
    idle_since: float | None = None

    def decide(self) -> str:
        """"" to let the cell run on, else why it must stop, in words."""
        try:
            cpu, runnable = self.usage()
        except Exception:          # the processes could not be read: the wall-clock limit holds
            return f"the cell ran longer than {self.cpu_seconds:g} s and was stopped"
        now = time.monotonic()
        if cpu >= self.cpu_seconds:
            return f"the cell used more than {self.cpu_seconds:g} s of CPU time and was stopped"
        if runnable:
            self.idle_since = None
        else:
            self.idle_since = now if self.idle_since is None else self.idle_since
            if now - self.idle_since >= self.idle_seconds:
                return f"the cell ran longer than {self.cpu_seconds:g} s and was stopped"
        if now >= self.wall_deadline:
            return (f"the cell ran longer than {self.wall_seconds:g} s ({cpu:.0f} s of CPU time on a "
                    "busy machine) and was stopped")
        return ""


class GradingClient(NotebookClient):
    """nbclient, with a cap on output size, a flag for cells that timed out, and a cell limit in
    CPU time (``budget``: a ``CellBudget`` for the cell that runs, or None for nbclient's own
    wall-clock limit)."""

    timed_out = False
    _bytes_in_cell: dict
    budget: "CellBudget | None" = None
    _waiting_for: str = ""

    def output(self, outs, msg, display_id, cell_index):
        budget = self._bytes_in_cell.setdefault(cell_index, 0)
        content = msg.get("content", {})
        data = content.get("data", {}) if isinstance(content.get("data"), dict) else {}
        size = max(protocol.MIN_OUTPUT_BYTES,
                   len(str(content.get("text", ""))) + sum(len(str(v)) for v in data.values()))
        is_record = protocol.is_record(data)
        limit = protocol.MAX_CELL_OUTPUT_BYTES
        if is_record:
            refused = self._record_budget(cell_index, size)
            if refused:
                content["data"] = protocol.refuse(data, refused)
        if msg.get("msg_type") == "error":
            _shorten_error(content)
        # an error is always kept: it is how the cell is known to have failed (classify)
        if not is_record and msg.get("msg_type") != "error":
            if budget > limit:
                return None
            self._bytes_in_cell[cell_index] = budget + size
            if budget + size > limit:
                kept = None
                if msg.get("msg_type") == "stream" and isinstance(content.get("text"), str) and budget < limit:
                    # the start of a long print is kept, up to the limit
                    content["text"] = content["text"][:limit - budget]
                    kept = super().output(outs, msg, display_id, cell_index)
                outs.append(nbformat.v4.new_output(
                    "stream", name="stderr",
                    text=f"\n[grader: output of this cell cut at {limit} bytes]\n"))
                return kept
        return super().output(outs, msg, display_id, cell_index)

    def _record_budget(self, cell_index, size: int) -> str:
        """Count a record of ``size`` bytes against its cell's bounds; why it is refused ("" when
        it is not). Refused records are dropped on arrival, before anything decodes them."""
        counts = self.__dict__.setdefault("_records_in_cell", {})
        count, total = counts.get(cell_index, (0, 0))
        counts[cell_index] = (count + 1, total + size)
        if size > protocol.MAX_RECORD_BYTES:
            return f"record larger than {protocol.MAX_RECORD_BYTES // 2**20} MB"
        if count + 1 > protocol.MAX_RECORDS_PER_CELL:
            return f"record past the limit of {protocol.MAX_RECORDS_PER_CELL:,} records in one cell"
        if total + size > protocol.MAX_CELL_RECORD_BYTES:
            return f"record past the limit of {protocol.MAX_CELL_RECORD_BYTES // 2**20} MB of records in one cell"
        return ""

    async def async_run_expression(self, expression: str, expected: str) -> bool:
        """Evaluate ``expression`` in the kernel as the one user expression of a silent request
        with empty code, within ``self.timeout`` seconds; whether its value's text was
        ``expected``. The kernel is interrupted when it takes longer; DeadKernelError when it
        died. Its iopub messages (busy, idle) are left to nbclient, which skips them."""
        kc = self.kc
        self.timed_out = False
        msg_id = kc.execute("", silent=True, store_history=False, user_expressions={"value": expression})
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.timed_out = True
                await ensure_async(self.km.interrupt_kernel())
                return False
            try:
                msg = await ensure_async(kc.shell_channel.get_msg(timeout=min(1.0, left)))
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    raise DeadKernelError("Kernel died") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            content = msg.get("content", {})
            value = content.get("user_expressions", {}).get("value", {})
            return (content.get("status") == "ok" and value.get("status") == "ok"
                    and value.get("data", {}).get("text/plain") == expected)

    async def _async_poll_for_reply(self, msg_id, *args, **kwargs):
        self._waiting_for = msg_id        # the reply _run_on_while_starved waits for
        return await super()._async_poll_for_reply(msg_id, *args, **kwargs)

    async def _async_handle_timeout(self, timeout, cell=None):
        reply = await self._run_on_while_starved()
        if reply is not None:
            return reply                  # the cell finished within its CPU time
        self.timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    async def _run_on_while_starved(self):
        """After nbclient's time-out: wait for the cell's reply as long as ``budget`` allows;
        the reply, or None when the cell must be stopped (``budget.why`` says why)."""
        budget = self.budget
        if budget is None:
            return None
        while True:
            verdict = budget.decide()
            if verdict:
                budget.why = verdict
                return None
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=0.5))
            except Empty:
                continue
            if msg.get("parent_header", {}).get("msg_id") == self._waiting_for:
                return msg


def _shorten_error(content: dict, limit: int = 2000) -> None:
    """An error output kept within bounds: its value and each traceback line cut to ``limit``
    characters, at most 50 traceback lines (the last ones)."""
    if isinstance(content.get("evalue"), str) and len(content["evalue"]) > limit:
        content["evalue"] = content["evalue"][:limit] + " [...]"
    if isinstance(content.get("ename"), str) and len(content["ename"]) > 200:
        content["ename"] = content["ename"][:200]
    traceback = content.get("traceback")
    if isinstance(traceback, list):
        content["traceback"] = [str(line)[:limit] for line in traceback[-50:]]


def death_reason(km, wait: float = 2.0) -> str:
    """Why the kernel died, in words: out of memory, a crash, an exit status."""
    deadline = time.monotonic() + wait
    reason = km.exit_reason()
    while not reason and time.monotonic() < deadline:   # the process may still be exiting
        time.sleep(0.05)
        reason = km.exit_reason()
    return reason or "the code exited the process, crashed, or ran out of memory"


def classify(cell, result, timed_out: bool, settings: Settings, why: str = "") -> None:
    """Fill in ``result`` (a CellResult) from how ``cell`` ended: timeout, error or ok. ``why``:
    the ``CellBudget``'s reason for stopping it, when it was stopped for its CPU time."""
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if timed_out:
        result.status = "timeout"
        result.ename = "CellTimeoutError"
        result.evalue = (why if why.startswith("the cell") else
                         f"the cell ran longer than {settings.cell_timeout} s and was stopped")
        cell.outputs.append(nbformat.v4.new_output("error", ename=result.ename, evalue=result.evalue,
                                                   traceback=[f"{result.ename}: {result.evalue}"]))
    elif errors:
        result.status = "error"
        result.ename = str(errors[0].get("ename", "Error"))
        result.evalue = str(errors[0].get("evalue", ""))
    else:
        result.status = "ok"


def run_guard(client: "GradingClient", source: str) -> bool:
    """Run the guard before a test cell; False when it did not run cleanly (a dead kernel raises
    DeadKernelError, as the test cell itself would).

    Sent as a silent request whose code is empty and whose one user expression runs ``source``
    with ``exec`` in a namespace of its own: the kernel evaluates a user expression with Python's
    own ``eval``, so the guard's 40 KB never pass through IPython's input transformers, its
    tokenizer, its history or the ``execute_input`` echo (a test cell's guard took 12-15 ms as a
    cell of its own, 6 ms so). It takes no execution number and leaves no name behind. It counts
    as run only when the expression returns this call's own token, which the guard's text sets
    as its last line: a kernel changed to answer every request with "ok", or an ``exec`` of the
    notebook's own that runs nothing, does not pass. Nothing can prove more about code that runs
    in the student's process (an ``exec`` or a kernel changed to read the token out of the text
    would pass: the scan flags what that takes, a top-level ``exec`` or IPython's internals;
    docs/authoring.md)."""
    token = uuid.uuid4().hex
    source += f"\n_course_guard_token = {token!r}\n"      # set only once the guard ran to its end
    expression = (f"(lambda namespace: (exec({source!r}, namespace), namespace.get('_course_guard_token'))[1])"
                  "({'__name__': 'course_grader.guard'})")
    return run_sync(client.async_run_expression)(expression, repr(token))


def kernel_responds(client: NotebookClient, wait: float = 10.0) -> bool:
    """Whether the kernel answers a trivial request after an interrupt."""
    iopub_timeout = client.iopub_timeout
    try:
        probe = nbformat.v4.new_code_cell("pass")
        client.timeout = int(wait)
        client.timed_out = False
        client.iopub_timeout = 1       # no output to wait for; a stuck kernel sends none
        client.execute_cell(probe, 0, store_history=False)
        return not client.timed_out
    except Exception:
        return False
    finally:
        client.iopub_timeout = iopub_timeout
