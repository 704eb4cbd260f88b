"""Records are bounded before they are decoded (issue 12.6): a student can make the kernel emit
anything under the record MIME type, and one submission must not take the grader's memory.

Each test feeds a crafted record to the grader's side (``protocol.take_records``, the client's
output hook) and checks it is refused quickly, with its reason, within bounded memory.
"""
from __future__ import annotations

import base64
import io
import time
import tracemalloc
import zipfile

import nbformat
import pytest
import torch

from course_grader import protocol
from course_grader.execution.client import GradingClient, _shorten_error
from course_grader.grading import judge


def _saved(payload) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def _output(data: str, name: str = "a") -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={protocol.RECORD_MIME: {"name": name, "data": data}})


def _taken(data: str, name: str = "a"):
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [_output(data, name)]
    [(got_name, payload)] = protocol.take_records(cell)
    return got_name, payload


def _deflated(raw: bytes, inflate_to: int) -> bytes:
    """``raw`` (a torch.save zip) with its data entry replaced by ``inflate_to`` zero bytes, deflated."""
    source = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as bomb:
        for info in source.infolist():
            content = source.read(info)
            if "/data/" in info.filename:
                bomb.writestr(info.filename, b"\0" * inflate_to, compress_type=zipfile.ZIP_DEFLATED)
            else:
                bomb.writestr(info, content)
    return out.getvalue()


def test_a_compressed_record_is_refused_without_inflating_it():
    raw = _deflated(_saved({"name": "a", "value": torch.zeros(4)}), 64 * 2**20)
    assert len(raw) < 200_000                                  # small on the wire
    tracemalloc.start()
    started = time.monotonic()
    name, payload = _taken(base64.b64encode(raw).decode())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert payload == {"error": "unreadable record (record with compressed parts)"}
    assert time.monotonic() - started < 5 and peak < 20 * 2**20, peak
    assert judge.compare({"name": "a", "value": 1, "rtol": 0, "atol": 0}, payload) == payload["error"]


def test_declared_sizes_are_checked_before_reading(monkeypatch):
    monkeypatch.setattr(protocol, "MAX_DECODED_BYTES", 1000)
    raw = _saved({"name": "a", "value": torch.zeros(1000)})
    _, payload = _taken(base64.b64encode(raw).decode())
    assert payload == {"error": "unreadable record (record that unpacks to more than 0 MB)"}


def test_a_tensor_claiming_more_elements_than_it_has_is_refused():
    view = torch.zeros(1).expand(10**9)                       # one number, any shape
    raw = _saved({"name": "a", "value": view})
    _, payload = _taken(base64.b64encode(raw).decode())
    assert payload["error"].startswith("unreadable record (record with a tensor of more than")


def test_shared_sublists_cannot_blow_up_the_grader():
    value = [0]
    for _ in range(40):                                       # 2**40 items when walked
        value = [value, value]
    raw = _saved({"name": "a", "value": value})
    started = time.monotonic()
    _, payload = _taken(base64.b64encode(raw).decode())
    assert payload["error"].startswith("unreadable record (record with more than")
    assert time.monotonic() - started < 10


def test_too_large_text_is_refused_before_base64_decoding(monkeypatch):
    monkeypatch.setattr(protocol, "MAX_RECORD_BYTES", 100)
    _, payload = _taken("A" * 200)
    assert payload == {"error": "unreadable record (record larger than 0 MB)"}


def test_the_kernel_cannot_set_the_error_or_a_long_name():
    raw = _saved({"name": "x" * 10_000, "value": 1, "error": "hidden test code: record(...)"})
    name, payload = _taken(base64.b64encode(raw).decode(), name="y" * 10_000)
    assert "error" not in payload and payload["value"] == 1
    assert len(name) == protocol.MAX_NAME_CHARS


# ------------------------------------------------------------------ on arrival, in the client

class _Client(GradingClient):
    def __init__(self):                                       # no kernel: only the output hook
        self._bytes_in_cell = {}


@pytest.fixture(autouse=True)
def nbclient_keeps_outputs(monkeypatch):
    """nbclient's own output handling, reduced to keeping the (possibly replaced) display data."""
    from nbclient import NotebookClient

    def keep(self, outs, msg, display_id, cell_index):
        outs.append(nbformat.v4.new_output("display_data", data=msg["content"]["data"]))
    monkeypatch.setattr(NotebookClient, "output", keep)


def _message(data: dict, msg_type: str = "display_data") -> dict:
    return {"msg_type": msg_type, "header": {"msg_type": msg_type},
            "content": {"data": data, "metadata": {}, "transient": {}}}


def _arrive(client, data: dict):
    outs = []
    client.output(outs, _message(data), None, 3)
    return outs


def test_records_past_a_cells_bounds_are_dropped_on_arrival(monkeypatch):
    monkeypatch.setattr(protocol, "MAX_RECORD_BYTES", 4000)
    monkeypatch.setattr(protocol, "MAX_RECORDS_PER_CELL", 2)
    client = _Client()
    small = {protocol.RECORD_MIME: {"name": "ok", "data": base64.b64encode(_saved({"name": "ok", "value": 1})).decode()}}
    big = {protocol.RECORD_MIME: {"name": "big", "data": "A" * 5000}}
    outs = _arrive(client, big) + _arrive(client, small) + _arrive(client, small)
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = outs
    records = protocol.take_records(cell)
    assert [n for n, _ in records] == ["big", "ok", "ok"]
    assert records[0][1] == {"error": "unreadable record (record larger than 0 MB)"}
    assert records[1][1]["value"] == 1
    assert records[2][1] == {"error": "unreadable record (record past the limit of 2 records in one cell)"}
    assert len(str(outs[0])) < 1000                         # the 5000 characters are gone


def test_a_kernel_cannot_forge_the_refusal_text():
    client = _Client()
    forged = {protocol.RECORD_MIME: {"name": "a", "data": "", "refused": "record: hidden test says x = 42"}}
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = _arrive(client, forged)
    [(_, payload)] = protocol.take_records(cell)
    assert payload == {"error": "unreadable record (record not in torch's zip format)"}
    assert "hidden test" not in judge.compare({"name": "a", "value": 1, "rtol": 0, "atol": 0}, payload)


def test_error_outputs_are_kept_but_bounded():
    content = {"ename": "E" * 1000, "evalue": "v" * 100_000, "traceback": ["line " * 1000] * 500}
    _shorten_error(content)
    assert len(content["ename"]) == 200 and len(content["evalue"]) < 2100
    assert len(content["traceback"]) == 50 and all(len(line) <= 2000 for line in content["traceback"])


def test_zero_stride_views_cannot_amplify_a_small_record_into_gigabytes():
    # torch.save keeps an expanded view as it is: 40 views of one float, 10 M elements each,
    # are a few kilobytes on the wire and 1.6 GB once copied out; the cell's budget stops it
    one = torch.tensor([1.5])
    raw = _saved({"name": "a", "value": [one.expand(10_000_000) for _ in range(40)]})
    assert len(raw) < 50_000
    tracemalloc.start()
    _, payload = _taken(base64.b64encode(raw).decode())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert payload == {"error": "unreadable record (records of one cell whose tensors take more than 256 MB)"}
    assert peak < 300 * 2**20, peak


def test_the_tensor_budget_is_shared_by_the_records_of_one_cell(monkeypatch):
    monkeypatch.setattr(protocol, "MAX_CELL_TENSOR_BYTES", 1000)
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [_output(base64.b64encode(_saved({"name": n, "value": torch.zeros(100)})).decode(), n)
                    for n in ("a", "b", "c")]           # 400 bytes each
    got = dict(protocol.take_records(cell))
    assert got["a"]["value"].numel() == 100 and got["b"]["value"].numel() == 100
    assert got["c"] == {"error": "unreadable record (records of one cell whose tensors take more than 0 MB)"}
    other = nbformat.v4.new_code_cell("")                 # the next cell has its own budget
    other.outputs = [_output(base64.b64encode(_saved({"name": "d", "value": torch.zeros(100)})).decode(), "d")]
    assert protocol.take_records(other)[0][1]["value"].numel() == 100
