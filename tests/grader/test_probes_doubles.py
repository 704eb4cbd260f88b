"""The kernel-side helpers hidden tests call instead of pasting their own
(``course_grader/inside/probes.py`` and ``doubles.py``), and the guard that installs them fresh
in the kernel beside ``course_grader.kernel``."""
from __future__ import annotations

import copy
import statistics
import subprocess
import sys
import time

import matplotlib
import pytest
import torch
from torch import nn

from course_grader.execution.session import guard_source
from course_grader.inside import doubles, probes

matplotlib.use("Agg")


def test_outcome_names_dtypes_types_and_what_was_raised():
    assert probes.outcome(lambda: torch.zeros(2, dtype=torch.float64)) == "torch.float64"
    assert probes.outcome(lambda: 3) == "int"
    assert probes.outcome(lambda: 3.0) == "float"
    assert probes.outcome(lambda: [(1, 2), (3, torch.tensor(4))]) == ["list", ["int", "int"], ["int", "Tensor"]]

    def stub():
        raise NotImplementedError()

    assert probes.outcome(stub) == "raised NotImplementedError"


def test_hooks_left_counts_hooks_on_every_module_and_global_ones():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sequential(nn.ReLU(), nn.Flatten()))
    assert probes.hooks_left(net) == 0
    handles = [net[0].register_forward_hook(lambda *a: None), net[1][0].register_forward_pre_hook(lambda *a: None)]
    assert probes.hooks_left(net) == 2
    global_handle = nn.modules.module.register_module_forward_hook(lambda *a: None)
    try:
        assert probes.hooks_left(net) == 3
    finally:
        global_handle.remove()
        for h in handles:
            h.remove()
    assert probes.hooks_left(net) == 0


def test_gradient_mode_kept_wants_the_callers_mode_back_after_a_call_with_gradients_on_and_one_inside_no_grad():
    def no_grad_block():
        with torch.no_grad():
            return torch.ones(2) * 2

    @torch.no_grad()
    def decorated():
        return 3

    def inference_block():
        with torch.inference_mode():
            return 4

    def restores_in_finally():
        previous = torch.is_grad_enabled()
        torch.set_grad_enabled(False)
        try:
            return 5
        finally:
            torch.set_grad_enabled(previous)

    def leaves_them_off():
        torch.set_grad_enabled(False)
        return 6

    def switches_them_on_at_the_end():
        torch.set_grad_enabled(False)
        torch.set_grad_enabled(True)
        return 7

    held = []

    def leaves_inference_mode_on():
        held.append(torch.inference_mode())
        held[-1].__enter__()
        torch.set_grad_enabled(True)
        return 8

    def raises_inside_no_grad():
        if not torch.is_grad_enabled():
            raise ValueError("wrong")
        return 9

    try:
        torch.set_grad_enabled(False)            # called with gradients on, whatever came before
        result, kept = probes.gradient_mode_kept(no_grad_block)
        assert kept and result.tolist() == [2.0, 2.0] and not result.requires_grad
        assert probes.gradient_mode_kept(decorated) == (3, True)
        assert probes.gradient_mode_kept(inference_block) == (4, True)
        assert probes.gradient_mode_kept(restores_in_finally) == (5, True)
        assert probes.gradient_mode_kept(leaves_them_off) == (6, False)
        assert torch.is_grad_enabled()
        assert probes.gradient_mode_kept(switches_them_on_at_the_end) == (7, False)
        assert torch.is_grad_enabled()
        try:
            assert probes.gradient_mode_kept(leaves_inference_mode_on) == (8, False)
        finally:
            for context in reversed(held):         # left in the order entered
                context.__exit__(None, None, None)
        assert probes.gradient_mode_kept(raises_inside_no_grad) == (9, False)
        assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
    finally:
        torch.set_grad_enabled(True)


def test_structure_fills_the_lazy_layers_of_the_second_model():
    """nn.LazyConv2d and nn.LazyLinear get their weights in a first forward pass: the second
    model built to compare initial weights is run once before its parameters are read."""
    def lazy_cnn():
        return nn.Sequential(nn.LazyConv2d(4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.LazyLinear(16), nn.ReLU(), nn.LazyLinear(10))

    out = probes.structure(lazy_cnn, torch.Generator().manual_seed(0))
    assert out["each call draws new initial weights"] is True and out["each call builds a new model"] is True
    assert out["layers defined (Conv2d, Linear, other convolutions)"] == (1, 2, 0)
    assert out["output shape for a batch of 5"] == (5, 10) and out[LOGITS] is True


LOGITS = "returns logits (some outputs negative), not probabilities or other non-negative scores"


def test_structure_tells_an_mlp_from_a_cnn_and_logits_from_probabilities():
    def mlp():
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))

    def cnn_softmax():
        return nn.Sequential(nn.Conv2d(1, 2, 5, stride=4), nn.ReLU(), nn.Flatten(), nn.Linear(72, 10), nn.Softmax(1))

    shared = mlp()
    found = probes.structure(mlp, torch.Generator().manual_seed(0))
    assert found["layers defined (Conv2d, Linear, other convolutions)"] == (0, 2, 0)
    assert found["output shape for a batch of 5"] == (5, 10)
    assert found["nonlinear (an activation between the layers)"] is True
    assert found[LOGITS] is True
    assert found["each call builds a new model"] is True
    found = probes.structure(cnn_softmax, torch.Generator().manual_seed(0))
    assert found["layers run by one forward pass (Conv2d, Linear, other convolutions)"] == (1, 1, 0)
    assert found[LOGITS] is False
    assert probes.structure(lambda: shared, torch.Generator().manual_seed(0))["each call builds a new model"] is False


def test_structure_new_initial_weights_at_every_call():
    """A deepcopy of one template (or a builder that seeds itself) builds new parameters with the
    same initial values at every call: not the new weights the texts ask for. A deepcopy of a
    model built in the call, or a template whose layers are reset, draws new ones."""
    template = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))

    def fresh():
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))

    def seeded():
        torch.manual_seed(0)
        return fresh()

    def reset():
        model = copy.deepcopy(template)
        for layer in model.modules():
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()
        return model

    key = "each call draws new initial weights"
    assert probes.structure(lambda: copy.deepcopy(template), torch.Generator().manual_seed(0))[key] is False
    assert probes.structure(seeded, torch.Generator().manual_seed(0))[key] is False
    assert probes.structure(lambda: copy.deepcopy(fresh()), torch.Generator().manual_seed(0))[key] is True
    assert probes.structure(reset, torch.Generator().manual_seed(0))[key] is True
    assert probes.structure(lambda: template, torch.Generator().manual_seed(0))[key] is False


@pytest.mark.parametrize("last, logits", [(nn.Sigmoid(), False), (nn.Softmax(1), False), (nn.ReLU(), False),
                                          (nn.LogSoftmax(1), True), (nn.Identity(), True)])
def test_structure_logits_means_some_outputs_are_negative(last, logits):
    """A sigmoid, a softmax or a ReLU at the end never gives a negative output: not logits. A
    log-softmax is logits shifted by a constant per row (the same cross-entropy loss); a last Linear
    after a ReLU gives negative scores."""
    def mlp():
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10), last)

    assert probes.structure(mlp, torch.Generator().manual_seed(0))[LOGITS] is logits


@pytest.mark.parametrize("last, logits", [(nn.Identity(), True), (nn.ReLU(inplace=True), True),
                                          (nn.Sigmoid(), False)])
def test_structure_logits_from_the_last_linear_layer_may_all_be_positive(last, logits):
    """A right network whose scores all came out positive (here a bias of 5) still returns logits:
    its outputs are those of its last Linear layer (an in-place ReLU after it changes nothing
    there, since it clamps nothing); a sigmoid of them is not."""
    def mlp():
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10), last)
        nn.init.constant_(net[3].bias, 5.0)
        return net

    assert probes.structure(mlp, torch.Generator().manual_seed(0))[LOGITS] is logits


class _OwnLinear(nn.Module):
    """A forward of one's own with F.linear (no nn.Linear for a hook to see), then ``tail``."""

    def __init__(self, tail=None):
        super().__init__()
        self.hidden = nn.Linear(784, 16)
        self.weight = nn.Parameter(torch.randn(10, 16) * 0.1)
        self.bias = nn.Parameter(torch.zeros(10))
        self.tail = tail

    def forward(self, x):
        scores = torch.nn.functional.linear(torch.relu(self.hidden(x.flatten(1))), self.weight, self.bias)
        return scores if self.tail is None else self.tail(scores)


@pytest.mark.parametrize("build, logits", [
    (lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10), nn.Tanh()), False),
    (lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10), nn.Hardtanh()), False),
    (lambda: _OwnLinear(torch.tanh), False),
    (lambda: _OwnLinear(lambda t: torch.sigmoid(t) - 0.5), False),
    (lambda: _OwnLinear(), True),
    (lambda: _OwnLinear(lambda t: torch.log_softmax(t, 1)), True),
    (lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10), nn.BatchNorm1d(10)), True),
    (lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 10, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten()),
     True),
], ids=["tanh", "hardtanh", "F.linear-tanh", "F.linear-sigmoid-minus-half", "F.linear", "F.linear-log-softmax",
        "batch-norm-after", "conv-global-average"])
def test_structure_an_activation_after_the_last_weighted_layer_is_not_logits(build, logits):
    """A tanh (or a sigmoid shifted down) after the last layer gives negative outputs, but squashed:
    not the raw scores. The last layer may be F.linear in a forward of one's own; linear steps after
    it (a log-softmax, a batch norm, global average pooling after a last convolution) keep logits."""
    assert probes.structure(build, torch.Generator().manual_seed(0))[LOGITS] is logits


def test_structure_an_in_place_relu_after_the_last_linear_is_seen():
    """The last layer's output is copied when it is seen: an in-place ReLU that clamps it
    afterwards gives outputs that are never negative and no longer those of the layer."""
    def mlp():
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10), nn.ReLU(inplace=True))
        nn.init.constant_(net[3].bias, -0.05)
        return net

    assert probes.structure(mlp, torch.Generator().manual_seed(0))[LOGITS] is False


def test_fake_clock_is_put_back_even_when_the_timed_code_raises():
    real = (time.perf_counter, torch.cuda.synchronize)
    with pytest.raises(ZeroDivisionError):
        with doubles.fake_clock([1.0, 2.0]) as clock:
            start = time.perf_counter()
            clock.fn()
            clock.fn()
            assert time.perf_counter() - start == 3.0 and clock.calls == 2
            torch.cuda.synchronize()
            assert clock.syncs == 1
            1 / 0
    assert (time.perf_counter, torch.cuda.synchronize) == real


def test_stand_ins_also_replace_the_names_the_notebook_imported_them_by(monkeypatch):
    """`from time import perf_counter` in a notebook (the kernel's __main__), timeit.default_timer
    and `from torch.cuda import synchronize` read the stand-ins too, and are put back."""
    import timeit
    import types

    notebook = types.ModuleType("__main__")
    notebook.perf_counter, notebook.synchronize = time.perf_counter, torch.cuda.synchronize
    notebook.unrelated = time.sleep                  # not a clock: no stand-in replaces it
    monkeypatch.setitem(sys.modules, "__main__", notebook)
    real = (time.perf_counter, timeit.default_timer, torch.cuda.synchronize)
    with pytest.raises(ZeroDivisionError):
        with doubles.fake_clock([2.0]) as clock:
            start = notebook.perf_counter()
            clock.fn()
            assert notebook.perf_counter() - start == 2.0 and timeit.default_timer() == time.perf_counter()
            notebook.synchronize()
            assert clock.syncs == 1 and notebook.unrelated is time.sleep
            1 / 0
    assert (time.perf_counter, timeit.default_timer, torch.cuda.synchronize) == real
    assert (notebook.perf_counter, notebook.synchronize) == (time.perf_counter, torch.cuda.synchronize)
    with doubles.fake_gpu([1.0]) as gpu:
        notebook.synchronize()
        assert gpu.events == ["sync"]
    assert notebook.synchronize is torch.cuda.synchronize


def test_the_fake_clocks_stand_in_for_every_clock_and_name_the_one_read():
    """time.time, time.monotonic, the CPU-time clocks time.process_time and time.thread_time and
    the _ns forms read the fake clock too (so reading another clock costs only the record of which
    clock), and clocks_read names what the code read."""
    real = {name: getattr(time, name) for name in ("perf_counter", "monotonic", "time", "process_time",
                                                   "thread_time", "perf_counter_ns", "monotonic_ns", "time_ns",
                                                   "process_time_ns", "thread_time_ns")}
    with doubles.fake_clock([0.5, 0.25]) as clock:
        start, start_ns = time.time(), time.monotonic_ns()
        clock.fn()
        assert time.time() - start == 0.5 and time.monotonic_ns() - start_ns == 500_000_000
        assert isinstance(start_ns, int)
    assert clock.clocks_read == {"time", "monotonic"}
    with doubles.fake_clock([0.5]) as clock:
        start, start_ns = time.process_time(), time.thread_time_ns()
        clock.fn()
        assert time.process_time() - start == 0.5 and time.thread_time_ns() - start_ns == 500_000_000
    assert clock.clocks_read == {"process_time", "thread_time"}
    with doubles.fake_clock([0.5]) as clock:
        time.perf_counter_ns()
    assert clock.clocks_read == {"perf_counter"}
    with doubles.fake_gpu([1.0]) as gpu:
        time.time()
        time.perf_counter()
    assert gpu.events == ["clock", "clock"] and gpu.clocks_read == {"time", "perf_counter"}
    assert {name: getattr(time, name) for name in real} == real


def test_another_thread_reads_the_real_clock_during_a_fake_one():
    """The kernel's own threads (IOPub, heartbeat) read time.monotonic for their timeouts: they
    get the real clock, and their readings are neither counted nor logged as the GPU's events."""
    import threading

    from course_utils.checks import stand_in_clocks

    seen = {}

    def other_thread():
        seen["monotonic"], seen["perf_counter"] = time.monotonic(), time.perf_counter()

    with doubles.fake_gpu([1.0]) as gpu, doubles.fake_clock([1.0]) as clock, stand_in_clocks(lambda: 7.0) as read:
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
    assert seen["monotonic"] not in (0.0, 100.0, 7.0)
    assert seen["perf_counter"] not in (0.0, 100.0, 7.0)
    assert gpu.events == [] and clock.clocks_read == set() and read == set()


def test_students_stand_in_clocks_and_time_it(monkeypatch):
    """course_utils.checks.stand_in_clocks (every clock, the names read) and stand_in_time_it (a
    simple timer in place of the notebook's time_it, put back, or removed when there was none)."""
    import types

    from course_utils.checks import stand_in_clocks, stand_in_time_it

    notebook = types.ModuleType("__main__")
    notebook.now = time.time
    monkeypatch.setitem(sys.modules, "__main__", notebook)
    with stand_in_clocks(lambda: 2.5) as read:
        assert (time.perf_counter(), notebook.now(), time.time_ns()) == (2.5, 2.5, 2_500_000_000)
    assert read == {"perf_counter", "time"} and notebook.now is time.time

    def own_time_it(fn, device):
        raise NotImplementedError

    notebook.time_it = own_time_it
    calls = []
    with pytest.raises(KeyError):
        with stand_in_time_it() as timer:
            seconds = notebook.time_it(lambda: calls.append(1), "meta")
            assert isinstance(seconds, float) and seconds >= 0 and calls == [1, 1, 1]
            assert timer.devices == ["meta"]
            raise KeyError
    assert notebook.time_it is own_time_it
    del notebook.time_it
    with stand_in_time_it():
        assert callable(notebook.time_it)
    assert not hasattr(notebook, "time_it")


def test_students_stand_in_replaces_the_same_names(monkeypatch):
    import timeit
    import types

    from course_utils.checks import stand_in

    notebook = types.ModuleType("__main__")
    notebook.perf_counter = time.perf_counter
    monkeypatch.setitem(sys.modules, "__main__", notebook)
    real = time.perf_counter
    with pytest.raises(KeyError):
        with stand_in(time, "perf_counter", lambda: 42.0):
            assert (time.perf_counter(), timeit.default_timer(), notebook.perf_counter()) == (42.0, 42.0, 42.0)
            raise KeyError
    assert time.perf_counter is real and timeit.default_timer is real and notebook.perf_counter is real


def _time_it_without_sync(fn, device, warmup=3, repeats=10):
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        durations.append(time.perf_counter() - start)
    return statistics.median(durations)


def test_a_simulated_gpu_tells_synchronised_timing_from_unsynchronised():
    real = torch.cuda.is_available
    with doubles.fake_gpu([1.5] * 13) as gpu:
        assert torch.cuda.is_available() is True
        seconds = doubles.reference_time_it(gpu.fn, "cuda")
    assert torch.cuda.is_available is real
    assert seconds == 1.5 and doubles.bracketed(gpu.events)
    with doubles.fake_gpu([1.5] * 13) as gpu:
        seconds = _time_it_without_sync(gpu.fn, "cuda")
    assert seconds == 0.0 and not doubles.bracketed(gpu.events)
    with doubles.counted_syncs(gpu_available=False) as syncs:
        doubles.reference_time_it(lambda: None, "cpu", warmup=1, repeats=2)
    assert syncs == []


def test_with_reference_time_it_swaps_the_notebook_name_and_puts_it_back():
    def student_time_it(fn, device, warmup=3, repeats=10):
        raise AssertionError("the student's time_it must not run here")

    namespace = {"time_it": student_time_it}
    exec("def time_training_step():\n    return time_it(lambda: None, 'cpu', warmup=0, repeats=1)", namespace)
    returned = []
    seconds, devices = doubles.with_reference_time_it(namespace, namespace["time_training_step"], returned=returned)
    assert isinstance(seconds, float) and devices == ["cpu"] and returned == [seconds]
    assert namespace["time_it"] is student_time_it
    del namespace["time_it"]
    doubles.with_reference_time_it(namespace, namespace["time_training_step"])
    assert "time_it" not in namespace
    spy = doubles.spy_net()
    spy(torch.zeros(3, 1, 28, 28))
    assert [entry[1:] for entry in spy.seen] == [((3, 1, 28, 28), "torch.float32", "cpu")]


def test_the_guard_installs_fresh_kernel_probes_and_doubles_modules():
    """In a bare Python (as in the kernel, where the course folder is not visible), the guard's
    source builds the three modules from text; probes uses that very kernel's record."""
    check = (guard_source() + "import sys\n"
             "from course_grader import kernel, probes, doubles\n"
             "assert probes.record is kernel.record, 'probes must use the fresh kernel module'\n"
             "assert probes.outcome(lambda: 1 / 0) == 'raised ZeroDivisionError'\n"
             "with doubles.fake_clock([2.0]) as c:\n    c.fn()\n"
             "print(sorted(m for m in sys.modules if m.startswith('course_grader')), c.calls)\n")
    done = subprocess.run([sys.executable, "-I", "-c", check], capture_output=True, text=True, timeout=120,
                          cwd="/")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['course_grader',", "'course_grader.doubles',", "'course_grader.kernel',",
                                   "'course_grader.probes']", "1"]


def test_the_guard_refuses_a_kernel_on_another_python():
    """The guard carries the grader's compiled code: a kernel whose bytecode differs (another
    Python) says so instead of running it."""
    check = ("import importlib.util\nimportlib.util.MAGIC_NUMBER = b'\\x00\\x00\\r\\n'\n" + guard_source())
    done = subprocess.run([sys.executable, "-I", "-c", check], capture_output=True, text=True, timeout=120,
                          cwd="/")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(
        "RuntimeError: the grading kernel runs another Python than the grader"), done.stderr


def test_the_guard_keeps_the_helpers_line_numbers():
    """Docstrings are left out of the code the guard sends; a helper's traceback still points at
    its line in inside/kernel.py."""
    import inspect

    from course_grader.inside import kernel
    code = (guard_source() + "import traceback\nfrom course_grader import kernel\n"
            "try:\n    kernel.record('x', object())\nexcept Exception as e:\n"
            "    print(traceback.extract_tb(e.__traceback__)[1].lineno)\n")
    done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=120,
                          cwd="/")
    assert done.returncode == 0, done.stderr
    lines, first = inspect.getsourcelines(kernel.record)
    assert first < int(done.stdout) < first + len(lines), done.stdout


def test_on_gpu_stands_in_for_a_gpu_tensor():
    """on_gpu(t): a view that says cuda:0 and, like a GPU tensor, cannot become a NumPy array (so
    neither imshow) until it is moved to the CPU; what it computes stays on the "GPU"."""
    import numpy as np

    layer_output = torch.nn.Conv2d(1, 2, 3)(torch.randn(1, 1, 5, 5))[0]
    x = doubles.on_gpu(layer_output)
    assert x.device == torch.device("cuda", 0) and x.is_cuda and x.requires_grad
    for to_numpy in (lambda t: t.detach().numpy(), lambda t: np.asarray(t.detach()),
                     lambda t: t.detach().mean(0).numpy(), lambda t: t.detach()[1].clone().numpy()):
        with pytest.raises(TypeError, match="Use Tensor.cpu"):
            to_numpy(x)
    expected = layer_output.detach().numpy()
    for moved in (x.detach().cpu(), x.cpu().detach(), x.detach().to("cpu"), x.detach().to(torch.device("cpu")),
                  x.detach().to("cpu", torch.float64), x.detach().to(torch.zeros(1))):
        assert type(moved) is torch.Tensor and moved.device.type == "cpu"
        assert np.allclose(moved.numpy(), expected)
    assert x.detach().tolist() == layer_output.detach().tolist() and float(x.detach().abs().max()) > 0
    for forced in (x.numpy(force=True), x.detach().numpy(force=True)):   # torch copies to the CPU itself
        assert type(forced) is np.ndarray and np.allclose(forced, expected)
    weight = doubles.on_gpu(torch.nn.Parameter(torch.randn(3, 2, 3, 3)))
    assert weight.requires_grad and weight.detach().mean(dim=1).cpu().numpy().shape == (3, 3, 3)


def test_layout_verdict_judges_a_function_on_a_non_contiguous_input_against_its_contiguous_copy():
    """layout_verdict: the same result as on the contiguous copy, or what differs; and whether the
    inputs were left as they were (by either call)."""
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64).transpose(2, 3)

    def halved_in_place(t):
        t /= 2
        return t

    assert probes.layout_verdict(lambda t: t * 2, [x]) == ("as its contiguous copy", True)
    assert probes.layout_verdict(halved_in_place, [x.clone()]) == ("as its contiguous copy", False)
    assert probes.layout_verdict(lambda t: t.view(-1), [x]) == ("raised RuntimeError", True)
    assert probes.layout_verdict(lambda t: t.as_strided(t.shape, t.contiguous().stride()), [x]) == \
        ("values differ from those on its contiguous copy", True)
    assert probes.layout_verdict(lambda t: t.reshape(-1)[:3], [x]) == ("as its contiguous copy", True)
    assert probes.layout_verdict(lambda t: t[:1] if t.is_contiguous() else t, [x]) == \
        ("a result of another shape than on its contiguous copy", True)
    assert probes.layout_verdict(lambda a, b: a + b, [x, x.clone()]) == ("as its contiguous copy", True)

    def always_raises(t):
        raise ValueError("a stub")

    assert probes.layout_verdict(always_raises, [x]) == ("as its contiguous copy", True)   # another test's mistake
