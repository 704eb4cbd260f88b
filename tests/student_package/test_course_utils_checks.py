"""course_utils.checks, the measures the visible tests use: here the numerical gradient (the op
and line counters are tested with the grader's copies in tests/grader/test_how_checks.py)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from course_utils.checks import figure_content, numeric_grad


def test_numeric_grad_matches_a_known_gradient_and_leaves_x_alone():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, generator=g, dtype=torch.float64)
    upstream = torch.randn(3, 4, generator=g, dtype=torch.float64)
    before = x.clone()
    grad = numeric_grad(lambda t: t ** 3, x, upstream)        # d/dx sum(x^3 * u) = 3 x^2 u
    assert torch.allclose(grad, 3 * x ** 2 * upstream, atol=1e-7)
    assert torch.equal(x, before) and grad.shape == x.shape and grad.dtype == torch.float64


def test_numeric_grad_agrees_with_autograd_through_a_convolution():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 2, 5, 5, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, generator=g, dtype=torch.float64)
    upstream = torch.randn(1, 3, 3, 3, generator=g, dtype=torch.float64)
    F.conv2d(x, w, stride=2, padding=1).backward(upstream)
    numeric = numeric_grad(lambda t: F.conv2d(t, w, stride=2, padding=1), x, upstream)
    assert (numeric - x.grad).abs().max().item() < 1e-7
    wrong = numeric_grad(lambda t: F.conv2d(t, w.flip(2, 3), stride=2, padding=1), x, upstream)
    assert (wrong - x.grad).abs().max().item() > 1e-3       # it tells a wrong gradient apart


def test_figure_content_reads_images_titles_and_suptitle():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    axes[0].imshow([[0.0, 1.0], [2.0, 3.0]])
    axes[0].set_title("first")
    fig.suptitle("two panels")
    axes_with_images, titles, arrays, suptitle = figure_content(fig)
    plt.close(fig)
    assert len(axes_with_images) == 1 and titles == ["first"] and suptitle == "two panels"
    assert arrays[0].tolist() == [[0.0, 1.0], [2.0, 3.0]]
