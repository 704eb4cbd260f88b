"""The checks on *how* a function computes (issue 12: gates in their own cells; issue 11: no blind
spots) and on where a classifier's answers come from: ``python_lines``/``grows`` (loops in any
library), ``forbidden_ops`` (a crash is not a pass, nor a loss of the gate), ``multiply_adds``
(any module), ``predictions_from_own_layers``; the students' copies in ``course_utils.checks``;
label sets the judge loads itself."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import course_utils.checks as student_checks
from course_grader import kernel, protocol
from course_grader.grading import judge, labels
from tests.conftest import needs_mnist


def loop_over_rows(x):
    out = x.new_zeros(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = x[i].sum()
    return out


def numpy_loop(x):
    a = x.numpy()
    out = np.zeros(a.shape[0], dtype=a.dtype)
    for i in range(a.shape[0]):
        out[i] = a[i].sum()
    return torch.from_numpy(out)


def comprehension(x):
    return torch.stack([row.sum() for row in x])


def vectorised(x):
    return x.sum(dim=1)


@pytest.mark.parametrize("measure", [kernel.python_lines, student_checks.python_lines])
def test_python_lines_grow_with_any_loop_and_not_without(measure):
    small, large = torch.ones(2, 3), torch.ones(40, 3)
    for looped in (loop_over_rows, numpy_loop, comprehension):
        assert measure(looped, large) > measure(looped, small) + 2, looped.__name__
    assert measure(vectorised, large) == measure(vectorised, small) == 1


def test_torch_operations_miss_a_numpy_loop_that_python_lines_see():
    small, large = torch.ones(2, 3), torch.ones(40, 3)
    assert not kernel.grows(kernel.count_ops, numpy_loop, (small,), (large,))
    assert kernel.grows(kernel.python_lines, numpy_loop, (small,), (large,))
    assert kernel.grows(kernel.count_ops, loop_over_rows, (small,), (large,))
    assert not kernel.grows(kernel.python_lines, vectorised, (small,), (large,))


def test_grows_takes_keyword_arguments_last():
    def f(x, *, times):
        for _ in range(times):
            x = x + 1
        return x

    assert kernel.grows(kernel.python_lines, f, (torch.ones(1), {"times": 1}), (torch.ones(1), {"times": 9}))
    assert not kernel.grows(kernel.python_lines, f, (torch.ones(1), {"times": 2}), (torch.ones(9), {"times": 2}))


def test_python_lines_restores_an_earlier_tracer_and_raises_what_the_function_raises():
    import sys

    def tracer(frame, event, arg):
        return None

    def boom(x):
        raise ValueError("no")

    sys.settrace(tracer)
    try:
        with pytest.raises(ValueError):
            kernel.python_lines(boom, 1)
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(None)


def conv_by_builtin(x, w):
    return F.conv2d(x, w)


def conv_that_crashes_after_the_builtin(x, w):
    F.conv2d(x, w)
    raise RuntimeError("later")


def conv_by_numpy(x, w):
    return torch.from_numpy(np.zeros((1, 1, 2, 2), dtype=x.numpy().dtype))


def stub(x, w):
    raise NotImplementedError


CALLS = [((torch.randn(1, 1, 4, 4, dtype=torch.float64), torch.randn(1, 1, 3, 3, dtype=torch.float64)), {})]


def test_forbidden_ops_names_the_builtin_even_when_the_call_crashes_later():
    assert kernel.forbidden_ops(conv_by_builtin, CALLS, kernel.CONV_OPS) == ["convolution"]
    assert kernel.forbidden_ops(conv_that_crashes_after_the_builtin, CALLS, kernel.CONV_OPS) == ["convolution"]


def test_forbidden_ops_passes_numpy_code_and_fails_a_stub():
    assert kernel.forbidden_ops(conv_by_numpy, CALLS, kernel.CONV_OPS) == []
    assert kernel.forbidden_ops(stub, CALLS, kernel.CONV_OPS) == ["no call returned"]
    # one call that returns is enough: a function that fails on one input keeps its gate
    flaky = CALLS + [((None, None), {})]
    assert kernel.forbidden_ops(conv_by_numpy, flaky, kernel.CONV_OPS) == []


def conv_by_scipy(x, w):
    """Right values from another library's convolution (scipy.signal.correlate)."""
    from scipy.signal import correlate
    return torch.from_numpy(correlate(x.numpy()[0], w.numpy()[0], mode="valid")[None])


def conv_by_numpy_convolve(x, w):
    return torch.from_numpy(np.convolve(x.numpy().ravel(), w.numpy().ravel(), mode="valid"))


def pad_by_numpy(x, w):
    return torch.from_numpy(np.pad(x.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1))))


def pool_by_scipy(x, w):
    from scipy import ndimage
    return torch.from_numpy(ndimage.maximum_filter(x.numpy(), size=(1, 1, 2, 2))[:, :, ::2, ::2])


def numpy_from_scratch(x, w):
    """Plain numpy that is no built-in: zeros, padding by slicing, a windowed view, einsum."""
    a = x.numpy()
    padded = np.zeros((1, 1, 6, 6), dtype=a.dtype)
    padded[:, :, 1:-1, 1:-1] = a
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))
    return torch.from_numpy(np.einsum("ncijpq,fcpq->nfij", windows, w.numpy()))


def test_forbidden_ops_sees_another_librarys_builtin_by_any_name():
    assert kernel.forbidden_ops(conv_by_scipy, CALLS, kernel.CONV_OPS) == ["scipy.signal._signaltools.correlate"]
    assert [name.rsplit(".", 1)[-1] for name in
            kernel.forbidden_ops(conv_by_numpy_convolve, CALLS, kernel.CONV_OPS)] == ["convolve"]
    assert [name.rsplit(".", 1)[-1] for name in kernel.forbidden_ops(pad_by_numpy, CALLS, r"pad")] == ["pad"]
    assert kernel.forbidden_ops(pool_by_scipy, CALLS, kernel.POOL_OPS) == ["scipy.ndimage._filters.maximum_filter"]
    # what the libraries call inside (np.convolve's multiarray.correlate) and numpy's dispatchers
    # are not listed; plain numpy is no built-in; np.pad is no convolution
    assert kernel.forbidden_ops(numpy_from_scratch, CALLS, kernel.CONV_OPS) == []
    assert kernel.forbidden_ops(numpy_from_scratch, CALLS, kernel.POOL_OPS) == []
    assert kernel.forbidden_ops(pad_by_numpy, CALLS, kernel.CONV_OPS) == []
    assert kernel.forbidden_ops(conv_by_scipy, CALLS, kernel.CONV_OPS, library=r"^$") == []


def test_library_calls_put_back_an_earlier_profiler_even_when_the_call_raises():
    import sys

    def profiler(frame, event, arg):
        return None

    def boom(x, w):
        np.convolve([1.0], [1.0])
        raise ValueError("no")

    sys.setprofile(profiler)
    try:
        assert [n.rsplit(".", 1)[-1] for n in kernel.forbidden_ops(boom, CALLS, kernel.CONV_OPS)] == ["convolve"]
        assert sys.getprofile() is profiler
        with pytest.raises(ValueError):
            student_checks.ops_seen(boom, *CALLS[0][0])
        assert sys.getprofile() is profiler
    finally:
        sys.setprofile(None)


def test_students_ops_seen_lists_the_same_library_calls_as_the_graders_check():
    x, w = CALLS[0][0]
    for fn, pattern in ((conv_by_scipy, kernel.CONV_OPS), (pad_by_numpy, r"pad"), (pool_by_scipy, kernel.POOL_OPS)):
        _, ops = student_checks.ops_seen(fn, x, w)
        library = {op for op in ops if op.startswith(("numpy.", "scipy."))}
        assert sorted(library) == kernel.forbidden_ops(fn, CALLS, pattern), fn.__name__
    _, ops = student_checks.ops_seen(numpy_from_scratch, x, w)
    assert not {op for op in ops if "conv" in op or "correlat" in op or "pad" in op or "_filter" in op}


def test_a_torch_functional_pooling_that_aten_runs_as_a_mean_is_still_seen():
    """F.adaptive_avg_pool2d(x, 1) reaches aten as `mean`, the student's own global average;
    torch.nn.functional's name shows it, called by the student's code or by a module's forward,
    to the grader's check and to the students' ops_seen alike."""
    x = torch.randn(2, 3, 6, 6)
    calls = [((x,), {})]
    by_function = lambda x: F.adaptive_avg_pool2d(x, 1).flatten(1)
    by_module = lambda x: nn.AdaptiveAvgPool2d((1, 1))(x)[:, :, 0, 0]
    by_hand = lambda x: x.mean(dim=(2, 3))
    padded_by_hand = lambda x: F.pad(x, (1, 1, 1, 1)).sum(dim=(2, 3)) / 36
    for fn in (by_function, by_module):
        ops = kernel.aten_ops_used(fn, x)[1]
        assert "mean" in ops and not kernel.forbidden(ops, kernel.POOL_OPS)     # aten alone: nothing
        assert kernel.forbidden_ops(fn, calls, kernel.POOL_OPS) == ["torch.nn.functional.adaptive_avg_pool2d"]
        assert "torch.nn.functional.adaptive_avg_pool2d" in student_checks.ops_seen(fn, x)[1]
    for fn in (by_hand, padded_by_hand):
        assert kernel.forbidden_ops(fn, calls, kernel.POOL_OPS) == []
        assert not {op for op in student_checks.ops_seen(fn, x)[1] if "pool" in op}
    assert kernel.forbidden_ops(padded_by_hand, calls, r"pad") == ["constant_pad_nd", "torch.nn.functional.pad"]


def grad_by_backward(x, w):
    with torch.enable_grad():                  # the gates call it under no_grad
        w = w.detach().requires_grad_(True)
        (x * w).sum().backward()
    return w.grad


def grad_by_autograd_grad(x, w):
    with torch.enable_grad():
        w = w.detach().requires_grad_(True)
        return torch.autograd.grad((x * w).sum(), w)[0]


def grad_by_torch_func(x, w):
    from torch.func import grad
    return grad(lambda v: (x * v).sum())(w)


def grad_by_hand(x, w):
    with torch.no_grad(), torch.enable_grad():  # grad modes are no autograd call
        return x.clone()


AUTOGRAD_CASES = [(grad_by_backward, "autograd: torch._tensor.Tensor.backward"),
                  (grad_by_autograd_grad, "autograd: torch.autograd.grad"),
                  (grad_by_torch_func, "autograd: torch._functorch.apis.grad")]


def test_forbidden_ops_with_autograd_names_each_way_of_asking_autograd_for_a_gradient():
    x, w = torch.randn(1, 1, 3, 3), torch.randn(1, 1, 3, 3)
    for fn, name in AUTOGRAD_CASES:
        with torch.no_grad():
            assert kernel.forbidden_ops(fn, [((x, w), {})], kernel.CONV_OPS, autograd=True) == [name], fn.__name__
            assert kernel.forbidden_ops(fn, [((x, w), {})], kernel.CONV_OPS) == [], fn.__name__
        _, ops = student_checks.ops_seen(fn, x, w)
        assert {op for op in ops if "autograd" in op} == {name}, fn.__name__
    with torch.no_grad():
        assert kernel.forbidden_ops(grad_by_hand, [((x, w), {})], kernel.CONV_OPS, autograd=True) == []
    assert not {op for op in student_checks.ops_seen(grad_by_hand, x, w)[1] if "autograd" in op}


def test_every_helper_docs_authoring_lists_is_in_the_kernel_module():
    """docs/authoring.md names the hidden tests' helpers; notebooks and instructors call them."""
    import re as _re
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    listed = _re.search(r"`course_grader\.kernel`: (.*?);", text, _re.S).group(1)
    names = _re.findall(r"`(\w+)`", listed)
    assert len(names) >= 13 and "forbidden" in names
    assert [n for n in names if not callable(getattr(kernel, n, None))] == []
    assert kernel.forbidden({"convolution", "mm", "im2col"}, kernel.CONV_OPS) == ["convolution", "im2col"]


def test_students_ops_seen_and_count_ops_match_the_graders():
    x, w = CALLS[0][0]
    result, ops = student_checks.ops_seen(conv_by_builtin, x, w)
    assert "convolution" in ops and result.shape == (1, 1, 2, 2)
    assert student_checks.count_ops(vectorised, torch.ones(3, 3)) == kernel.count_ops(vectorised, torch.ones(3, 3))


class FunctionalConv(nn.Module):
    """Two nn.Conv2d of a few channels, then a large convolution run with F.conv2d on a Parameter
    that no nn.Conv2d holds: what counting nn.Conv2d/nn.Linear by hooks used to miss."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(2, 2, 3, padding=1)
        self.hidden = nn.Parameter(torch.randn(256, 2, 5, 5))
        self.fc1, self.fc2 = nn.Linear(256, 8), nn.Linear(8, 10)

    def forward(self, x):
        x = F.relu(F.conv2d(self.c2(self.c1(x)), self.hidden, padding=2))     # 256*2*25 per pixel
        return self.fc2(self.fc1(x.mean(dim=(2, 3))))


def test_multiply_adds_count_any_module():
    reference = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    by_layers = 28 * 28 * 8 * 9 + 14 * 14 * 16 * 8 * 9 + 784 * 32 + 32 * 10
    assert kernel.multiply_adds(reference, torch.zeros(1, 1, 28, 28)) == by_layers
    assert kernel.multiply_adds(FunctionalConv(), torch.zeros(1, 1, 28, 28)) > 10_000_000
    model = FunctionalConv().train()
    kernel.multiply_adds(model, torch.zeros(1, 1, 28, 28))
    assert model.training                                  # the mode is put back


class LookUp(nn.Module):
    """Required layers, but eval-mode answers come from elsewhere (a table, here: class 3)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 10)

    def forward(self, x):
        logits = self.fc(x)
        if not self.training:
            logits = torch.zeros_like(logits)
            logits[:, 3] = 1.0
        return logits


class LogSoftmaxNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 10)

    def forward(self, x):
        return F.log_softmax(self.fc(x), dim=1).squeeze(-1)


def test_predictions_come_from_the_last_layer_that_ran():
    torch.manual_seed(0)
    images = torch.randn(25, 4)
    for honest in (nn.Sequential(nn.Linear(4, 10)), nn.Sequential(nn.Linear(4, 10), nn.Softmax(dim=1)),
                   LogSoftmaxNet()):
        predictions, own = kernel.predictions_from_own_layers(honest, images, batch=10)
        assert own and predictions.shape == (25,), honest
    predictions, own = kernel.predictions_from_own_layers(LookUp(), images, batch=10)
    assert not own and bool((predictions == 3).all())


class NearestNeighbour(nn.Module):
    """Trainable layers, but in eval mode each image's answer is its nearest neighbour's label in
    a table, routed through the last layer (its input solved for, so that the largest output of
    the last layer that ran is that label): passes the last-layer check, not the composition."""

    def __init__(self, table_images, table_labels):
        super().__init__()
        self.table_images, self.table_labels = table_images.reshape(len(table_images), -1), table_labels
        self.features = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(2 * 6 * 6, 10))
        self.out = nn.Linear(10, 10)

    def forward(self, x):
        h = self.features(x)
        if not self.training:
            nearest = torch.cdist(x.reshape(len(x), -1), self.table_images).argmin(1)
            target = F.one_hot(self.table_labels[nearest], 10).float() * 100
            h = torch.linalg.solve(self.out.weight, (target - self.out.bias).T).T
        return self.out(h)


class Residual(nn.Module):
    """An honest network with a residual block after its first layer, batch norm and dropout."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1)
        self.norm, self.drop = nn.BatchNorm2d(4), nn.Dropout(0.5)
        self.fc = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x):
        h = F.relu(self.conv1(x))
        h = h + F.relu(self.norm(self.conv2(h)))
        return self.fc(self.drop(h).flatten(1))


class DebugPrint(nn.Module):
    """Honest, with its first layer also called on one image (a shape printed while debugging)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3)
        self.fc = nn.Linear(3 * 6 * 6, 10)

    def forward(self, x):
        _ = self.conv(x[:1]).shape
        return self.fc(F.relu(self.conv(x)).flatten(1))


class FirstLayerAside(nn.Module):
    """A table that calls its first layer only on something else than the batch."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        self.conv(torch.zeros(2, 1, 8, 8))
        return self.fc(x.flatten(1))


class HookRemover(NearestNeighbour):
    """The nearest-neighbour table, which first removes every hook from its layers."""

    def forward(self, x):
        for module in self.modules():
            module._forward_hooks.clear()
        return super().forward(x)


class Functional(nn.Module):
    """No layer with parameters runs: its weights are used through F.linear."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(10, 64))
        self.unused = nn.Linear(64, 10)

    def forward(self, x):
        return F.linear(x.flatten(1), self.weight)


class RandomInEval(nn.Module):
    """F.dropout without training=self.training: random in eval mode too."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(F.dropout(x.flatten(1), 0.5))


class _ViewAfterConv(nn.Module):
    """A CNN whose forward needs the default layout: x.view after a conv (and a batch norm before
    it, whose running statistics the failed forward has already updated)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.norm = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 14 * 14, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.norm(self.conv(x))), 2)
        return self.fc(x.view(x.size(0), -1))


class _ViewInEvalMode(nn.Module):
    """Trains in any layout; in eval mode its ``x.view`` after the conv needs the default one."""

    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(1, 4, 3, padding=1), nn.Linear(4 * 14 * 14, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc(x.reshape(x.size(0), -1) if self.training else x.view(x.size(0), -1))


def _trained(build, monkeypatch, layouts=None, default_layout_only=False, starts=None):
    """kernel.trained_predictions on small random data (64 training, 32 test images, one epoch),
    with course_utils' loader and fit; ``layouts`` collects, at each fit and at the prediction,
    whether the first conv's weight was channels-last; ``starts``, the model's state at the start
    of each fit."""
    from course_utils import data, train

    def mnist_tensors(train=True, limit=None):
        generator = torch.Generator().manual_seed(1 if train else 2)
        n = limit or 32
        return torch.rand(n, 1, 28, 28, generator=generator), torch.randint(0, 10, (n,), generator=generator)

    def channels_last(model) -> bool:
        """Whether the model's first conv weight is channels-last: the channel the fastest-moving
        index (is_contiguous cannot tell the two layouts of a 1-channel weight apart)."""
        convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
        return bool(convs) and convs[0].weight.stride(1) == 1 and convs[0].weight.stride(3) == convs[0].weight.shape[1]

    def fit(model, loader, **kwargs):
        if layouts is not None:
            layouts.append(("fit", channels_last(model)))
        if starts is not None:
            starts.append({k: v.clone() for k, v in model.state_dict().items()})
        return train.fit(model, loader, **kwargs)

    def predict(model, *args, **kwargs):
        if layouts is not None:
            layouts.append(("predict", channels_last(model)))
        return predict_as_the_grader(model, *args, **kwargs)

    predict_as_the_grader = kernel.predictions_from_own_layers
    monkeypatch.setattr(kernel, "predictions_from_own_layers", predict)
    if default_layout_only:
        monkeypatch.setattr(kernel, "_copy_for_channels_last", lambda model: None)
    return kernel.trained_predictions(build, 10**6, 10**7, mnist_tensors=mnist_tensors, tensor_loader=data.tensor_loader,
                                      fit=fit, epochs=1, train_images=64, noise=0.05, seed=3)


def test_the_grader_trains_a_cnn_channels_last_and_a_forward_that_needs_the_default_layout_as_before(monkeypatch):
    """trained_predictions trains a CNN in the channels-last layout (max pooling is several times
    faster so on a CPU) and predicts in it; a forward that needs the
    default layout fails on the first batch and is trained again from its untouched copy, with
    exactly the predictions it would have had; an MLP is trained as it always was."""
    def sequential():
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(4 * 14 * 14, 10))

    layouts = []
    within, own, predictions = _trained(sequential, monkeypatch, layouts)
    assert within and own and predictions.shape == (32,)
    assert layouts == [("fit", True), ("predict", True)]    # trained and predicted channels-last
    as_default = _trained(sequential, monkeypatch, default_layout_only=True)
    assert torch.equal(predictions, as_default[2])          # the same predictions (here) as the default layout's
    monkeypatch.undo()                                      # (_trained patches again each time)

    layouts, starts, starts_before = [], [], []
    fell_back = _trained(_ViewAfterConv, monkeypatch, layouts, starts=starts)
    assert layouts == [("fit", True), ("fit", False), ("predict", False)]   # the first fit failed at its first batch
    as_before = _trained(_ViewAfterConv, monkeypatch, default_layout_only=True, starts=starts_before)
    assert fell_back[:2] == as_before[:2] == (True, True)
    assert torch.equal(fell_back[2], as_before[2])          # exactly as without the channels-last try:
    assert starts[1].keys() == starts_before[0].keys()      # trained again from the same state (the
    assert all(torch.equal(starts[1][k], starts_before[0][k]) for k in starts[1])   # batch norm's too)
    assert int(starts[1]["norm.num_batches_tracked"]) == 0

    monkeypatch.undo()
    layouts = []                                            # a forward that needs the default layout
    eval_view = _trained(_ViewInEvalMode, monkeypatch, layouts)   # in eval mode only: predicted in it
    assert layouts == [("fit", True), ("predict", True), ("predict", False)] and eval_view[:2] == (True, True)

    assert kernel._copy_for_channels_last(nn.Sequential(nn.Flatten(), nn.Linear(784, 10))) is None
    layouts = []
    mlp = _trained(lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), monkeypatch, layouts)
    assert layouts == [("fit", False), ("predict", False)] and mlp[0] and mlp[1]


def test_predictions_follow_the_first_layer_output():
    """Composition: the graded predictions are read where each image's features went when the
    grader permutes the first layer's output across the batch. An honest network's are its
    ordinary predictions (even with a dropout left on in eval mode); a nearest-neighbour table
    routed through the last layer answers for the wrong images."""
    torch.manual_seed(0)
    table = torch.rand(40, 1, 8, 8)
    table_labels = torch.arange(40) % 10
    noisy = (table + 0.02 * torch.randn(table.shape)).clamp(0, 1)
    for honest in (nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10)),
                   nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(27, 10)),
                   Residual(), DebugPrint()):
        predictions, own = kernel.predictions_from_own_layers(honest, noisy, batch=16, seed=5)
        assert own, honest
        with torch.no_grad():
            assert torch.equal(predictions, honest.eval()(noisy).argmax(1))
    random_in_eval = RandomInEval()
    predictions, own = kernel.predictions_from_own_layers(random_in_eval, noisy, batch=16, seed=5)
    assert own and predictions.shape == (40,) and bool(((predictions >= 0) & (predictions < 10)).all())

    cheat = NearestNeighbour(table, table_labels)
    with torch.no_grad():
        assert torch.equal(cheat.eval()(noisy).argmax(1), table_labels)     # right answers, from the table
    last_layer_only = {}
    hook = cheat.out.register_forward_hook(lambda m, i, o: last_layer_only.setdefault("argmax", o.argmax(1)))
    with torch.no_grad():
        cheat(noisy[:16])
    hook.remove()
    assert torch.equal(last_layer_only["argmax"], table_labels[:16])   # the last-layer check alone passes
    predictions, own = kernel.predictions_from_own_layers(cheat, noisy, batch=16, seed=5)
    assert own                                                         # its last layer did answer...
    assert (predictions == table_labels).float().mean() < 0.3          # ...for other images
    predictions, own = kernel.predictions_from_own_layers(HookRemover(table, table_labels), noisy, batch=16, seed=5)
    assert not own                                    # without the grader's hooks nothing is verified
    for unverifiable in (Functional(), FirstLayerAside()):           # no weighted layer ran on the batch
        predictions, own = kernel.predictions_from_own_layers(unverifiable, noisy, batch=16, seed=5)
        assert not own and predictions.shape == (40,), unverifiable


def _label_file(root, folder: str, labels: list) -> None:
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    (raw / "labels-idx1-ubyte").write_bytes(bytes((0, 0, 8, 1)) + len(labels).to_bytes(4, "big") + bytes(labels))


def test_named_targets_are_loaded_by_the_grader(monkeypatch, tmp_path):
    _label_file(tmp_path, "Four", [0, 1, 2, 1])
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setitem(labels.LABEL_SETS, "four-labels", ("Four", "labels-idx1-ubyte"))
    labels.named.cache_clear()
    known = protocol.Tensor(np.array([0, 1, 2, 1]), "torch.int64")
    expected = {"name": "p", "value": known, "rtol": 0.0, "atol": 0.0, "targets": "four-labels",
                "min_accuracy": 0.75, "at_least": None, "at_most": None}
    right = dict(expected, targets=None)
    assert judge.compare(expected, right) is None
    # the submission's own targets are never read: copying its predictions there gains nothing
    three = protocol.Tensor(np.array([3, 3, 3, 1]), "torch.int64")
    wrong = dict(right, value=three, targets=three)
    assert judge.compare(expected, wrong) == "test accuracy 25.00% is below the required 75.00%"
    labels.named.cache_clear()


def test_an_unknown_or_missing_label_set_is_the_courses_problem(monkeypatch, tmp_path):
    labels.named.cache_clear()
    with pytest.raises(labels.LabelSetError, match="unknown label set"):
        labels.named("no-such-set")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))          # no MNIST there
    with pytest.raises(labels.LabelSetError, match="could not load the label set 'mnist-test'"):
        labels.require({"test_x": [("p", {"targets": "mnist-test"})]})
    labels.named.cache_clear()
    _label_file(tmp_path, "MNIST", [1, 2])                       # the wrong file name: still missing
    with pytest.raises(labels.LabelSetError, match="t10k-labels-idx1-ubyte is missing or not an idx"):
        labels.named("mnist-test")
    expected = {"name": "p", "value": None, "rtol": 0.0, "atol": 0.0, "targets": "mnist-test",
                "min_accuracy": 0.5, "at_least": None, "at_most": None}
    zeros = protocol.Tensor(np.zeros(3, dtype=np.int64), "torch.int64")
    assert "the course's check is broken" in judge.compare(expected, dict(expected, value=zeros))
    labels.named.cache_clear()


@needs_mnist
def test_mnist_test_labels_are_the_data_sets():
    labels.named.cache_clear()
    got = labels.named("mnist-test")
    assert got.shape == (10000,) and got.dtype == "torch.int64" and int(got.values[0]) == 7
