"""Records round-trip: what ``course_grader.kernel.record`` encodes, the grader reads back as
plain values (``torch.load(weights_only=True)`` reads no other class)."""
from __future__ import annotations

import enum

import numpy as np
import pytest

from course_grader import kernel, protocol
from course_grader.grading import judge


@pytest.fixture(autouse=True)
def as_in_a_grading_kernel(monkeypatch):
    """record() works only where the grader set COURSE_GRADING (test_native_nbgrader.py)."""
    monkeypatch.setenv("COURSE_GRADING", "1")


def round_trip(value):
    payload = {"name": "x", "value": kernel._plain(value), "rtol": 1e-5, "atol": 1e-8, "targets": None,
               "min_accuracy": None, "at_least": None, "at_most": None}
    return protocol.decode(kernel.encode(payload))["value"]


class Colour(enum.IntEnum):
    RED = 3


class Label(str):
    pass


@pytest.mark.parametrize("value, expected, kind", [
    (np.float64(1.5), 1.5, float),          # a float subclass: was pickled as numpy, unreadable
    (np.float32(2.5), 2.5, float),
    (np.int64(7), 7, int),
    (np.bool_(True), True, bool),
    (np.str_("cat"), "cat", str),
    (Colour.RED, 3, int),
    (Label("dog"), "dog", str),
    (1.25, 1.25, float),
    (3, 3, int),
    (False, False, bool),
    (None, None, type(None)),
])
def test_scalars_round_trip_as_plain_python(value, expected, kind):
    back = round_trip(value)
    assert type(back) is kind and back == expected


def test_containers_and_arrays_round_trip():
    back = round_trip({"loss": np.float64(0.25), "shape": (np.int64(2), 3), "values": [np.float32(1.0)],
                       "array": np.arange(3, dtype=np.float64), "z": 1 + 2j})
    assert back["loss"] == 0.25 and type(back["loss"]) is float
    assert back["shape"] == (2, 3) and all(type(v) is int for v in back["shape"])
    assert back["values"] == [1.0] and type(back["values"][0]) is float
    assert isinstance(back["array"], protocol.Tensor) and back["array"].dtype == "torch.float64"
    assert back["array"].values.tolist() == [0.0, 1.0, 2.0] and back["array"].values.dtype == np.float64
    assert back["z"] == ("complex", 1.0, 2.0)


def test_numpy_scalar_matches_a_python_float_reference():
    """A student's np.float64 is judged like the reference's float."""
    expected = {"value": 0.5, "rtol": 1e-5, "atol": 1e-8}
    assert judge.compare(expected, {"value": round_trip(np.float64(0.5))}) is None
    assert judge.compare(expected, {"value": round_trip(np.float64(0.75))}) is not None


def test_dtypes_numpy_lacks_are_recorded_wider():
    import torch
    for dtype, wider in ((torch.float8_e4m3fn, "torch.float32"), (torch.float8_e5m2, "torch.float32"),
                         (torch.complex32, "torch.complex64")):
        back = round_trip(torch.tensor([0.5, 2.0]).to(dtype))
        assert back.dtype == wider and back.values.real.tolist() == [0.5, 2.0]
