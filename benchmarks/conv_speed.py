"""The reference conv2d_im2col against torch's F.conv2d, one thread.

    .venv/bin/python benchmarks/conv_speed.py

Input (64, 8, 28, 28), filters (16, 8, 3, 3), padding 1, float32; forward, and forward +
backward (gradients of input and weights through autograd). Aim: within 3x of F.conv2d forward
and 6x forward + backward. Timed with torch.utils.benchmark (median of adaptive runs).
"""
from __future__ import annotations

import _common  # noqa: F401  (sets up paths)
import torch
import torch.nn.functional as F
from torch.utils import benchmark

from _common import reference_namespace, table


def main() -> None:
    torch.set_num_threads(1)
    ns = reference_namespace("conv_from_scratch", "conv2d_im2col")
    conv2d_im2col = ns["conv2d_im2col"]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 8, 28, 28, generator=g)
    w = torch.randn(16, 8, 3, 3, generator=g)
    b = torch.randn(16, generator=g)
    assert torch.allclose(conv2d_im2col(x, w, b, 1, 1), F.conv2d(x, w, b, 1, 1), atol=1e-4)

    def forward(fn):
        return lambda: fn(x, w, b, 1, 1)

    xg, wg, bg = (t.clone().requires_grad_() for t in (x, w, b))

    def forward_backward(fn):
        def step():
            out = fn(xg, wg, bg, 1, 1)
            out.sum().backward()
            xg.grad = wg.grad = bg.grad = None
        return step

    rows = []
    for label, make in (("forward", forward), ("forward+backward", forward_backward)):
        times = {}
        for name, fn in (("conv2d_im2col", conv2d_im2col), ("F.conv2d", F.conv2d)):
            timer = benchmark.Timer(stmt="f()", globals={"f": make(fn)}, num_threads=1)
            times[name] = timer.blocked_autorange(min_run_time=1.0).median
        ratio = times["conv2d_im2col"] / times["F.conv2d"]
        aim = 3 if label == "forward" else 6
        rows.append([label, f"{1e3 * times['conv2d_im2col']:.2f}", f"{1e3 * times['F.conv2d']:.2f}",
                     f"{ratio:.2f}x", f"<= {aim}x", "ok" if ratio <= aim else "MISSED"])
    print(f"torch {torch.__version__}, 1 thread, x (64, 8, 28, 28), w (16, 8, 3, 3), padding 1")
    print(table(["pass", "im2col ms", "F.conv2d ms", "ratio", "aim", ""], rows))


if __name__ == "__main__":
    main()
