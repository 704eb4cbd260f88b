"""What hidden tests call inside the notebook kernel.

Hidden tests do not decide a grade in the kernel, where student code could have replaced
``torch.allclose`` or ``assert`` helpers. They *record* the student's outputs on hidden inputs:

    from course_grader.kernel import record, aten_ops_used, forbidden
    out, ops = aten_ops_used(conv2d_naive, x, w, stride=2)
    record("conv2d_naive: stride 2, non-square kernel", out, rtol=1e-7, atol=1e-9)
    record("conv2d_naive: no built-in convolution", forbidden(ops, CONV_OPS))

Each record becomes a display output of MIME type ``RECORD_MIME`` in the test cell. The grader
runs the instructor's source notebook once (trusted) to get the expected records, runs the
submission, and compares record by record in its own process, with the tolerances of the
*reference* record (see ``course_grader.judge``). A test cell earns its points when it ran without
error and every expected record matches.

During grading the grader injects this file into the kernel as the module
``course_grader.kernel`` (the course folder itself is not visible to sandboxed student code), so it
must only import the standard library, torch and IPython.
"""
from __future__ import annotations

import base64
import io
import re

RECORD_MIME = "application/vnd.course-record+json"

#: aten operator names (``func.overloadpacket.__name__``) that count as torch's own convolution.
CONV_OPS = r"(^|_)conv|convolution|im2col|col2im|^_?nnpack|^mkldnn_conv|^cudnn_conv|^miopen_conv"
#: aten operator names that count as torch's own pooling (and the unfold route to it).
POOL_OPS = r"pool|im2col|col2im"
#: the packages whose functions count as another library's built-in (``library_calls``)
LIBRARIES = ("numpy", "scipy")
#: names of those libraries' functions (and of torch.nn.functional's) that count as a built-in convolution (numpy's convolve and
#: correlate, scipy.signal's and scipy.ndimage's convolve*, correlate*, fftconvolve, ...) or pooling
#: (scipy.ndimage's filters: maximum_filter, uniform_filter, ...); for any other aten pattern,
#: the libraries' function names are matched against the pattern itself (``r"pad"``: numpy.pad).
LIBRARY_PATTERNS = {CONV_OPS: r"conv|correlat", POOL_OPS: r"pool|_filter"}


def _plain(value, depth=0):
    """Convert ``value`` to something ``torch.load(weights_only=True)`` can read back."""
    import torch

    if depth > 20:
        return "<nested too deep>"
    if isinstance(value, torch.Tensor):
        tensor = value.detach().to("cpu").as_subclass(torch.Tensor).clone().contiguous()
        # the grader reads the dtypes numpy has (and bfloat16); float8 and complex32 go wider
        if tensor.is_floating_point() and tensor.element_size() == 1:
            tensor = tensor.to(torch.float32)
        elif tensor.dtype == torch.complex32:
            tensor = tensor.to(torch.complex64)
        return tensor
    if value is None or type(value) in (bool, int, float, str):
        return value
    try:
        import numpy as np

        # before the checks below: np.float64 is a float subclass, np.bool_ is not a bool
        if isinstance(value, np.ndarray):
            return torch.from_numpy(np.ascontiguousarray(value)).clone()
        if isinstance(value, np.generic):
            return _plain(value.item(), depth + 1)
    except ImportError:  # pragma: no cover - numpy ships with torch
        pass
    # subclasses of the plain types (an IntEnum, a str subclass) as the plain type itself:
    # torch.load(weights_only=True) reads back no other class
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return str.encode(value, "utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
    if isinstance(value, complex):
        return ("complex", float(value.real), float(value.imag))
    if isinstance(value, torch.Size):
        return tuple(int(v) for v in value)
    if isinstance(value, torch.dtype):
        return str(value)
    if isinstance(value, (list, tuple)):
        items = [_plain(v, depth + 1) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v, depth + 1) for v in value), key=repr)
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    return f"<unsupported value of type {type(value).__name__}>"


def encode(payload: dict) -> str:
    import torch

    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def record(name: str, value, *, rtol: float = 1e-5, atol: float = 1e-8,
           targets=None, min_accuracy: float | None = None, at_least=None, at_most=None) -> None:
    """Record one result of the student's code for the grader to compare with the reference.

    name: a unique, human-readable description of the check ("part 3: stride 2, padding 1").
        Feedback shows it to the student, so it names the part and the kind of input.
    value: tensors (any device, any dtype), numbers, bools, strings, None, and lists, tuples and
        dicts of those.
    rtol, atol: tolerance for floating-point values (the reference record's values are used).
    targets, min_accuracy: for a classifier's predictions. ``value`` is a 1-D tensor of predicted
        labels and ``targets`` the name of a label set the grader loads itself in its own process
        (``"mnist-test"``: the MNIST test labels; the labels never pass through the kernel), or,
        for small made-up problems, a tensor of true labels; the check passes when the
        predictions agree with the *reference's* targets on at least ``min_accuracy`` of them.
    at_least, at_most: the value is a number that passes when within these bounds (the reference
        record's bounds are used); prefer recorded predictions where the grader can compute the
        number itself.
    """
    import os
    from IPython.display import display

    if os.environ.get("COURSE_GRADING") != "1":
        # outside a grading kernel (nbgrader's own autograde, Jupyter) nothing compares records:
        # a hidden test must not look passed there
        raise RuntimeError(
            f"record({name!r}): hidden tests are checked by `course grade` / `course check`, "
            "which compare the recorded values with the reference outside the kernel; run "
            "here, this test checks nothing. Grade with `course grade` (nbgrader's own "
            "autograde cannot grade this course).")
    payload = {
        "name": str(name),
        "value": _plain(value),
        "rtol": float(rtol),
        "atol": float(atol),
        "targets": _plain(targets) if targets is not None else None,
        "min_accuracy": None if min_accuracy is None else float(min_accuracy),
        "at_least": None if at_least is None else float(at_least),
        "at_most": None if at_most is None else float(at_most),
    }
    display({RECORD_MIME: {"name": str(name), "data": encode(payload)},
             "text/plain": f"[recorded for grading: {name}]"}, raw=True)


def by_value(value):
    """A tensor as float64, anything else unchanged: record ``by_value(t)`` (with ``rtol=0,
    atol=0`` for counts) where a cell checks values and the dtype belongs to another check, so
    that right counts in a float or int32 tensor are not a wrong value."""
    import torch

    return value.detach().to(torch.float64) if isinstance(value, torch.Tensor) else value


def aten_ops_used(fn, *args, **kwargs):
    """Call ``fn(*args, **kwargs)`` and return ``(result, ops)``.

    ops: the set of aten operator names (``"convolution"``, ``"im2col"``, ``"mm"``, ...) that
    the call dispatched, whatever Python route reached them (``F.conv2d``, an alias bound at
    import time, ``torch.ops.aten``, a module).
    """
    recorder = _op_recorder()
    with recorder:
        result = fn(*args, **kwargs)
    return result, recorder.ops


def _op_recorder():
    """A dispatch mode whose ``ops`` collects the aten operator names run inside its block."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class _Recorder(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops.add(func.overloadpacket.__name__)
            return func(*args, **(kwargs or {}))

    return _Recorder()


def count_ops(fn, *args, **kwargs) -> int:
    """How many tensor operations (aten dispatches) ``fn(*args, **kwargs)`` makes: a vectorised
    function makes about as many for a large input as for a small one; a loop over pixels,
    windows or images makes more."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class _Counter(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.count += 1
            return func(*args, **(kwargs or {}))

    counter = _Counter()
    with counter:
        fn(*args, **kwargs)
    return counter.count


def python_lines(fn, *args, **kwargs) -> int:
    """How many lines of notebook code run during ``fn(*args, **kwargs)``.

    Counts the tracer's line events in every frame whose code does not come from a library file
    (the standard library, site-packages, this module): the notebook's cells and whatever they
    define. A loop over images, windows or pixels runs more lines for a larger input whatever its
    body calls (torch, numpy or plain Python); a vectorised function runs as many lines for a
    large input as for a small one. The result of ``fn`` is discarded.
    """
    import sys
    import sysconfig

    paths = sysconfig.get_paths()
    libraries = tuple(sorted({paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
                             | {sys.prefix, sys.base_prefix, sys.exec_prefix}))
    lines = 0

    def in_frame(frame, event, arg):
        nonlocal lines
        if event == "line":
            lines += 1
        return in_frame

    def on_call(frame, event, arg):
        name = frame.f_code.co_filename
        if name.startswith(libraries) or name.startswith("course_grader/"):
            return None
        return in_frame

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        fn(*args, **kwargs)
    finally:
        sys.settrace(previous)
    return lines


def grows(measure, fn, small: tuple, large: tuple, *, slack: int = 2) -> bool:
    """Whether ``measure(fn, *large)`` exceeds ``measure(fn, *small)`` by more than ``slack``.

    ``measure`` is ``count_ops`` or ``python_lines``; ``small`` and ``large`` are argument tuples
    (the last item may be a dict of keyword arguments).
    """
    def call(arguments):
        if arguments and isinstance(arguments[-1], dict):
            return measure(fn, *arguments[:-1], **arguments[-1])
        return measure(fn, *arguments)

    return call(large) > call(small) + slack


def multiply_adds(model, x) -> int:
    """The multiply-adds of one forward pass of ``model`` on ``x`` (eval mode, no gradients),
    whatever modules or functions compute them: torch's FLOP counter sees every matrix product
    and convolution at the operator level, and a multiply-add is two FLOPs."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    counter = FlopCounterMode(display=False)
    try:
        model.eval()
        with torch.no_grad(), counter:
            model(x)
    finally:
        model.train(was_training)
    return int(counter.get_total_flops()) // 2


def predictions_from_own_layers(model, images, batch: int = 250, seed: int = 0):
    """``(predictions, from_own_layers)`` of ``model`` (in eval mode, no gradients) on ``images``,
    ``batch`` images at a time (250: a small CNN's activations for them stay in the CPU's caches;
    mlp_vs_cnn's reference CNN took 0.35 s for the 10,000 test images so, 0.85 s 1,000 at a time).

    The predictions are those of the network as a composition of its own layers: each batch is
    run with the output of the first layer with parameters that ran permuted across the batch
    (a permutation drawn from ``seed``), and the logits that come out at position ``i`` are
    taken as the prediction for the image whose features were moved there. For a network that
    computes each image's logits from that layer's output for it (a chain of layers, residual
    blocks after the first layer, batch norm and dropout in eval mode, even a dropout left on in
    eval mode) these are its ordinary predictions. A ``forward`` that answers from anything else,
    such as a table of known images or their nearest neighbours routed through the last layer,
    answers for the wrong images and loses the accuracy its table would have given it.

    from_own_layers: whether a layer with parameters ran on the batch (its output permuted across
    it at least once; its calls on anything else are left alone) and every prediction is the
    largest output of the last registered layer (a leaf module) that ran, in every permuted run
    and in the plain run of the first batch that finds the layer to permute, as it is for a
    network that returns its last layer's logits (or a softmax of them). Each batch runs once
    (twice for the first); where the check fails, the predictions are the plain ones. A network that runs no layer with parameters (weights used through
    ``torch.nn.functional`` only) fails it.
    What is not checked: a table keyed on the first layer's own output.
    """
    import torch

    seen = {}

    def keep(module, inputs, output):
        if isinstance(output, torch.Tensor):
            seen["last"] = output
            if "first" not in seen and next(module.parameters(recurse=False), None) is not None:
                seen["first"] = module

    def permute(module, inputs, output):
        order = seen["order"]
        if not isinstance(output, torch.Tensor) or output.dim() == 0 or output.shape[0] != len(order):
            return None                      # a call on something else than the batch (a debug print)
        seen["permuted"] = seen.get("permuted", 0) + 1
        seen["last"] = output[order]         # when the first layer is the last one too
        return seen["last"]

    def from_last_layer(logits) -> bool:
        layer = seen.get("last")
        return isinstance(logits, torch.Tensor) and logits.dim() > 0 and layer is not None and \
            layer.shape[0] == logits.shape[0] and layer.numel() == logits.numel() and \
            bool(torch.equal(layer.reshape(len(logits), -1).argmax(1), logits.reshape(len(logits), -1).argmax(1)))

    def plain(x):
        """The logits of a plain run, whether they are the last layer's, the first weighted layer."""
        seen.clear()
        logits = model(x)
        return logits, from_last_layer(logits), seen.get("first")

    def composed(x, first):
        """The predictions read where each image's features went, or None when they cannot be."""
        seen.clear()
        seen["order"] = order = torch.randperm(len(x), generator=generator)
        swap = first.register_forward_hook(permute)
        try:
            swapped = model(x)
        except Exception:                      # a forward that cannot take it: not its layers'
            return None
        finally:
            swap.remove()
        if not (seen.get("permuted", 0) > 0 and from_last_layer(swapped) and swapped.shape[0] == len(x)):
            return None
        chunk = torch.empty(len(x), dtype=torch.long)
        chunk[order] = swapped.reshape(len(x), -1).argmax(1)
        return chunk

    generator = torch.Generator().manual_seed(seed)
    leaves = [m for m in model.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(keep) for m in leaves]
    predictions, own, first = [], True, None
    try:
        model.eval()
        with torch.no_grad():
            for start in range(0, len(images), batch):
                x = images[start:start + batch]
                if first is None and own:         # the first batch: which layer to permute
                    _, own, first = plain(x)
                    own = own and first is not None
                chunk = composed(x, first) if own else None
                own = own and chunk is not None
                if chunk is None:                 # not its own layers: the plain predictions
                    logits = model(x)
                    chunk = logits.reshape(len(logits), -1).argmax(1)
                predictions.append(chunk)
    finally:
        for hook in hooks:
            hook.remove()
    return torch.cat(predictions), own


def trained_predictions(build, max_params: int, max_multiply_adds: int, *, mnist_tensors,
                        tensor_loader, fit, epochs: int = 3, lr: float = 1e-2, train_images: int = 10000,
                        noise: float = 0.05, seed: int = 0):
    """Train a fresh ``build()`` with the grader's fixed recipe; return
    ``(within_limits, from_own_layers, predictions)`` on the MNIST test images.

    The model is checked against the size limits first (trainable parameters; multiply-adds of
    one 1x28x28 image, counted by ``multiply_adds`` whatever computes them); a model over them is
    not trained and predicts -1 everywhere. Otherwise it is trained on the first ``train_images``
    MNIST training images (``epochs``, one-cycle at ``lr``, seed 0, batch 64, on the CPU, in the
    channels-last layout where it can: ``_copy_for_channels_last``) and predicts, in the layout
    it was trained in (the default one where that fails), the 10,000 test images, each with
    Gaussian noise of standard deviation ``noise`` drawn from ``seed`` (clamped to [0, 1]):
    inputs no submission can have stored in advance.
    The labels are not returned: the grader loads them itself (``record(..., targets="mnist-test")``).
    The predictions and from_own_layers are ``predictions_from_own_layers``'s (the network as a
    composition of its own layers, with a permutation drawn from ``seed + 1``).
    The data and training functions are passed in (``course_utils.data.mnist_tensors``,
    ``tensor_loader``, ``course_utils.train.fit``): this module imports nothing but the standard
    library, torch and IPython.
    """
    import torch

    torch.manual_seed(0)
    model = build()
    first = next(model.parameters(), None)
    total = multiply_adds(model, torch.zeros(1, 1, 28, 28, device=None if first is None else first.device))
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    test_images = mnist_tensors(train=False)[0]
    if not (params <= max_params and total <= max_multiply_adds):
        return False, False, torch.full((len(test_images),), -1, dtype=torch.long)
    generator = torch.Generator().manual_seed(seed)
    test_images = (test_images + noise * torch.randn(test_images.shape, generator=generator)).clamp_(0.0, 1.0)
    images, labels = mnist_tensors(train=True, limit=train_images)

    def train(model, channels_last: bool):
        loader = tensor_loader(images, labels, batch_size=64, shuffle=True, seed=0)
        torch.manual_seed(0)
        if channels_last:
            model.to(memory_format=torch.channels_last)
        with torch.enable_grad():
            fit(model, loader, epochs=epochs, lr=lr, one_cycle=True, device="cpu", progress=False)

    untrained = _copy_for_channels_last(model)
    channels_last = untrained is not None
    try:
        train(model, channels_last)
    except Exception:
        if untrained is None:
            raise
        model, channels_last = untrained, False   # a forward written for the default layout (x.view after a conv)
        train(model, channels_last)
    try:                        # in the layout it was trained in (pooling is faster so too)
        predictions, own = predictions_from_own_layers(model, test_images, seed=seed + 1)
    except Exception:
        if not channels_last:
            raise
        model.to(memory_format=torch.contiguous_format)   # a forward that needs the default layout in eval mode only
        predictions, own = predictions_from_own_layers(model, test_images, seed=seed + 1)
    return True, own, predictions


def _copy_for_channels_last(model):
    """A copy of the untrained ``model`` when it is worth training in the channels-last layout,
    else None. Why: on the CPU, max pooling is 7-10x faster on channels-last tensors than on the
    default layout (torch 2.14, one thread; mlp_vs_cnn's reference CNN trains in 2.0 s instead
    of 3.5 s; its 10,000 test predictions take 0.31 s instead of 0.55 s). The layout changes no
    value a layer computes, only the order of floating-point sums; ``trained_predictions``
    predicts in the layout it trained in, and in the default one where a forward fails there in
    eval mode only. A ``forward`` that needs the default layout (``x.view(n, -1)`` after a conv raises
    on a channels-last tensor) is trained again from this copy, exactly as it would have been:
    None (no copy, the default layout from the start) for a model without a 4-d parameter
    (an MLP: nothing to gain) or one that cannot be copied."""
    import copy

    if not any(p.dim() == 4 for p in model.parameters()):
        return None
    try:
        return copy.deepcopy(model)
    except Exception:
        return None


def forbidden_ops(fn, calls, pattern: str, library: str | None = None, autograd: bool = False) -> list[str]:
    """The aten operators matching ``pattern`` that ``fn`` reached over ``calls``, and the
    functions of numpy and scipy it called whose names match ``library`` (``library_calls``;
    default ``LIBRARY_PATTERNS[pattern]``, else ``pattern``), sorted; with ``autograd``, also
    the autograd entry points it called (``"autograd: torch.autograd.grad"``,
    ``"autograd: torch._tensor.Tensor.backward"``, ...), for a gradient asked for by hand.

    calls: ``(args, kwargs)`` pairs. A gate on *how* a function computes must not fail for what
    it computed, so a call that raises still counts with the operators it reached before raising;
    but a function that never returns normally and reaches no such operator (an untouched stub)
    gets ``["no call returned"]``.
    """
    library = LIBRARY_PATTERNS.get(pattern, pattern) if library is None else library
    found, returned = set(), False
    for args, kwargs in calls:
        recorder, called = _op_recorder(), set()
        try:
            with recorder, library_calls(called):
                fn(*args, **kwargs)
            returned = True
        except Exception:
            pass
        found |= {op for op in recorder.ops if re.search(pattern, op)}
        found |= {name for name in called if not name.startswith(AUTOGRAD_MARK)
                  and re.search(library, name.rsplit(".", 1)[-1])}
        if autograd:
            found |= {name for name in called if name.startswith(AUTOGRAD_MARK)}
    return sorted(found) if returned or found else ["no call returned"]


def forbidden(ops, pattern: str) -> list[str]:
    """The sorted names in ``ops`` that match the regular expression ``pattern``."""
    return sorted(op for op in ops if re.search(pattern, op))


#: what ``library_calls`` puts before the name of an autograd entry point it saw called
AUTOGRAD_MARK = "autograd: "
#: the functions that compute gradients, in torch.autograd (grad, backward, functional.vjp,
#: ...), torch.func (grad, vjp, jacrev, ...) and ``Tensor.backward``; grad modes
#: (``torch.no_grad``, ``torch.enable_grad``) are not among them
AUTOGRAD_CALLS = frozenset({"grad", "backward", "vjp", "jvp", "jacobian", "hessian", "vhp", "hvp", "jacrev",
                            "jacfwd", "grad_and_value", "vmap_grad"})


#: the packages whose code is not the student's: a call from them is a library's own call
_LIBRARY_CODE = LIBRARIES + ("torch",)


def _top(module) -> str:
    return module.split(".", 1)[0] if isinstance(module, str) else ""


class library_calls:
    """A ``with`` block that adds to ``called`` what code outside numpy, scipy and torch calls in
    this thread: the qualified names of numpy's and scipy's functions
    (``scipy.signal._signaltools.correlate2d``, ``numpy.lib._arraypad_impl.pad``; not numpy's
    dispatchers, nor the libraries' calls to each other); the functions of
    ``torch.nn.functional`` written in Python that anything called, a module's ``forward``
    included (``torch.nn.functional.adaptive_avg_pool2d``: aten turns its 1x1 output into a
    ``mean``, which no aten check can tell from the student's own); and, marked ``AUTOGRAD_MARK``, the
    autograd entry points (``AUTOGRAD_CALLS`` in torch.autograd, torch._functorch and
    ``Tensor.backward``). Seen with ``sys.setprofile``, which is put back as it was afterwards.
    Best effort, as the aten checks: code run in another thread, or code that changes the
    profiler itself (the scan flags ``sys.setprofile``), is not seen."""

    def __init__(self, called: set):
        self.called = called

    def __enter__(self):
        import sys
        self.before = sys.getprofile()
        sys.setprofile(self._seen)
        return self.called

    def __exit__(self, *exc):
        import sys
        sys.setprofile(self.before)
        return False

    def _seen(self, frame, event, arg):
        # runs at every call the student's code makes: the name is built only for what is kept
        if event == "call":
            if frame.f_globals.get("__name__") == "torch.nn.functional":   # called by anyone
                self.called.add(f"torch.nn.functional.{frame.f_code.co_name}")
                return
            caller = frame.f_back
            if caller is not None and _top(caller.f_globals.get("__name__")) in _LIBRARY_CODE:
                return                       # a library's call to itself or to another one
            code, module = frame.f_code, frame.f_globals.get("__name__")
            if _top(module) in LIBRARIES:
                if not code.co_name.endswith("_dispatcher"):    # numpy's __array_function__ ones
                    self.called.add(f"{module}.{getattr(code, 'co_qualname', code.co_name)}")
            elif code.co_name in AUTOGRAD_CALLS and isinstance(module, str) and (
                    module.startswith(("torch.autograd", "torch._functorch")) or module == "torch._tensor"):
                self.called.add(f"{AUTOGRAD_MARK}{module}.{getattr(code, 'co_qualname', code.co_name)}")
        elif event == "c_call":
            module = getattr(arg, "__module__", None)
            if _top(module) in LIBRARIES and _top(frame.f_globals.get("__name__")) not in _LIBRARY_CODE:
                self.called.add(f"{module}.{getattr(arg, '__qualname__', getattr(arg, '__name__', '?'))}")


# ---- figure content (viz)

def figure_content(fig):
    """What a grid figure shows, for hidden tests to record (never pixels).

    Returns (image_axes, titles, arrays, suptitle): the axes holding an image, in the figure's
    order (a colorbar's axes holds none); each one's title (centre, else left, else right; "" when
    untitled); each one's first image as a float64 tensor of the values passed to imshow, shape
    (H, W) or (H, W, 3), masked entries as 0; and the figure's suptitle ("" when there is none).
    """
    import numpy as np
    import torch

    image_axes = [ax for ax in fig.axes if ax.images]
    titles = [next((ax.get_title(loc=loc) for loc in ("center", "left", "right") if ax.get_title(loc=loc)), "")
              for ax in image_axes]
    arrays = [torch.from_numpy(np.ma.filled(ax.images[0].get_array(), 0).astype("float64"))
              for ax in image_axes]
    suptitle = getattr(fig, "_suptitle", None)
    return image_axes, titles, arrays, (suptitle.get_text() if suptitle is not None else "")
