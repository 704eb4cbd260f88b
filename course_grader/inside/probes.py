"""What hidden tests measure about a student's function, model or figure, in one call each, so
that test cells hold calls and records instead of pasted helpers.

    from course_grader.probes import outcome, hooks_left, structure
    record("pad2d: float32 input gives a float32 output", outcome(lambda: pad2d(x, 1)))
    record("capture_activations: hooks left afterwards", hooks_left(net))

During grading the guard installs this file, fresh before every test cell, as the module
``course_grader.probes`` (next to ``course_grader.kernel``), so it imports only the standard
library, torch, numpy and IPython.
"""
from __future__ import annotations

import re

from .kernel import figure_content, record


def kind_of(value):
    """A short description of a result's type: a tensor's dtype (``"torch.float32"``), a list
    as ``["list", <each item's type name, a tuple's as a list of its items' type names>]``, or
    the type name (``"int"``, ``"float"``, ``"NoneType"``)."""
    import torch

    if isinstance(value, torch.Tensor):
        return str(value.dtype)
    if isinstance(value, list):
        return ["list"] + [[type(v).__name__ for v in item] if isinstance(item, tuple) else type(item).__name__
                           for item in value]
    return type(value).__name__


def outcome(call):
    """``kind_of(call())``, or ``"raised <ExceptionType>"``: one function that raises fails only
    its own record, never the rest of the cell."""
    try:
        result = call()
    except Exception as error:
        return f"raised {type(error).__name__}"
    return kind_of(result)


def gradient_mode_kept(call):
    """``(call(), whether the caller's gradient mode was as before after each of two calls)``:
    ``call`` is made with gradients on (as a notebook's cells run), then once more inside
    ``torch.no_grad()`` (a caller that switched them off); after each, gradients must be as they
    were before it (on after the first, still off after the second) and inference mode off, as
    ``with torch.no_grad():``, ``@torch.no_grad()``, ``with torch.inference_mode():`` or a mode
    put back in a ``finally`` block leave them. The first call's result is returned. Gradients
    are switched on again afterwards, whatever the calls left (also when the first raises), so
    that a function that leaves the wrong mode loses this record alone; a second call that raises
    counts as a mode not kept."""
    import torch

    torch.set_grad_enabled(True)
    try:
        result = call()
    finally:
        kept = torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
        torch.set_grad_enabled(True)
    try:
        with torch.no_grad():
            call()
            kept = kept and not torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
    except Exception:
        kept = False
    finally:
        torch.set_grad_enabled(True)
    return result, kept


def layout_verdict(call, inputs: list):
    """``(verdict, unchanged)`` for ``call(*inputs)``, the inputs non-contiguous tensors (a
    transposed or channels-last one), judged against ``call`` on their contiguous copies:
    verdict is ``"as its contiguous copy"`` when it gives the same (a call that raises on the
    copies too is another test's mistake), else what differs (``"raised X"``, another shape,
    other values); unchanged, whether both calls left their inputs as they were."""
    import torch

    before = [t.clone() for t in inputs]
    contiguous = [t.clone(memory_format=torch.contiguous_format) for t in inputs]
    try:
        expected = call(*contiguous)
    except Exception:
        expected = None
    unchanged = all(bool(torch.equal(t, b)) for t, b in zip(contiguous, before))
    try:
        out = call(*inputs)
        if expected is None or not isinstance(expected, torch.Tensor):
            verdict = "as its contiguous copy"
        elif not isinstance(out, torch.Tensor) or out.shape != expected.shape:
            verdict = "a result of another shape than on its contiguous copy"
        elif torch.allclose(out, expected, rtol=1e-7, atol=1e-9, equal_nan=True):
            verdict = "as its contiguous copy"
        else:
            verdict = "values differ from those on its contiguous copy"
    except Exception as error:
        verdict = "as its contiguous copy" if expected is None else f"raised {type(error).__name__}"
    unchanged = unchanged and all(bool(torch.equal(t, b)) for t, b in zip(inputs, before))
    return verdict, unchanged


def hooks_left(model) -> int:
    """How many forward hooks and pre-hooks are still registered on ``model``'s modules, plus
    torch's global forward hooks: a function that registers hooks must remove them all."""
    import torch

    global_hooks = getattr(torch.nn.modules.module, "_global_forward_hooks", {})
    return (sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
            + len(global_hooks))


def structure(build, generator) -> dict:
    """What a fresh ``build()`` (seed 0) is made of and does, for the hidden structure tests of a
    1x28x28 -> 10 classifier: layers defined and layers run by one forward pass (Conv2d, Linear,
    other convolutions), output shapes for batches of 1 and 5, whether it is nonlinear, returns
    logits (some outputs negative) rather than probabilities or other outputs that are never
    negative (a softmax, a sigmoid or a ReLU at the end), gives finite outputs, and builds a new
    model, with new initial weights, on each call (the second model's lazy layers, such as
    ``nn.LazyLinear``, get their weights in a forward pass of a zero image first).
    Inputs are drawn from ``generator``."""
    import torch
    from torch import nn

    def kind(module):
        if isinstance(module, nn.Conv2d):
            return 0
        if isinstance(module, nn.Linear):
            return 1
        if isinstance(module, nn.modules.conv._ConvNd):
            return 2
        return None

    torch.manual_seed(0)
    model = build()
    model.eval()
    defined = [0, 0, 0]
    for m in model.modules():
        if kind(m) is not None:
            defined[kind(m)] += 1
    calls = [0, 0, 0]

    def hook(module, inputs, output):
        if kind(module) is not None:
            calls[kind(module)] += 1

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    try:
        with torch.no_grad():
            model(torch.rand(2, 1, 28, 28, generator=generator))
    finally:
        for h in handles:
            h.remove()
    out = {"layers defined (Conv2d, Linear, other convolutions)": tuple(defined),
           "layers run by one forward pass (Conv2d, Linear, other convolutions)": tuple(calls)}
    with torch.no_grad():
        for n in (1, 5):
            y = model(torch.rand(n, 1, 28, 28, generator=generator))
            out[f"output shape for a batch of {n}"] = tuple(y.shape)
        a = torch.rand(4, 1, 28, 28, generator=generator)
        b = torch.rand(4, 1, 28, 28, generator=generator)
        fa, fb, fab, f0 = (model(t).double() for t in (a, b, a + b, torch.zeros_like(a)))
        residual = (fab - fa - fb + f0).abs().max().item()
        out["nonlinear (an activation between the layers)"] = bool(
            residual > 1e-3 * (1.0 + fab.abs().max().item()))
        out["returns logits (some outputs negative), not probabilities or other non-negative scores"] = \
            _logits(model, torch.cat([a, b, a + b, torch.zeros_like(a)]), kind)
        out["outputs are finite"] = bool(torch.isfinite(fa).all())
    other = build()
    if any(nn.parameter.is_lazy(p) for p in other.parameters()):
        try:                           # lazy layers (nn.LazyLinear) get their weights in a first forward pass
            with torch.no_grad():
                other(torch.zeros(1, 1, 28, 28))
        except Exception:
            pass
    shared = {id(p) for p in model.parameters()} & {id(p) for p in other.parameters()}
    out["each call builds a new model"] = other is not model and not shared
    out["each call draws new initial weights"] = _new_weights(model, other)
    return out


def _new_weights(model, other) -> bool:
    """Whether a second ``build()`` holds other initial values than the first (the global random
    generator has moved on between the two calls): a deepcopy of one template, or a builder that
    seeds itself, gives the same values at every call. One parameter that differs is enough
    (batch norm's weights start at 1 in every model)."""
    import torch

    mine, theirs = list(model.parameters()), list(other.parameters())
    if other is model or len(mine) != len(theirs):
        return other is not model
    if any(torch.nn.parameter.is_lazy(p) for p in mine + theirs):   # a forward that failed to fill them
        return False
    return any(a.shape != b.shape or not torch.equal(a.detach(), b.detach()) for a, b in zip(mine, theirs))


def _logits(model, x, kind) -> bool:
    """Whether ``model(x)`` gives logits, the raw scores of a last layer with weights, with no
    activation after it. Outputs that are never negative (a softmax, a sigmoid or a ReLU at the
    end) are not logits, even where their argmax is right; nor are outputs that an activation
    squashed after the last weighted operation (a tanh, a hardtanh, a sigmoid shifted to be
    negative): the operators run after the last matrix product or convolution (``F.linear`` in
    a ``forward`` of one's own counts, as does an ``nn.Linear``) are watched, and an activation
    among them is allowed only where it changed nothing (a ReLU after scores that came out
    positive). Outputs equal to those of the last Linear or convolution that ran are logits
    whatever their signs (a right network whose random scores all came out positive). A
    log-softmax passes: its outputs are logits shifted by a constant per row, with the same
    cross-entropy loss; so do linear steps after the last layer (an ``nn.Identity``, a flatten,
    global average pooling after a last convolution, a batch norm, a division by a temperature)."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    last = {}

    def keep(module, inputs, output):
        if kind(module) is not None and isinstance(output, torch.Tensor):
            last["output"] = output.detach().clone()   # a clone: an in-place ReLU after it changes nothing

    class Tail(TorchDispatchMode):
        """The operators run after the last matrix product or convolution, and that one's output."""

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            name = func.overloadpacket.__name__.rstrip("_")
            if name in _WEIGHTED_OPS and isinstance(result, torch.Tensor):
                last["op output"] = result.detach().clone()
                last["after"] = []
            elif "after" in last:
                last["after"].append(name)
            return result

    handles = [m.register_forward_hook(keep) for m in model.modules()]
    try:
        try:
            with torch.no_grad(), Tail():
                y = model(x)
        except Exception:              # a forward that cannot run watched: judged by its outputs alone
            last.clear()
            with torch.no_grad():
                y = model(x)
    finally:
        for h in handles:
            h.remove()
    if not isinstance(y, torch.Tensor):
        return False
    y = y.detach()

    def same_as(layer):
        return layer is not None and layer.numel() == y.numel() and bool(
            torch.equal(layer.reshape(-1), y.reshape(-1)))

    if same_as(last.get("output")) or same_as(last.get("op output")):
        return True
    if any(name in _ACTIVATIONS for name in last.get("after", ())):
        return False
    return bool((y < 0).any())


#: Operators that apply weights: the last of them that runs gives the logits.
_WEIGHTED_OPS = frozenset({"addmm", "mm", "bmm", "baddbmm", "addmv", "mv", "matmul", "linear", "convolution",
                           "_convolution", "conv2d", "conv1d", "conv3d", "einsum"})
#: Activations (their aten names, without a trailing underscore): after the last weighted
#: operator, outputs are no longer raw scores (``_log_softmax`` is not among them).
_ACTIVATIONS = frozenset({"tanh", "sigmoid", "_softmax", "softmax", "hardtanh", "hardsigmoid", "hardswish", "relu",
                          "relu6", "threshold", "clamp", "clamp_min", "clamp_max", "clip", "elu", "selu", "celu",
                          "gelu", "silu", "mish", "softplus", "softsign", "leaky_relu", "rrelu_with_noise",
                          "_prelu_kernel", "prelu", "log_sigmoid_forward", "exp", "abs", "sign", "erf",
                          "atan", "tanhshrink", "softshrink", "hardshrink", "square", "pow", "_addmm_activation"})


def record_images(prefix: str, fig, shows: str) -> None:
    """Record a grid figure's images, then close it: how many axes hold an image, their shapes,
    and their values (``shows`` says what axes i should show, as in "axes i shows channel i")."""
    import matplotlib.pyplot as plt

    image_axes, titles, arrays, suptitle = figure_content(fig)
    record(f"{prefix} (number of axes with an image)", len(image_axes))
    record(f"{prefix} (image shapes)", [tuple(a.shape) for a in arrays])
    record(f"{prefix} (image values, {shows})", arrays, rtol=1e-5, atol=1e-6)
    plt.close(fig)


def record_indexed_titles(prefix: str, fig, letter: str) -> None:
    """Record whether every image axes k of a grid figure has a title naming its index k (as any
    number in the title) and whether the figure has a title, then close it."""
    import matplotlib.pyplot as plt

    image_axes, titles, arrays, suptitle = figure_content(fig)
    record(f"{prefix} (every axes {letter} titled with its index {letter})",
           len(titles) > 0 and all(k in [int(t) for t in re.findall(r"\d+", title)]
                                   for k, title in enumerate(titles)))
    record(f"{prefix} (figure has a title)", bool(suptitle.strip()))
    plt.close(fig)
