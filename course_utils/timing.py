"""Small helpers for timing code honestly on CPU and GPU."""

import torch


def synchronize(device: str | torch.device | None) -> None:
    """Wait until all queued work on ``device`` has finished.

    GPU kernels run asynchronously: without this, a timer stopped right after a GPU call measures
    only the time to queue the work. Call it before reading the clock, on both sides of the timed
    code. On a CPU (or ``device=None``) it does nothing; on an Apple GPU it waits for MPS.
    """
    if device is None:
        return
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


_SMALL_UNITS = (("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3))


def format_seconds(seconds: float) -> str:
    """Format a duration with three significant digits and a fitting unit.

    Examples: 0.00123 -> "1.23 ms", 4.5 -> "4.5 s", 2.5e-7 -> "250 ns", 75.3 -> "1 min 15.3 s".
    Raises ValueError for a negative duration.
    """
    seconds = float(seconds)
    if seconds < 0:
        raise ValueError(f"format_seconds: a duration cannot be negative, got {seconds}")
    if seconds == 0:
        return "0 s"
    if seconds >= 60:
        minutes, rest = divmod(round(seconds, 1), 60)
        return f"{int(minutes)} min {rest:.1f} s"
    for unit, size in _SMALL_UNITS:
        value = float(f"{seconds / size:.3g}")  # rounded to three significant digits
        if value < 1000:
            return f"{value:g} {unit}"
    return f"{float(f'{seconds:.3g}'):g} s"
