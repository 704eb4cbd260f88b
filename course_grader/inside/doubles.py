"""Stand-ins that hidden tests put in place of the clock, the GPU, a model or a student's own
earlier function, so that a timing function is graded on what it does, not on how fast this
machine happens to be.

    from course_grader.doubles import fake_clock
    with fake_clock([7.0] * 3 + [0.5] * 10) as clock:      # warm-up calls take 7 s, timed 0.5 s
        seconds = time_it(clock.fn, "cpu")
    record("time_it: slow warm-up calls are not timed", seconds)

Every stand-in is removed when its ``with`` block ends, also when the student's code raises.
During grading the guard installs this file, fresh before every test cell, as the module
``course_grader.doubles``, so it imports only the standard library and torch.
"""
from __future__ import annotations

import contextlib
import statistics
import time


#: the clocks a timer could read, each also in its ``_ns`` form (integer nanoseconds). time_it
#: is asked to read ``perf_counter``; the fakes stand in for all of them, so that reading another
#: clock costs only the record that asks which clock was read (``clocks_read``), not every record
#: that compares a time (``process_time`` and ``thread_time`` count CPU time, not the time that
#: passes, but a timer that reads them is still judged on its warm-up, median and synchronisation)
CLOCKS = ("perf_counter", "monotonic", "time", "process_time", "thread_time")


def _clock_stand_ins(read, on_read) -> list:
    """``(time, name, stand-in)`` for every clock of ``CLOCKS`` and its ``_ns`` form. In the thread
    that made them, a stand-in calls ``on_read(name)`` (``name`` without ``_ns``) and returns
    ``read()`` (in nanoseconds for ``_ns``); in any other thread (the kernel's own threads read
    ``time.monotonic`` for their timeouts) it is the real clock, so that they neither see the fake
    time nor count as a reading."""
    import threading

    owner = threading.get_ident()
    triples = []
    for name in CLOCKS:
        for suffix in ("", "_ns"):
            real = getattr(time, name + suffix)

            def stand_in(real=real, name=name, in_ns=bool(suffix)):
                if threading.get_ident() != owner:
                    return real()
                on_read(name)
                now = read()
                return round(now * 1_000_000_000) if in_ns else now
            triples.append((time, name + suffix, stand_in))
    return triples


class FakeClock:
    """A fake clock (``time.perf_counter``, and the other ``CLOCKS``) that only ``fn()`` moves on:
    the k-th call of ``fn`` takes ``durations[k]`` seconds (1000 s once they run out). ``calls``
    counts the calls of ``fn``, ``syncs`` those of the stand-in ``synchronize``; ``clocks_read`` is
    the set of the clocks' names that were read."""

    def __init__(self, durations):
        self.now, self.durations, self.calls, self.syncs = 100.0, list(durations), 0, 0
        self.clocks_read = set()

    def perf_counter(self):
        return self.now

    def fn(self):
        self.now += self.durations[self.calls] if self.calls < len(self.durations) else 1000.0
        self.calls += 1

    def synchronize(self, *args, **kwargs):
        self.syncs += 1


class FakeGPU:
    """A simulated asynchronous GPU with a fake clock: ``fn()`` only queues its work (the k-th
    call ``durations[k]`` seconds) and returns at once; ``synchronize()`` waits until the queue is
    empty (moves the clock on); ``perf_counter()`` reads the clock. ``events`` logs each of them
    as ``"call"``, ``"sync"`` or ``"clock"`` (a reading of any of the ``CLOCKS``, whose names go
    into ``clocks_read``)."""

    def __init__(self, durations):
        self.now, self.queued, self.durations, self.events = 0.0, 0.0, list(durations), []
        self.clocks_read = set()

    def fn(self):
        n = self.events.count("call")
        self.queued += self.durations[n] if n < len(self.durations) else 1000.0
        self.events.append("call")

    def synchronize(self, *args, **kwargs):
        self.now += self.queued
        self.queued = 0.0
        self.events.append("sync")

    def perf_counter(self):
        self.events.append("clock")
        return self.now


@contextlib.contextmanager
def _replaced(*triples):
    """Set ``(owner, attribute, value)`` for the block, then put the old values back; also every
    alias of each replaced object (``_aliases``)."""
    triples = list(triples) + _aliases(triples)
    old = [(owner, name, getattr(owner, name)) for owner, name, _ in triples]
    try:
        for owner, name, value in triples:
            setattr(owner, name, value)
        yield
    finally:
        for owner, name, value in reversed(old):
            setattr(owner, name, value)


def _aliases(triples) -> list:
    """``(owner, name, value)`` for the other names the student's code can reach each replaced
    object by: the notebook's global names bound to it (``from time import perf_counter``,
    ``from torch.cuda import synchronize``) and ``timeit.default_timer`` (``time.perf_counter``
    itself), so that a stand-in does not depend on how the notebook imported what it stands in
    for. Names kept elsewhere (a default argument, a closure, an attribute) are not reached."""
    import sys
    import timeit

    places = [module for module in (sys.modules.get("__main__"), timeit) if module is not None]
    found = []
    for owner, name, value in triples:
        original = getattr(owner, name)
        for place in places:
            for key, bound in list(vars(place).items()):
                if bound is original and not key.startswith("__") and not (place is owner and key == name):
                    found.append((place, key, value))
    return found


@contextlib.contextmanager
def fake_clock(durations):
    """For the block, ``time.perf_counter`` (and the other ``CLOCKS``) reads a
    ``FakeClock(durations)`` and ``torch.cuda.synchronize`` counts into it (also under the names
    the notebook imported them by: ``_aliases``); yields the clock."""
    import torch

    clock = FakeClock(durations)
    with _replaced(*_clock_stand_ins(clock.perf_counter, clock.clocks_read.add),
                   (torch.cuda, "synchronize", clock.synchronize)):
        yield clock


@contextlib.contextmanager
def fake_gpu(durations):
    """For the block, the clock, ``torch.cuda.synchronize`` and ``torch.cuda.is_available()``
    (True) belong to a ``FakeGPU(durations)``; yields it."""
    import torch

    gpu = FakeGPU(durations)
    with _replaced(*_clock_stand_ins(gpu.perf_counter, gpu.clocks_read.add),
                   (torch.cuda, "synchronize", gpu.synchronize),
                   (torch.cuda, "is_available", lambda: True)):
        yield gpu


@contextlib.contextmanager
def counted_syncs(gpu_available: bool):
    """For the block, ``torch.cuda.synchronize`` only counts its calls into the yielded list and
    ``torch.cuda.is_available()`` says ``gpu_available``."""
    import torch

    syncs = []
    with _replaced((torch.cuda, "synchronize", lambda *args, **kwargs: syncs.append(1)),
                   (torch.cuda, "is_available", lambda: gpu_available)):
        yield syncs


def bracketed(events) -> bool:
    """Whether, in a ``FakeGPU``'s events, at least one call is timed and every timed call (a
    call between two clock readings with no other call) has a sync after the previous call and
    before the clock starts, and a sync after the call and before the clock is read."""
    clocks = [i for i, e in enumerate(events) if e == "clock"]
    timed = 0
    for i, e in enumerate(events):
        if e != "call":
            continue
        before = [c for c in clocks if c < i]
        after = [c for c in clocks if c > i]
        if not before or not after:
            continue
        start, stop = before[-1], after[0]
        if "call" in events[start + 1:i] + events[i + 1:stop]:
            continue
        timed += 1
        previous_calls = [j for j in range(start) if events[j] == "call"]
        since = previous_calls[-1] + 1 if previous_calls else 0
        if "sync" not in events[since:start] or "sync" not in events[i + 1:stop]:
            return False
    return timed > 0


def reference_time_it(fn, device, warmup=3, repeats=10) -> float:
    """The reference ``time_it`` (median seconds of ``repeats`` timed calls after ``warmup``
    untimed ones, synchronising around each timed call on a GPU), so that a later part's test
    does not depend on the student's own ``time_it``."""
    import torch

    on_cuda = torch.device(device).type == "cuda"
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        if on_cuda:
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if on_cuda:
            torch.cuda.synchronize(device)
        durations.append(time.perf_counter() - start)
    return float(statistics.median(durations))


def with_reference_time_it(namespace: dict, call, returned: list | None = None):
    """Run ``call()`` while the name ``time_it`` in ``namespace`` (the notebook's ``globals()``)
    means ``reference_time_it``; return ``(result, device types time_it was called with)``. When
    given, ``returned`` gets the seconds each of those calls returned."""
    import torch

    missing = object()
    student_time_it, devices = namespace.get("time_it", missing), []

    def counting_time_it(fn, device, *args, **kwargs):
        devices.append(torch.device(device).type)
        seconds = reference_time_it(fn, device, *args, **kwargs)
        if returned is not None:
            returned.append(seconds)
        return seconds

    namespace["time_it"] = counting_time_it
    try:
        return call(), devices
    finally:
        if student_time_it is missing:
            namespace.pop("time_it", None)
        else:
            namespace["time_it"] = student_time_it


_NUMPY_ON_GPU = ("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor "
                 "to host memory first.")


def on_gpu(tensor):
    """``tensor`` as a stand-in for a tensor on a CUDA GPU, on a machine without one: a view of it
    (same values, same autograd graph) that says ``device`` cuda:0 and ``is_cuda`` True and, like a
    GPU tensor, cannot become a NumPy array (``.numpy()``, ``np.asarray``, ``imshow``) until it is
    moved to the CPU (``.cpu()``, ``.to("cpu")``, ``.to(a CPU tensor)``), which gives a plain tensor
    again, or asked for with ``.numpy(force=True)``, which copies it to the CPU as on a GPU. What
    it computes (``detach``, ``mean``, indexing, ``tolist``, ``float``) stays on the "GPU" and
    works, as on a GPU."""
    import torch

    class OnGPU(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func is torch.Tensor.numpy and kwargs.get("force"):   # copies to the CPU first, as on a GPU
                return func(args[0].as_subclass(torch.Tensor), force=True)
            if func in (torch.Tensor.numpy, torch.Tensor.__array__):
                raise TypeError(_NUMPY_ON_GPU)
            owner = getattr(func, "__self__", None)
            if owner is torch._C.TensorBase.is_cuda:
                return True
            if owner is torch._C.TensorBase.device:
                return torch.device("cuda", 0)
            out = super().__torch_function__(func, types, args, kwargs)
            if isinstance(out, torch.Tensor) and _to_cpu(func, args, kwargs):
                return out.as_subclass(torch.Tensor)
            return out

    def _to_cpu(func, args, kwargs) -> bool:
        if func is torch.Tensor.cpu:
            return True
        if func is torch.Tensor.to:
            for a in list(args[1:]) + list(kwargs.values()):
                if isinstance(a, (str, torch.device)) and torch.device(a).type == "cpu":
                    return True
                if isinstance(a, torch.Tensor) and not isinstance(a, OnGPU):
                    return True
        return False

    return tensor.as_subclass(OnGPU)


def small_cnn():
    """A small CNN for time_training_step's hidden tests: images -> 10 class scores. It reads any
    batch of 28x28 images as (N, 1, 28, 28), also one without the channel axis, so that the batch's
    shape costs only the test of the batch (test_time_training_step_batch), not the tests of the
    step and of the result, which need a model that runs."""
    from torch import nn

    class AsImages(nn.Module):
        def forward(self, x):
            return x.reshape(-1, 1, 28, 28)

    return nn.Sequential(AsImages(), nn.Conv2d(1, 2, 5, stride=3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 8 * 8, 10))


def spy_net():
    """A linear 1x28x28 -> 10 classifier whose ``seen`` list keeps, per call, (a CPU copy of the
    batch or None on "meta", its shape, its dtype as a string, its device type)."""
    from torch import nn

    class SpyNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(28 * 28, 10)
            self.seen = []

        def forward(self, x):
            kept = x.detach().to("cpu").clone() if x.device.type != "meta" else None
            self.seen.append((kept, tuple(x.shape), str(x.dtype), x.device.type))
            return self.fc(x.flatten(1))

    return SpyNet()
