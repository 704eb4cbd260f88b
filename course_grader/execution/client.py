"""nbclient, as a grading kernel's client: one cell at a time, output capped, time-outs flagged.

The helpers below run one code cell and classify how it ended; ``session.KernelSession.run``
strings them together.
"""
from __future__ import annotations

import time

import nbformat
from nbclient import NotebookClient

from .. import protocol
from ..config import Settings


class GradingClient(NotebookClient):
    """nbclient, with a cap on output size and a flag for cells that timed out."""

    timed_out = False
    _bytes_in_cell: dict

    def output(self, outs, msg, display_id, cell_index):
        budget = self._bytes_in_cell.setdefault(cell_index, 0)
        content = msg.get("content", {})
        data = content.get("data", {}) if isinstance(content.get("data"), dict) else {}
        size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in data.values())
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

    async def _async_handle_timeout(self, timeout, cell=None):
        self.timed_out = True
        return await super()._async_handle_timeout(timeout, cell)


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


def classify(cell, result, timed_out: bool, settings: Settings) -> None:
    """Fill in ``result`` (a CellResult) from how ``cell`` ended: timeout, error or ok."""
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


def run_guard(client: NotebookClient, source: str) -> bool:
    """Run the guard before a test cell; False when it did not run cleanly (a dead kernel raises
    DeadKernelError, as the test cell itself would)."""
    cell = nbformat.v4.new_code_cell(source)
    client.timed_out = False
    client.execute_cell(cell, 0)
    return not client.timed_out and not any(o.get("output_type") == "error" for o in cell.outputs)


def kernel_responds(client: NotebookClient, wait: float = 10.0) -> bool:
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
