"""Choosing the device (GPU or CPU) that a notebook runs on.

Every notebook must also run on a CPU-only machine, so nothing here ever requires a GPU.
"""

import torch

SUPPORTED_DEVICE_TYPES = ("cpu", "cuda", "mps")


def cuda_available() -> bool:
    """Return True when PyTorch can use an NVIDIA GPU (CUDA)."""
    return torch.cuda.is_available()


def mps_available() -> bool:
    """Return True when PyTorch can use an Apple-silicon GPU (MPS)."""
    mps_backend = getattr(torch.backends, "mps", None)
    return mps_backend is not None and mps_backend.is_available()


def get_device(prefer: str | torch.device | None = None) -> torch.device:
    """Return the device to compute on.

    Without ``prefer``: ``cuda`` when a CUDA GPU is available, else ``mps`` when an Apple GPU is
    available, else ``cpu``.

    Inputs:
    - prefer: force a device, e.g. "cpu", "cuda", "cuda:1" or "mps" (a string or a torch.device).

    Returns a torch.device.

    Raises ValueError when ``prefer`` names a device that this machine does not have, or that is
    not one of cpu / cuda / mps.
    """
    if prefer is None:
        if cuda_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")

    try:
        device = torch.device(prefer)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"get_device(prefer={prefer!r}): not a device name; use 'cpu', 'cuda' or 'mps'."
        ) from err

    if device.type not in SUPPORTED_DEVICE_TYPES:
        raise ValueError(
            f"get_device(prefer={prefer!r}): unsupported device type {device.type!r}; "
            f"use one of {', '.join(SUPPORTED_DEVICE_TYPES)}."
        )
    if device.type == "cuda":
        if not cuda_available():
            raise ValueError(
                f"get_device(prefer={prefer!r}): CUDA is not available on this machine "
                "(no NVIDIA GPU, or a CPU-only PyTorch build). In Colab choose "
                "Runtime > Change runtime type > GPU, or use get_device() / get_device('cpu')."
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(
                f"get_device(prefer={prefer!r}): this machine has only "
                f"{torch.cuda.device_count()} CUDA device(s), numbered from 0."
            )
    if device.type == "mps" and not mps_available():
        raise ValueError(
            f"get_device(prefer={prefer!r}): MPS (Apple-silicon GPU) is not available on this "
            "machine; use get_device() or get_device('cpu')."
        )
    return device


def describe_device(device: str | torch.device) -> str:
    """Return a short human-readable description of ``device``.

    Examples: "cpu (2 threads)", "cuda:0 (NVIDIA A100-SXM4-40GB)", "mps (Apple GPU)".
    """
    device = torch.device(device)
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    if device.type == "cuda":
        index = torch.cuda.current_device() if device.index is None else device.index
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return str(device)
