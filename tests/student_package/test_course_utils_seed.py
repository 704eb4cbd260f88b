"""Tests for course_utils.seed."""

import random

import numpy as np
import torch

from course_utils.seed import seed_everything


def _draw_from_every_generator():
    return (
        random.random(),
        np.random.rand(3).tolist(),
        torch.rand(3).tolist(),
        torch.nn.Linear(4, 2).weight.detach().clone(),
    )


def test_same_seed_gives_same_numbers():
    seed_everything(123)
    first = _draw_from_every_generator()
    seed_everything(123)
    second = _draw_from_every_generator()
    assert first[:3] == second[:3]
    assert torch.equal(first[3], second[3])


def test_different_seeds_give_different_numbers():
    seed_everything(1)
    first = _draw_from_every_generator()
    seed_everything(2)
    second = _draw_from_every_generator()
    assert first[0] != second[0]
    assert first[1] != second[1]
    assert first[2] != second[2]
    assert not torch.equal(first[3], second[3])


def test_default_seed_is_zero():
    seed_everything()
    default = torch.rand(4)
    seed_everything(0)
    assert torch.equal(default, torch.rand(4))
