"""Records are decoded without torch (``protocol.decode``): torch's zip format read by an unpickler
that knows only tensors, their storages and plain values. What the kernel writes comes back
value for value, and what a student could forge instead (views that reach past their storage,
other classes, a BUILD that rewrites a tensor) is refused with its reason."""
from __future__ import annotations

import base64
import collections
import io
import zipfile

import numpy as np
import pytest
import torch

from course_grader import kernel, protocol


def _decoded(value):
    payload = {"name": "x", "value": value}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return protocol.decode(base64.b64encode(buffer.getvalue()).decode())["value"]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16,
                                   torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8,
                                   torch.bool, torch.complex64, torch.complex128, torch.uint16,
                                   torch.uint32, torch.uint64])
def test_every_dtype_comes_back_value_for_value(dtype):
    source = (torch.arange(-6, 6).reshape(3, 4) * 1.75).to(dtype) if dtype.is_floating_point or dtype.is_complex \
        else torch.arange(12).reshape(3, 4).to(dtype)
    got = _decoded(source)
    assert isinstance(got, protocol.Tensor) and got.dtype == str(dtype) and got.shape == (3, 4)
    expected = source.to(torch.complex128 if dtype.is_complex else torch.float64).numpy() \
        if dtype != torch.bool else source.numpy()
    assert np.array_equal(got.values.astype(expected.dtype), expected)
    assert got.is_floating_point() == dtype.is_floating_point and got.is_complex() == dtype.is_complex


@pytest.mark.parametrize("view", [
    lambda: torch.arange(12.0).reshape(3, 4).t(),            # transposed
    lambda: torch.arange(12.0)[3:9],                         # an offset into its storage
    lambda: torch.arange(24.0).reshape(2, 3, 4)[:, ::2, 1:],  # strided
    lambda: torch.tensor([1.5]).expand(4, 3),                # zero strides
    lambda: torch.empty(0, 5),
    lambda: torch.tensor(2.5),                               # no dimensions
])
def test_views_that_torch_save_writes_as_they_are_come_back_equal(view):
    source = view()
    got = _decoded(source)
    assert got.shape == tuple(source.shape) and np.array_equal(got.values, source.numpy())


def test_plain_values_and_containers_come_back():
    value = {"a": [1, 2.5, None, True, "text", 10**30], "b": (3, (4,)), "c": {"d": torch.ones(2)}}
    got = _decoded(value)
    assert got["a"] == [1, 2.5, None, True, "text", 10**30] and got["b"] == (3, (4,))
    assert got["c"]["d"].values.tolist() == [1.0, 1.0]


def test_what_kernel_record_writes_decodes_without_torch():
    import subprocess
    import sys
    payload = {"name": "x", "value": kernel._plain([torch.ones(2, 3), np.arange(3), 1.5]), "rtol": 1e-5}
    text = kernel.encode(payload)
    code = ("import sys; from course_grader import protocol; "
            "p = protocol.decode(sys.stdin.read()); v = p['value']; "
            "print(v[0].shape, v[0].dtype, v[1].values.tolist(), v[2], 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["(2,", "3)", "torch.float32", "[0,", "1,", "2]", "1.5", "False"], result.stderr


# --- forged records ---------------------------------------------------------------------------

class _Storage:
    """A storage reference as torch.save writes it (its persistent id)."""

    def __init__(self, kind, key: str, numel: int):
        self.kind, self.key, self.numel = kind, key, numel


class _Rebuild:
    """Pickles as ``torch._utils._rebuild_tensor_v2(storage, *args)`` (plus ``state`` for BUILD)."""

    def __init__(self, storage, *args, state=None):
        self.storage, self.args, self.state = storage, args, state

    def __reduce__(self):
        reduced = (torch._utils._rebuild_tensor_v2, (self.storage, *self.args))
        return reduced + ((self.state,) if self.state is not None else ())


class _Pickler:
    def __new__(cls, file):
        import pickle

        class P(pickle.Pickler):
            def persistent_id(self, obj):
                if isinstance(obj, _Storage):
                    return ("storage", obj.kind, obj.key, "cpu", obj.numel)
                return None
        return P(file, protocol=2)


def _forged(value, storages: dict, byteorder: bytes = b"little") -> str:
    """A record in torch's zip layout whose data.pkl pickles ``{"name", "value": value}``."""
    pkl = io.BytesIO()
    _Pickler(pkl).dump({"name": "x", "value": value})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", pkl.getvalue())
        archive.writestr("archive/byteorder", byteorder)
        for key, data in storages.items():
            archive.writestr(f"archive/data/{key}", data)
    return base64.b64encode(out.getvalue()).decode()


FOUR = {"0": np.arange(4, dtype=np.float32).tobytes()}


def _tensor(offset, size, stride, **kw):
    return _Rebuild(_Storage(torch.FloatStorage, "0", 4), offset, size, stride, False, collections.OrderedDict(), **kw)


def test_a_forged_tensor_inside_its_storage_is_read():
    got = protocol.decode(_forged(_tensor(1, (2,), (2,)), FOUR))["value"]
    assert got.values.tolist() == [1.0, 3.0]


@pytest.mark.parametrize("offset, size, stride", [
    (4, (1,), (1,)),                  # starts past the end
    (0, (5,), (1,)),                  # runs past the end
    (0, (2, 2), (2, 3)),              # its last element is past the end
    (0, (1 << 40,), (0,)),            # more elements than any record may hold
    (-1, (1,), (1,)),
    (0, (2,), (-1,)),
    (0, (2.0,), (1,)),
    (0, (2, 2), (1,)),                # size and stride disagree
])
def test_a_forged_tensor_that_reaches_outside_its_storage_is_refused(offset, size, stride):
    with pytest.raises(protocol.RecordRefused):
        protocol.decode(_forged(_tensor(offset, size, stride), FOUR))


def test_a_build_that_rewrites_a_tensor_is_refused():
    # the dtype printed in messages could otherwise carry any text
    forged = _tensor(0, (2,), (1,), state=(None, {"dtype": "hidden test source", "values": "x"}))
    with pytest.raises(protocol.RecordRefused, match="malformed tensor"):
        protocol.decode(_forged(forged, FOUR))


class _Call:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


@pytest.mark.parametrize("value", [
    _Call(eval, "1"),
    _Call(collections.OrderedDict, [("a", 1)]),               # an ordered dict with contents
    _Call(np.ones, 3),
    _Storage(torch.FloatStorage, "0", 4),                      # a bare storage as a value
    torch.FloatStorage,
    set([1, 2]),
    b"bytes",
])
def test_anything_but_tensors_and_plain_values_is_refused(value):
    with pytest.raises(protocol.RecordRefused):
        protocol.decode(_forged(value, FOUR))


def test_missing_storage_and_big_endian_records_are_refused():
    with pytest.raises(protocol.RecordRefused, match="malformed tensor"):
        protocol.decode(_forged(_tensor(0, (2,), (1,)), {}))
    with pytest.raises(protocol.RecordRefused, match="big-endian"):
        protocol.decode(_forged(_tensor(0, (2,), (1,)), FOUR, byteorder=b"big"))


def test_decoded_tensors_travel_to_batch_workers():
    # the grader pickles reference records to its --jobs workers (trusted, with its own pickle)
    import pickle
    tensor = _decoded(torch.arange(6.0).reshape(2, 3))
    back = pickle.loads(pickle.dumps({"r": [("x", {"value": tensor})]}))
    got = back["r"][0][1]["value"]
    assert isinstance(got, protocol.Tensor) and got.dtype == "torch.float32" and got.values.tolist() == tensor.values.tolist()
