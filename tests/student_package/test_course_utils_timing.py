"""Tests for course_utils.timing."""

import pytest
import torch

from course_utils.timing import format_seconds, synchronize


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (0.00123, "1.23 ms"),
        (4.5, "4.5 s"),
        (1.0, "1 s"),
        (0.5, "500 ms"),
        (2.5e-7, "250 ns"),
        (3.21e-5, "32.1 µs"),
        (0.9996, "1 s"),  # rounds up into the next unit, not "1e+03 ms"
        (75.3, "1 min 15.3 s"),
        (0, "0 s"),
    ],
)
def test_format_seconds(seconds, expected):
    assert format_seconds(seconds) == expected


def test_format_seconds_rejects_negative():
    with pytest.raises(ValueError):
        format_seconds(-1.0)


@pytest.mark.parametrize("device", [None, "cpu", torch.device("cpu")])
def test_synchronize_is_a_no_op_on_cpu(device):
    assert synchronize(device) is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_synchronize_on_cuda():
    torch.ones(10, device="cuda").sum()
    synchronize("cuda")


@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda", 0)])
def test_synchronize_waits_for_cuda(monkeypatch, device):
    """On a CUDA device it calls torch.cuda.synchronize with that device (a stand-in here)."""
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *args: calls.append(args))
    synchronize(device)
    assert calls == [(torch.device(device),)]


def test_synchronize_waits_for_mps(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.mps, "synchronize", lambda: calls.append("mps"))
    synchronize("mps")
    assert calls == ["mps"]
