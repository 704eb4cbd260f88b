"""The one channel from the student's kernel to the grader: records.

A hidden test calls ``course_grader.kernel.record(name, value, ...)`` in the kernel (untrusted);
it becomes a display output of MIME type ``RECORD_MIME``::

    {RECORD_MIME: {"name": <str>, "data": <base64 of torch.save(payload)>}}

where ``payload`` is a ``Record``. The grader (trusted) takes those outputs off the executed cell
(``take_records``) and decodes them with ``torch.load(weights_only=True)`` (``decode``), which
never unpickles code. Whatever arrives is data to compare, never a verdict: anything malformed
becomes a record with an ``error`` that matches nothing.

The encoder runs in the kernel, so it lives in ``inside/kernel.py`` (sent there as source text);
this module is how everything outside ``inside/`` reaches it.
"""
from __future__ import annotations

import base64
import io
from typing import Any, TypedDict

from .inside.kernel import RECORD_MIME, encode

__all__ = ["RECORD_MIME", "Record", "encode", "decode", "take_records", "is_record",
           "MAX_CELL_OUTPUT_BYTES", "MAX_RECORD_BYTES", "MAX_RECORDS_PER_CELL"]

#: Largest amount of output text (not records) one cell keeps; the rest is dropped with a notice.
MAX_CELL_OUTPUT_BYTES = 200_000
#: Generous bounds on what one record, and one cell's records, may be (not enforced yet: the
#: trust-boundary work uses them; today's behaviour is unchanged).
MAX_RECORD_BYTES = 256 * 1024 * 1024
MAX_RECORDS_PER_CELL = 10_000


class Record(TypedDict, total=False):
    """One record's payload, as ``record`` writes it and ``decode`` returns it."""
    name: str
    value: Any                      # tensors, numbers, bools, strings, None; lists/tuples/dicts of those
    rtol: float
    atol: float
    targets: Any                    # true labels, for predictions checked by accuracy
    min_accuracy: float | None
    at_least: float | None
    at_most: float | None
    error: str                      # set by the grader for an unreadable record, never by the kernel


def decode(data: str) -> Record:
    """A record payload as written by ``course_grader.kernel.record``; never unpickles code."""
    import torch

    raw = base64.b64decode(data.encode("ascii"), validate=True)
    payload = torch.load(io.BytesIO(raw), weights_only=True, map_location="cpu")
    if not isinstance(payload, dict) or "value" not in payload:
        raise ValueError("record payload is not a dict with a value")
    return payload


def is_record(data: dict) -> bool:
    """Whether a display output's ``data`` (MIME type -> content) is a record."""
    return RECORD_MIME in data


def take_records(cell) -> list[tuple[str, Record]]:
    """Remove the record outputs from ``cell`` and return them decoded, in order."""
    records, kept = [], []
    for out in cell.get("outputs", []):
        data = out.get("data", {}) if out.get("output_type") in ("display_data", "execute_result") else {}
        if is_record(data):
            item = data[RECORD_MIME]
            name = str(item.get("name", "?")) if isinstance(item, dict) else "?"
            try:
                payload = decode(item["data"])
                name = str(payload.get("name", name))
            except Exception as e:  # anything malformed is a record that matches nothing
                payload = {"error": f"unreadable record ({type(e).__name__})"}
            records.append((name, payload))
        else:
            kept.append(out)
    cell.outputs = kept
    return records
