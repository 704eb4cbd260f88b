"""How a function computes and what a figure shows, for the visible tests: which torch operators
a function reaches (and which numpy, scipy and autograd functions it calls), how many operations
it runs, how many lines of your code it runs; which images, titles and suptitle a figure has; a
gradient by finite differences; a stand-in for the clock, for torch.cuda.synchronize, or for
your own time_it.

    from course_utils.checks import ops_seen, count_ops, python_lines, stand_in, stand_in_clocks
    out, ops = ops_seen(conv2d_naive, x, w)     # {"mul", "sum", ...}: no "convolution" in it
    count_ops(im2col, small) == count_ops(im2col, large)          # vectorised over N, H, W
    python_lines(im2col, small) == python_lines(im2col, large)    # no Python loop over them
    image_axes, titles, arrays, suptitle = figure_content(fig)
    numeric_grad(lambda t: F.conv2d(t, w), x, grad_out)           # dL/dx by finite differences
    with stand_in(torch.cuda, "synchronize", count_sync):        # time_it calls the stand-in
        time_it(fn, "cuda")
    with stand_in_clocks(fake_clock) as clocks_read:             # time_it reads the fake clock
        time_it(fn, "cpu")
    with stand_in_time_it() as timer:                            # a simple timer in place of yours
        time_training_step(model, 8, "cpu")

The grader's hidden tests use their own copies of these (the grader installs them fresh before
each test, so redefining these in a notebook changes nothing there).
"""
from __future__ import annotations

import contextlib
import sys
import sysconfig


def ops_seen(fn, *args, **kwargs):
    """Call ``fn(*args, **kwargs)``; return ``(result, ops)``.

    ops: the set of low-level (aten) operator names the call ran, such as ``"convolution"``,
    ``"mm"``, ``"mul"``, whatever Python name reached them (``F.conv2d``, an alias, a module);
    the qualified names of the numpy and scipy functions your code called, such as
    ``"numpy.lib._arraypad_impl.pad"`` or ``"scipy.signal._signaltools.correlate2d"`` (another
    library's built-in counts as a built-in too); the functions of ``torch.nn.functional`` that
    ran, such as ``"torch.nn.functional.adaptive_avg_pool2d"`` (whether your code or a module
    called them: some become plain operators such as ``mean``); and the autograd functions it called, as
    ``"autograd: torch.autograd.grad"`` or ``"autograd: torch._tensor.Tensor.backward"`` (for a
    gradient you are asked to compute by hand).
    """
    from torch.utils._python_dispatch import TorchDispatchMode

    class _Seen(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops.add(func.overloadpacket.__name__)
            return func(*args, **(kwargs or {}))

    seen, called = _Seen(), set()
    before = sys.getprofile()
    sys.setprofile(_library_profiler(called))
    try:
        with seen:
            result = fn(*args, **kwargs)
    finally:
        sys.setprofile(before)
    return result, seen.ops | called


_AUTOGRAD_CALLS = frozenset({"grad", "backward", "vjp", "jvp", "jacobian", "hessian", "vhp", "hvp", "jacrev",
                             "jacfwd", "grad_and_value", "vmap_grad"})


def _library_profiler(called: set):
    """A ``sys.setprofile`` function that adds to ``called`` the numpy and scipy functions, and
    the autograd functions, that code outside numpy, scipy and torch calls (not the libraries'
    calls to each other, nor numpy's dispatchers, nor grad modes such as ``torch.no_grad``)."""

    libraries, not_yours = ("numpy", "scipy"), ("numpy", "scipy", "torch")

    def top(module) -> str:
        return module.split(".", 1)[0] if isinstance(module, str) else ""

    def profile(frame, event, arg):
        # runs at every call your code makes: the name is built only for what is kept
        if event == "call":
            if frame.f_globals.get("__name__") == "torch.nn.functional":   # whoever called it
                called.add(f"torch.nn.functional.{frame.f_code.co_name}")
                return
            caller = frame.f_back
            if caller is not None and top(caller.f_globals.get("__name__")) in not_yours:
                return
            code, module = frame.f_code, frame.f_globals.get("__name__")
            if top(module) in libraries:
                if not code.co_name.endswith("_dispatcher"):
                    called.add(f"{module}.{getattr(code, 'co_qualname', code.co_name)}")
            elif code.co_name in _AUTOGRAD_CALLS and isinstance(module, str) and (
                    module.startswith(("torch.autograd", "torch._functorch")) or module == "torch._tensor"):
                called.add(f"autograd: {module}.{getattr(code, 'co_qualname', code.co_name)}")
        elif event == "c_call":
            module = getattr(arg, "__module__", None)
            if top(module) in libraries and top(frame.f_globals.get("__name__")) not in not_yours:
                called.add(f"{module}.{getattr(arg, '__qualname__', getattr(arg, '__name__', '?'))}")

    return profile


def count_ops(fn, *args, **kwargs) -> int:
    """How many tensor operations ``fn(*args, **kwargs)`` runs. A vectorised function runs about
    as many for a large input as for a small one; a loop over images or windows runs more."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class _Count(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.count += 1
            return func(*args, **(kwargs or {}))

    counter = _Count()
    with counter:
        fn(*args, **kwargs)
    return counter.count


def python_lines(fn, *args, **kwargs) -> int:
    """How many lines of notebook code (not library code) run during ``fn(*args, **kwargs)``.

    A Python loop over images, windows or pixels runs more lines for a larger input, whether its
    body uses torch, numpy or plain Python; a vectorised function runs the same number.
    """
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
        if frame.f_code.co_filename.startswith(libraries) or frame.f_code.co_filename == __file__:
            return None
        return in_frame

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        fn(*args, **kwargs)
    finally:
        sys.settrace(previous)
    return lines


def figure_content(fig):
    """What a grid figure shows, for the visible tests of plotting functions.

    Returns ``(image_axes, titles, arrays, suptitle)``: the axes holding an image, in the
    figure's order (a colorbar's axes holds none); each one's title (centre, else left, else
    right; ``""`` when untitled); each one's first image as a float64 tensor of shape (H, W) or
    (H, W, 3) with the values passed to ``imshow`` (masked entries as 0); the figure's suptitle
    (``""`` when there is none).
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


@contextlib.contextmanager
def stand_in(owner, name, value):
    """For the ``with`` block, ``owner.name`` is ``value`` (``time.perf_counter``, a fake clock;
    ``torch.cuda.synchronize``, a counter), and so is every other name your notebook's code could
    reach the original by: your notebook's own global names for it (``from time import
    perf_counter``, ``from torch.cuda import synchronize``) and ``timeit.default_timer``. Put back
    when the block ends, also when it raises."""
    import timeit

    original = getattr(owner, name)
    places = [(owner, name)]
    for module in (sys.modules.get("__main__"), timeit):
        if module is None:
            continue
        places += [(module, key) for key, bound in list(vars(module).items())
                   if bound is original and not key.startswith("__") and (module, key) != (owner, name)]
    old = [(place, key, getattr(place, key)) for place, key in places]
    try:
        for place, key in places:
            setattr(place, key, value)
        yield value
    finally:
        for place, key, before in reversed(old):
            setattr(place, key, before)


#: the clocks a timer could read (each also in its ``_ns`` form, integer nanoseconds)
CLOCKS = ("perf_counter", "monotonic", "time", "process_time", "thread_time")


@contextlib.contextmanager
def stand_in_clocks(read):
    """For the ``with`` block, ``time.perf_counter``, ``time.monotonic``, ``time.time``,
    ``time.process_time`` and ``time.thread_time`` (their ``_ns`` forms too, and every other name
    your notebook has for them, as in ``stand_in``) return
    ``read()`` (nanoseconds for ``_ns``) when your code calls them; the kernel's other threads
    still read the real clocks. Yields a set that collects the names of the clocks your code read
    (``{"perf_counter"}`` when it reads only ``time.perf_counter``). Put back when the block ends."""
    import threading
    import time

    owner, names_read = threading.get_ident(), set()

    def clock(real, name, in_ns):
        def stand_in_clock():
            if threading.get_ident() != owner:
                return real()
            names_read.add(name)
            return round(read() * 1_000_000_000) if in_ns else read()
        return stand_in_clock

    with contextlib.ExitStack() as stack:
        for name in CLOCKS:
            for suffix in ("", "_ns"):
                stack.enter_context(stand_in(time, name + suffix,
                                             clock(getattr(time, name + suffix), name, bool(suffix))))
        yield names_read


class _StandInTimeIt:
    """A simple timer standing in for a notebook's ``time_it(fn, device, ...)``: calls ``fn()``
    three times and returns the mean seconds per call as a float (no warm-up, no median, no
    synchronisation: not what Part 1 asks for). ``devices`` lists the device of each call."""

    def __init__(self):
        self.devices = []

    def __call__(self, fn, device, *args, **kwargs):
        import time

        self.devices.append(str(device))
        start = time.perf_counter()
        for _ in range(3):
            fn()
        return (time.perf_counter() - start) / 3


@contextlib.contextmanager
def stand_in_time_it(name: str = "time_it"):
    """For the ``with`` block, your notebook's function ``name`` (``time_it``) is a simple stand-in
    timer (``_StandInTimeIt``: three calls of ``fn``, their mean time), so that the tests of a later
    part that calls it test that part alone: a mistake in your own ``time_it`` costs nothing there.
    Yields the stand-in: ``.devices`` lists the device of each of its calls. Your own function is
    put back when the block ends, also when it raises."""
    notebook = sys.modules["__main__"]
    missing = object()
    own = getattr(notebook, name, missing)
    timer = _StandInTimeIt()
    setattr(notebook, name, timer)
    try:
        yield timer
    finally:
        if own is missing:
            delattr(notebook, name)
        else:
            setattr(notebook, name, own)


def numeric_grad(f, x, grad_out, eps: float = 1e-6):
    """The gradient of ``sum(f(x) * grad_out)`` with respect to ``x``, by central differences:
    for each entry, (L(x + eps) - L(x - eps)) / (2 eps). Two calls of ``f`` per entry of ``x``, so
    for small float64 inputs only: it checks a gradient you derived by hand (as CS231n's
    ``eval_numerical_gradient_array`` does).

    Inputs:
    - f: a function of one tensor that returns a tensor of grad_out's shape
    - x: the input, a float64 tensor (it is not changed)
    - grad_out: the upstream gradient dL/df(x)

    Returns:
    - a tensor of x's shape and dtype: dL/dx
    """
    import torch

    x = x.detach().clone().contiguous()
    grad = torch.zeros_like(x)
    flat, out = x.view(-1), grad.view(-1)
    with torch.no_grad():
        for k in range(flat.numel()):
            old = flat[k].item()
            flat[k] = old + eps
            plus = (f(x) * grad_out).sum().item()
            flat[k] = old - eps
            minus = (f(x) * grad_out).sum().item()
            flat[k] = old
            out[k] = (plus - minus) / (2 * eps)
    return grad
