"""Tests for course_utils.device (they run on CPU-only machines too)."""

import pytest
import torch

from course_utils import device as device_module
from course_utils.device import cuda_available, describe_device, get_device


def test_cuda_available_matches_torch():
    assert cuda_available() == torch.cuda.is_available()


def test_prefer_cpu_always_works():
    assert get_device("cpu") == torch.device("cpu")
    assert get_device(torch.device("cpu")) == torch.device("cpu")


def test_default_falls_back_to_cpu_without_gpus(monkeypatch):
    monkeypatch.setattr(device_module, "cuda_available", lambda: False)
    monkeypatch.setattr(device_module, "mps_available", lambda: False)
    assert get_device() == torch.device("cpu")


def test_default_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(device_module, "cuda_available", lambda: False)
    monkeypatch.setattr(device_module, "mps_available", lambda: True)
    assert get_device() == torch.device("mps")
    monkeypatch.setattr(device_module, "cuda_available", lambda: True)
    assert get_device() == torch.device("cuda")


def test_default_is_one_of_the_supported_devices():
    assert get_device().type in ("cpu", "cuda", "mps")


@pytest.mark.parametrize("prefer", ["cuda", "mps"])
def test_unavailable_preference_raises_value_error(monkeypatch, prefer):
    monkeypatch.setattr(device_module, "cuda_available", lambda: False)
    monkeypatch.setattr(device_module, "mps_available", lambda: False)
    with pytest.raises(ValueError, match="not available"):
        get_device(prefer)


@pytest.mark.parametrize("prefer", ["gpu", "not a device", "meta"])
def test_unknown_preference_raises_value_error(prefer):
    with pytest.raises(ValueError):
        get_device(prefer)


def test_describe_cpu():
    torch_threads = torch.get_num_threads()
    assert describe_device("cpu") == f"cpu ({torch_threads} threads)"
    assert describe_device(torch.device("cpu")).startswith("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_describe_cuda_names_the_gpu():
    assert torch.cuda.get_device_name(0) in describe_device("cuda")
