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

__all__ = ["RECORD_MIME", "Record", "RecordRefused", "encode", "decode", "take_records", "is_record",
           "MAX_CELL_OUTPUT_BYTES", "MAX_RECORD_BYTES", "MAX_CELL_RECORD_BYTES", "MAX_RECORDS_PER_CELL",
           "MAX_DECODED_BYTES", "MAX_TENSOR_ELEMENTS", "MAX_VALUES", "MAX_NAME_CHARS"]

#: Largest amount of output text (not records) one cell keeps; the rest is dropped with a notice.
MAX_CELL_OUTPUT_BYTES = 200_000
#: Bounds on records, enforced before anything is decoded (a record comes from the untrusted
#: kernel): one record's base64 text, all of one cell's, their number per cell, the bytes its
#: zip may unpack to (only uncompressed entries are read: a compressed one could inflate to
#: gigabytes), the elements of one tensor (a zero-stride view of one number can claim any
#: shape), and the values (list items, dict entries, tensors) in one record.
MAX_RECORD_BYTES = 64 * 1024 * 1024
MAX_CELL_RECORD_BYTES = 256 * 1024 * 1024
MAX_RECORDS_PER_CELL = 10_000
MAX_DECODED_BYTES = 256 * 1024 * 1024
MAX_TENSOR_ELEMENTS = 50_000_000
MAX_VALUES = 1_000_000
MAX_NAME_CHARS = 300


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


class RecordRefused(ValueError):
    """A record that breaks a bound above; the message says which."""


class Refusal(str):
    """The grader's own mark on a record output it refused on arrival (``client.GradingClient``):
    a Python object that no JSON message from the kernel can produce, so a kernel cannot put a
    text of its own choosing where the grader's reason goes."""


def refuse(data: dict, reason: str) -> dict:
    """The display data ``data`` of a record, with its payload replaced by the refusal ``reason``."""
    item = data.get(RECORD_MIME)
    name = str(item.get("name", "?"))[:MAX_NAME_CHARS] if isinstance(item, dict) else "?"
    return {RECORD_MIME: {"name": name, "data": "", "refused": Refusal(reason)}}


def decode(data: str) -> Record:
    """A record payload as written by ``course_grader.kernel.record``; never unpickles code.

    Checked before decoding: the text's size, that it is torch's zip format with uncompressed
    entries only, and their declared sizes; after: every tensor's element count and the number
    of values. RecordRefused (or ValueError) otherwise."""
    import torch
    import zipfile

    if not isinstance(data, str) or len(data) > MAX_RECORD_BYTES:
        raise RecordRefused(f"record larger than {MAX_RECORD_BYTES // 2**20} MB")
    raw = base64.b64decode(data.encode("ascii"), validate=True)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile:
        raise RecordRefused("record not in torch's zip format") from None
    if len(entries) > MAX_VALUES:
        raise RecordRefused("record with too many parts")
    if any(e.compress_type != zipfile.ZIP_STORED for e in entries):
        raise RecordRefused("record with compressed parts")
    if sum(e.file_size for e in entries) > MAX_DECODED_BYTES:
        raise RecordRefused(f"record that unpacks to more than {MAX_DECODED_BYTES // 2**20} MB")
    payload = torch.load(io.BytesIO(raw), weights_only=True, map_location="cpu")
    if not isinstance(payload, dict) or "value" not in payload:
        raise ValueError("record payload is not a dict with a value")
    _check_size(payload)
    payload.pop("error", None)          # the grader's mark, never the kernel's
    if isinstance(payload.get("name"), str):
        payload["name"] = payload["name"][:MAX_NAME_CHARS]
    return payload


def _check_size(payload) -> None:
    """RecordRefused when a tensor claims more than MAX_TENSOR_ELEMENTS elements or the payload
    holds more than MAX_VALUES values (shared sub-lists count each time they are reached)."""
    import torch

    budget = MAX_VALUES
    stack = [(payload, 0)]
    while stack:
        value, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise RecordRefused(f"record with more than {MAX_VALUES:,} values")
        if depth > 100:
            raise RecordRefused("record nested more than 100 levels deep")
        if isinstance(value, torch.Tensor):
            if value.numel() > MAX_TENSOR_ELEMENTS:
                raise RecordRefused(f"record with a tensor of more than {MAX_TENSOR_ELEMENTS:,} elements")
        elif isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend((v, depth + 1) for v in value)


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
            name = name[:MAX_NAME_CHARS]
            try:
                if isinstance(item, dict) and isinstance(item.get("refused"), Refusal):
                    raise RecordRefused(str(item["refused"]))
                payload = decode(item["data"])
                name = str(payload.get("name", name))
            except RecordRefused as e:
                payload = {"error": f"unreadable record ({e})"}
            except Exception as e:  # anything malformed is a record that matches nothing
                payload = {"error": f"unreadable record ({type(e).__name__})"}
            records.append((name, payload))
        else:
            kept.append(out)
    cell.outputs = kept
    return records
