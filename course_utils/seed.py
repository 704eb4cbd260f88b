"""Seeding every random number generator a notebook uses, in one call."""

import random

import numpy as np
import torch


def seed_everything(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy's global generator and PyTorch (CPU and every CUDA device).

    After ``seed_everything(s)``, code that draws from these generators (weight initialization,
    ``torch.randn``, shuffling with the global generator, ``np.random``, ``random``) gives the same
    numbers every time it runs. This does not switch on PyTorch's deterministic algorithms, so
    some GPU kernels may still differ in the last bits from run to run.

    Inputs:
    - seed: an integer in [0, 2**32 - 1].
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
