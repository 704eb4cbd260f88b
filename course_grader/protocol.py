"""The one channel from the student's kernel to the grader: records.

A hidden test calls ``course_grader.kernel.record(name, value, ...)`` in the kernel (untrusted);
it becomes a display output of MIME type ``RECORD_MIME``::

    {RECORD_MIME: {"name": <str>, "data": <base64 of torch.save(payload)>}}

where ``payload`` is a ``Record``. The grader (trusted) takes those outputs off the executed cell
(``take_records``) and decodes them without torch (``decode``): torch's zip format is read with an
unpickler that knows only tensors, ordered dicts and plain values, so it never unpickles code, and
each tensor arrives as a ``Tensor`` (a numpy array and torch's dtype name). Whatever arrives is
data to compare, never a verdict: anything malformed becomes a record with an ``error`` that
matches nothing.

The encoder runs in the kernel, so it lives in ``inside/kernel.py`` (sent there as source text);
this module is how everything outside ``inside/`` reaches it.
"""
from __future__ import annotations

import base64
import io
import math
import pickle
import zipfile
from typing import Any, TypedDict

from .inside.kernel import RECORD_MIME, encode

__all__ = ["RECORD_MIME", "Record", "RecordRefused", "Tensor", "encode", "decode", "take_records", "is_record",
           "dump_records", "load_records",
           "MAX_CELL_OUTPUT_BYTES", "MIN_OUTPUT_BYTES", "MAX_RECORD_BYTES", "MAX_CELL_RECORD_BYTES",
           "MAX_RECORDS_PER_CELL", "MAX_DECODED_BYTES", "MAX_TENSOR_ELEMENTS", "MAX_VALUES", "MAX_NAME_CHARS", "MAX_CELL_TENSOR_BYTES"]

#: Largest amount of output text (not records) one cell keeps; the rest is dropped with a notice.
MAX_CELL_OUTPUT_BYTES = 200_000
#: What one output counts against that at least, whatever it holds: about what it takes as JSON in
#: the saved notebook and as markup in the feedback page (a loop of ``display(i)`` would otherwise
#: keep tens of thousands of one-character outputs: at most 2,000 so)
MIN_OUTPUT_BYTES = 100
#: Bounds on records, enforced before anything is decoded (a record comes from the untrusted
#: kernel): one record's base64 text, all of one cell's, their number per cell, the bytes its
#: zip may unpack to (only uncompressed entries are read: a compressed one could inflate to
#: gigabytes), the elements of one tensor (a zero-stride view of one number can claim any
#: shape), the values (list items, dict entries, tensors) in one record, and the bytes the
#: tensors of one cell's records take once decoded (each is copied out of its storage: views
#: with zero strides would otherwise turn a few kilobytes of record into gigabytes).
MAX_RECORD_BYTES = 64 * 1024 * 1024
MAX_CELL_RECORD_BYTES = 256 * 1024 * 1024
MAX_RECORDS_PER_CELL = 10_000
MAX_DECODED_BYTES = 256 * 1024 * 1024
MAX_TENSOR_ELEMENTS = 50_000_000
MAX_VALUES = 1_000_000
MAX_CELL_TENSOR_BYTES = 256 * 1024 * 1024
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


class Tensor:
    """A recorded tensor as the grader holds it, without torch: ``values`` (a numpy array of the
    tensor's shape; bfloat16 values as float32) and ``dtype``, torch's name for its dtype
    (``"torch.float32"``)."""

    __slots__ = ("values", "dtype")

    def __init__(self, values, dtype: str):
        self.values, self.dtype = values, dtype

    @property
    def shape(self) -> tuple:
        return tuple(self.values.shape)

    def numel(self) -> int:
        return int(self.values.size)

    def dim(self) -> int:
        return self.values.ndim

    def is_floating_point(self) -> bool:
        return self.dtype in _FLOATING

    def is_complex(self) -> bool:
        return self.dtype in ("torch.complex64", "torch.complex128")

    def item(self):
        """The one value of a one-element tensor, as a Python number or bool."""
        return self.values.reshape(-1)[0].item()

    def __repr__(self) -> str:
        return f"Tensor({self.values!r}, dtype={self.dtype})"

    def __reduce__(self):
        # the grader's own pickling (a batch sends the reference records to its workers)
        return Tensor, (self.values, self.dtype)

    def __setstate__(self, state):
        # pickle's BUILD would otherwise set ``values`` or ``dtype`` to anything a record holds
        raise RecordRefused("record with a malformed tensor")


#: torch's storage classes in a saved tensor, and the dtype (torch's name, numpy's) of each
_STORAGES = {
    "DoubleStorage": ("torch.float64", "<f8"), "FloatStorage": ("torch.float32", "<f4"),
    "HalfStorage": ("torch.float16", "<f2"), "BFloat16Storage": ("torch.bfloat16", "<u2"),
    "LongStorage": ("torch.int64", "<i8"), "IntStorage": ("torch.int32", "<i4"),
    "ShortStorage": ("torch.int16", "<i2"), "CharStorage": ("torch.int8", "i1"),
    "ByteStorage": ("torch.uint8", "u1"), "BoolStorage": ("torch.bool", "?"),
    "ComplexDoubleStorage": ("torch.complex128", "<c16"), "ComplexFloatStorage": ("torch.complex64", "<c8"),
}
#: dtypes that torch saves as untyped storage plus a dtype (``_rebuild_tensor_v3``)
_V3_DTYPES = {"uint16": "<u2", "uint32": "<u4", "uint64": "<u8"}
_FLOATING = frozenset({"torch.float64", "torch.float32", "torch.float16", "torch.bfloat16"})


class _Storage:
    def __init__(self, dtype: tuple | None):
        self.dtype = dtype          # (torch name, numpy code), None for untyped


class _Dtype:
    def __init__(self, name: str):
        self.name = name


class _RecordUnpickler(pickle.Unpickler):
    """Reads torch.save's ``data.pkl``: only tensors (``_rebuild_tensor_v2``/``_v3``), their
    storages, ordered dicts (a tensor's hooks) and the plain values pickle builds itself."""

    def __init__(self, file, archive: zipfile.ZipFile, prefix: str, budget: list):
        super().__init__(file)
        self.archive, self.prefix, self.read_bytes, self.budget = archive, prefix, 0, budget

    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return self._rebuild_v2
        if module == "torch._utils" and name == "_rebuild_tensor_v3":
            return self._rebuild_v3
        if module == "collections" and name == "OrderedDict":
            return _ordered_dict
        if module == "torch" and name in _STORAGES:
            return _Storage(_STORAGES[name])
        if module == "torch.storage" and name == "UntypedStorage":
            return _Storage(None)
        if module == "torch" and name in _V3_DTYPES:
            return _Dtype(name)
        raise RecordRefused("record with a value of another type than tensors, numbers, texts and containers")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _Storage) and isinstance(pid[2], str) and pid[2].isalnum()):
            raise RecordRefused("record with a malformed tensor")
        try:
            data = self.archive.read(f"{self.prefix}data/{pid[2]}")
        except KeyError:
            raise RecordRefused("record with a malformed tensor") from None
        self.read_bytes += len(data)
        if self.read_bytes > MAX_DECODED_BYTES:
            raise RecordRefused(f"record that unpacks to more than {MAX_DECODED_BYTES // 2**20} MB")
        return pid[1], data

    def _rebuild_v2(self, storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
        kind, data = storage if isinstance(storage, tuple) and len(storage) == 2 else (None, None)
        if not isinstance(kind, _Storage) or kind.dtype is None:
            raise RecordRefused("record with a malformed tensor")
        return _tensor(data, kind.dtype, offset, size, stride, self.budget)

    def _rebuild_v3(self, storage, offset, size, stride, requires_grad=False, hooks=None, dtype=None, metadata=None):
        kind, data = storage if isinstance(storage, tuple) and len(storage) == 2 else (None, None)
        if not isinstance(kind, _Storage) or not isinstance(dtype, _Dtype):
            raise RecordRefused("record with a tensor of a type the grader does not compare")
        return _tensor(data, (f"torch.{dtype.name}", _V3_DTYPES[dtype.name]), offset, size, stride, self.budget)


def _ordered_dict(*args):
    if args:
        raise RecordRefused("record with a malformed tensor")
    return {}


def _tensor(data: bytes, dtype: tuple, offset, size, stride, budget: list) -> Tensor:
    """The tensor of ``size`` and ``stride`` (in elements) at ``offset`` in ``data``, copied out;
    RecordRefused unless every element it names lies inside ``data`` and its bytes fit in what is
    left of ``budget`` (``[bytes]``, the cell's ``MAX_CELL_TENSOR_BYTES``, counted down)."""
    import numpy as np

    torch_name, code = dtype
    itemsize = np.dtype(code).itemsize
    ints = (offset, *size, *stride) if isinstance(size, tuple) and isinstance(stride, tuple) else (None,)
    if (len(size) != len(stride) or len(size) > 64
            or not all(type(v) is int and 0 <= v < 2**62 for v in ints)):
        raise RecordRefused("record with a malformed tensor")
    count = math.prod(size)
    if count > MAX_TENSOR_ELEMENTS:
        raise RecordRefused(f"record with a tensor of more than {MAX_TENSOR_ELEMENTS:,} elements")
    budget[0] -= count * (4 if torch_name == "torch.bfloat16" else itemsize)   # bfloat16: as float32
    if budget[0] < 0:
        raise RecordRefused(f"records of one cell whose tensors take more than "
                            f"{MAX_CELL_TENSOR_BYTES // 2**20} MB")
    available = len(data) // itemsize
    last = offset + sum((n - 1) * st for n, st in zip(size, stride)) if count else offset
    if count and last >= available:
        raise RecordRefused("record with a malformed tensor")
    flat = np.frombuffer(data, dtype=code, count=available)
    values = (np.lib.stride_tricks.as_strided(flat[offset:] if count else flat[:0], shape=size,
                                              strides=tuple(st * itemsize for st in stride))
              if count else np.zeros(size, dtype=code))
    values = np.array(values, dtype=np.dtype(code).newbyteorder("="), copy=True)
    if torch_name == "torch.bfloat16":          # the high half of a float32
        values = (values.astype(np.uint32) << 16).view(np.float32)
    return Tensor(values, torch_name)


def decode(data: str, budget: list | None = None) -> Record:
    """A record payload as written by ``course_grader.kernel.record``; never unpickles code and
    never imports torch.

    Checked before decoding: the text's size, that it is torch's zip format with uncompressed
    entries only, and their declared sizes; while: only tensors and plain values, each tensor's
    element count and that it lies inside its storage; after: the number of values.
    RecordRefused (or ValueError) otherwise. budget: ``[bytes]`` the decoded tensors may take,
    shared by the records of one cell (``take_records``); counted down."""
    budget = [MAX_CELL_TENSOR_BYTES] if budget is None else budget
    if not isinstance(data, str) or len(data) > MAX_RECORD_BYTES:
        raise RecordRefused(f"record larger than {MAX_RECORD_BYTES // 2**20} MB")
    raw = base64.b64decode(data.encode("ascii"), validate=True)
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        entries = archive.infolist()
    except zipfile.BadZipFile:
        raise RecordRefused("record not in torch's zip format") from None
    if len(entries) > MAX_VALUES:
        raise RecordRefused("record with too many parts")
    if any(e.compress_type != zipfile.ZIP_STORED for e in entries):
        raise RecordRefused("record with compressed parts")
    if sum(e.file_size for e in entries) > MAX_DECODED_BYTES:
        raise RecordRefused(f"record that unpacks to more than {MAX_DECODED_BYTES // 2**20} MB")
    pickles = [e.filename for e in entries if e.filename.endswith("/data.pkl") and e.filename.count("/") == 1]
    if len(pickles) != 1:
        raise RecordRefused("record not in torch's zip format")
    prefix = pickles[0][: -len("data.pkl")]
    order = [e.filename for e in entries if e.filename == prefix + "byteorder"]
    if order and archive.read(order[0]) != b"little":
        raise RecordRefused("record in big-endian byte order")
    payload = _RecordUnpickler(io.BytesIO(archive.read(pickles[0])), archive, prefix, budget).load()
    if not isinstance(payload, dict) or "value" not in payload:
        raise ValueError("record payload is not a dict with a value")
    _check_size(payload)
    payload.pop("error", None)          # the grader's mark, never the kernel's
    if isinstance(payload.get("name"), str):
        payload["name"] = payload["name"][:MAX_NAME_CHARS]
    return payload


_PLAIN = (Tensor, str, int, float, bool, complex, type(None))


def _check_size(payload) -> None:
    """RecordRefused when the payload holds more than MAX_VALUES values (shared sub-lists count
    each time they are reached), is nested more than 100 levels deep or holds anything but
    ``Tensor``s, plain values, lists, tuples and dicts."""
    budget = MAX_VALUES
    stack = [(payload, 0)]
    while stack:
        value, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise RecordRefused(f"record with more than {MAX_VALUES:,} values")
        if depth > 100:
            raise RecordRefused("record nested more than 100 levels deep")
        if type(value) is dict:
            stack.extend((v, depth + 1) for v in (*value.keys(), *value.values()))
        elif type(value) in (list, tuple):
            stack.extend((v, depth + 1) for v in value)
        elif type(value) not in _PLAIN:
            raise RecordRefused("record with a value of another type than tensors, numbers, texts and containers")


def dump_records(records: dict) -> bytes:
    """``{test id: [(record name, Record)]}`` (decoded records) as JSON bytes, for the reference
    cache: tensors as their dtype, shape and base64 bytes; tuples, non-text keys and numbers
    JSON lacks (NaN, infinities, complex) tagged, so that ``load_records`` gives the same back."""
    import json

    def plain(value):
        if isinstance(value, Tensor):
            return {"tensor": [value.dtype, list(value.shape), str(value.values.dtype),
                               base64.b64encode(value.values.tobytes()).decode("ascii")]}
        if isinstance(value, tuple):
            return {"tuple": [plain(v) for v in value]}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {"dict": [[plain(k), plain(v)] for k, v in value.items()]}
        if isinstance(value, float) and not math.isfinite(value):
            return {"float": repr(value)}
        if isinstance(value, complex):
            return {"complex": [plain(value.real), plain(value.imag)]}
        return value

    return json.dumps({test: [[name, plain(record)] for name, record in recs]
                       for test, recs in records.items()}).encode()


def load_records(data: bytes) -> dict:
    """What ``dump_records`` wrote."""
    import json

    import numpy as np

    def back(value):
        if isinstance(value, list):
            return [back(v) for v in value]
        if not isinstance(value, dict):
            return value
        (tag, inner), = value.items()
        if tag == "tensor":
            dtype, shape, code, data = inner
            return Tensor(np.frombuffer(base64.b64decode(data), dtype=code).reshape(shape).copy(), dtype)
        if tag == "tuple":
            return tuple(back(v) for v in inner)
        if tag == "dict":
            return {back(k): back(v) for k, v in inner}
        if tag == "float":
            return float(inner)
        if tag == "complex":
            return complex(back(inner[0]), back(inner[1]))
        raise ValueError(f"unknown tag {tag!r}")

    return {test: [(name, back(record)) for name, record in recs]
            for test, recs in json.loads(data).items()}


def is_record(data: dict) -> bool:
    """Whether a display output's ``data`` (MIME type -> content) is a record."""
    return RECORD_MIME in data


def take_records(cell) -> list[tuple[str, Record]]:
    """Remove the record outputs from ``cell`` and return them decoded, in order."""
    records, kept, budget = [], [], [MAX_CELL_TENSOR_BYTES]
    for out in cell.get("outputs", []):
        data = out.get("data", {}) if out.get("output_type") in ("display_data", "execute_result") else {}
        if is_record(data):
            item = data[RECORD_MIME]
            name = str(item.get("name", "?")) if isinstance(item, dict) else "?"
            name = name[:MAX_NAME_CHARS]
            try:
                if isinstance(item, dict) and isinstance(item.get("refused"), Refusal):
                    raise RecordRefused(str(item["refused"]))
                payload = decode(item["data"], budget)
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
