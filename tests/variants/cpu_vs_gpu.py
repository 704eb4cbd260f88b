"""Variants of the cpu_vs_gpu solutions: plausible mistakes, and correct alternatives."""
from tests.variants import Variant

TI = "test_time_it"                        # number of calls, warm-up not timed
MEDIAN = "test_time_it_median"
FLOAT = "test_time_it_float"
CUDA = "test_time_it_cuda"                 # synchronisation around each timed call on CUDA
NO_SYNC = "test_time_it_cpu_no_sync"
STEP = "test_time_training_step"           # an optimisation step happens
STEP_FLOAT = "test_time_training_step_float"
BATCH = "test_time_training_step_batch"    # shape and dtype of the batch
FIXED = "test_time_training_step_fixed_batch"
USES_TIME_IT = "test_time_training_step_time_it"
DEVICE = "test_time_training_step_device"

_DOC_TIME_IT = '''def time_it(fn, device, warmup=3, repeats=10):
    """Median wall-clock time of one call fn(), in seconds."""
'''

_DOC_STEP = '''def time_training_step(model, batch_size, device):
    """Seconds that one optimisation step of `model` takes on a fixed random batch of MNIST's shape."""
'''

VARIANTS = [
    # ------------------------------------------------------------------ time_it: wrong
    Variant(
        name="time_it_times_warmup",
        why="times the warm-up calls too (the median is taken over warmup + repeats durations)",
        lost=frozenset({TI}),
        replace={"time_it": _DOC_TIME_IT + '''
    device = torch.device(device)
    durations = []
    for _ in range(warmup + repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        durations.append(time.perf_counter() - start)
    return float(statistics.median(durations))
'''},
    ),
    Variant(
        name="time_it_mean_not_median",
        why="returns the mean of the timed durations instead of the median",
        lost=frozenset({MEDIAN}),
        replace={"time_it": _DOC_TIME_IT + '''
    device = torch.device(device)
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        durations.append(time.perf_counter() - start)
    return float(sum(durations) / len(durations))
'''},
    ),
    Variant(
        name="time_it_lower_median",
        why="uses torch.median, which returns the lower of the two middle values for an even count",
        lost=frozenset({MEDIAN}),
        replace={"time_it": _DOC_TIME_IT + '''
    device = torch.device(device)
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        durations.append(time.perf_counter() - start)
    return torch.tensor(durations, dtype=torch.float64).median().item()
'''},
    ),
    Variant(
        name="time_it_never_synchronizes",
        why="never calls torch.cuda.synchronize, so on a GPU it times only the queuing of the work",
        lost=frozenset({CUDA}),
        replace={"time_it": _DOC_TIME_IT + '''
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        durations.append(time.perf_counter() - start)
    return float(statistics.median(durations))
'''},
    ),
    Variant(
        name="time_it_syncs_only_before_reading",
        why="synchronises before reading the clock but never before starting it, so queued warm-up work is timed",
        lost=frozenset({CUDA}),
        replace={"time_it": _DOC_TIME_IT + '''
    device = torch.device(device)
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        durations.append(time.perf_counter() - start)
    return float(statistics.median(durations))
'''},
    ),
    Variant(
        name="time_it_syncs_after_reading_clock",
        why="synchronises before starting the clock, but reads the clock before the second synchronisation",
        lost=frozenset({CUDA}),
        replace={"time_it": _DOC_TIME_IT + '''
    device = torch.device(device)
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        durations.append(time.perf_counter() - start)
        if device.type == "cuda":
            torch.cuda.synchronize()
    return float(statistics.median(durations))
'''},
    ),
    Variant(
        name="time_it_compares_device_to_string",
        why="tests device == 'cuda', so torch.device('cuda:0') is never synchronised",
        lost=frozenset({CUDA}),
        replace={"time_it": _DOC_TIME_IT + '''
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        durations.append(time.perf_counter() - start)
    return float(statistics.median(durations))
'''},
    ),
    Variant(
        name="time_it_off_by_one_repeats",
        why="times repeats - 1 calls (range(1, repeats))",
        lost=frozenset({TI, MEDIAN}),
        replace={"time_it": _DOC_TIME_IT + '''
    device = torch.device(device)
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(1, repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        durations.append(time.perf_counter() - start)
    return float(statistics.median(durations))
'''},
    ),
    # ------------------------------------------------------------------ time_it: correct
    Variant(
        name="time_it_course_utils_sync_numpy_median",
        why="correct: course_utils.timing.synchronize around each timed call, numpy's median, a list comprehension",
        replace={"time_it": '''import numpy as np
from course_utils.timing import synchronize


''' + _DOC_TIME_IT + '''
    for _ in range(warmup):
        fn()

    def one_timed_call():
        synchronize(device)
        t0 = time.perf_counter()
        fn()
        synchronize(device)
        return time.perf_counter() - t0

    return float(np.median([one_timed_call() for _ in range(repeats)]))
'''},
    ),
    Variant(
        name="time_it_perf_counter_imported_by_name",
        why="correct: `from time import perf_counter`, the clock the notebook names, bound by name",
        replace={"time_it": '''from time import perf_counter


''' + _DOC_TIME_IT + '''
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        t0 = perf_counter()
        fn()
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        durations.append(perf_counter() - t0)
    return float(statistics.median(durations))
'''},
    ),
    Variant(
        name="time_it_timeit_default_timer",
        why="correct: timeit.default_timer, which is time.perf_counter",
        replace={"time_it": '''import timeit


''' + _DOC_TIME_IT + '''
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        t0 = timeit.default_timer()
        fn()
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        durations.append(timeit.default_timer() - t0)
    return float(statistics.median(durations))
'''},
    ),
    Variant(
        name="time_it_synchronize_imported_by_name",
        why="correct: `from torch.cuda import synchronize`, called by that name on a CUDA device",
        replace={"time_it": '''from torch.cuda import synchronize


''' + _DOC_TIME_IT + '''
    on_gpu = torch.device(device).type == "cuda"
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        if on_gpu:
            synchronize()
        t0 = time.perf_counter()
        fn()
        if on_gpu:
            synchronize()
        durations.append(time.perf_counter() - t0)
    return float(statistics.median(durations))
'''},
    ),
    Variant(
        name="time_it_sorted_median_syncs_warmup",
        why="correct: also synchronises after every warm-up call, computes the median by sorting",
        replace={"time_it": _DOC_TIME_IT + '''
    on_cuda = torch.device(device).type == "cuda"
    for _ in range(warmup):
        fn()
        if on_cuda:
            torch.cuda.synchronize()
    durations = []
    for _ in range(repeats):
        if on_cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if on_cuda:
            torch.cuda.synchronize()
        t1 = time.perf_counter()
        durations.append(t1 - t0)
    durations.sort()
    middle = len(durations) // 2
    if len(durations) % 2:
        return float(durations[middle])
    return (durations[middle - 1] + durations[middle]) / 2
'''},
    ),
    # ------------------------------------------------------------------ time_training_step: wrong
    Variant(
        name="step_new_batch_every_step",
        why="makes a new random batch inside step(), so data generation is timed and the batch is not fixed",
        lost=frozenset({FIXED}),
        replace={"time_training_step": _DOC_STEP + '''
    model = model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        images = torch.rand(batch_size, 1, 28, 28, device=device)
        labels = torch.randint(0, 10, (batch_size,), device=device)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    return time_it(step, device)
'''},
    ),
    Variant(
        name="step_forgets_optimizer_step",
        why="zero_grad, forward, backward, but never optimizer.step(): no parameter changes",
        lost=frozenset({STEP}),
        replace={"time_training_step": _DOC_STEP + '''
    images = torch.rand(batch_size, 1, 28, 28).to(device)
    labels = torch.randint(0, 10, (batch_size,)).to(device)
    model = model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()

    return time_it(step, device)
'''},
    ),
    Variant(
        name="step_times_forward_only",
        why="times only the forward pass under torch.no_grad(): no optimisation step",
        lost=frozenset({STEP}),
        replace={"time_training_step": _DOC_STEP + '''
    images = torch.rand(batch_size, 1, 28, 28).to(device)
    model = model.to(device)

    def step():
        with torch.no_grad():
            model(images)

    return time_it(step, device)
'''},
    ),
    Variant(
        name="step_batch_float64",
        why="makes the batch in float64 (and the model with it), not MNIST's float32",
        lost=frozenset({BATCH}),
        replace={"time_training_step": _DOC_STEP + '''
    images = torch.rand(batch_size, 1, 28, 28, dtype=torch.float64).to(device)
    labels = torch.randint(0, 10, (batch_size,)).to(device)
    model = model.to(device=device, dtype=torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    return time_it(step, device)
'''},
    ),
    Variant(
        name="step_timed_by_hand",
        why="times the steps with its own perf_counter loop (total time / steps) instead of time_it",
        lost=frozenset({USES_TIME_IT}),
        replace={"time_training_step": _DOC_STEP + '''
    images = torch.rand(batch_size, 1, 28, 28).to(device)
    labels = torch.randint(0, 10, (batch_size,)).to(device)
    model = model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    start = time.perf_counter()
    for _ in range(10):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
    return (time.perf_counter() - start) / 10
'''},
    ),
    Variant(
        name="step_returns_tensor",
        why="returns the seconds as a tensor rather than a Python float",
        lost=frozenset({STEP_FLOAT}),
        replace={"time_training_step": _DOC_STEP + '''
    images = torch.rand(batch_size, 1, 28, 28).to(device)
    labels = torch.randint(0, 10, (batch_size,)).to(device)
    model = model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    return torch.tensor(time_it(step, device))
'''},
    ),
    # ------------------------------------------------------------------ time_training_step: correct
    Variant(
        name="step_adam_module_loss",
        why="correct: Adam, nn.CrossEntropyLoss, torch.randn images, set_to_none zero_grad",
        replace={"time_training_step": _DOC_STEP + '''
    device = torch.device(device)
    model.to(device).train()
    x = torch.randn(batch_size, 1, 28, 28, device=device)
    y = torch.randint(10, size=(batch_size,), device=device)
    criterion = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def one_step():
        opt.zero_grad(set_to_none=True)
        criterion(model(x), y).backward()
        opt.step()

    seconds = time_it(one_step, device, warmup=2, repeats=7)
    return seconds
'''},
    ),
    Variant(
        name="step_sgd_momentum_functional",
        why="correct: SGD with momentum, F.cross_entropy, batch made on the CPU with a seeded generator",
        replace={"time_training_step": _DOC_STEP + '''
    g = torch.Generator().manual_seed(123)
    batch = torch.rand((batch_size, 1, 28, 28), generator=g)
    targets = torch.randint(0, 10, (batch_size,), generator=g)
    batch, targets = batch.to(device), targets.to(device)
    model = model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def train_step():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(batch), targets)
        loss.backward()
        optimizer.step()

    return float(time_it(train_step, device))
'''},
    ),
]

# ---------------------------------------------------------------------------------------------
# Issue 11's categories, written fresh: right code the grader must pay in full, and wrong code
# it must not pay. "lost" lists exactly the test cells each one must fail.
VARIANTS += [
    # right-but-zeroed before: guarding the synchronisation with torch.cuda.is_available() too
    Variant(
        name="time_it_guarded_by_is_available",
        why="correct: `if device != 'cpu' and torch.cuda.is_available(): torch.cuda.synchronize()`",
        replace={"time_it": _DOC_TIME_IT + '''
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if device != "cpu" and torch.cuda.is_available():
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device != "cpu" and torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
'''},
    ),
    Variant(
        name="time_it_device_type_and_is_available_numpy",
        why="correct: synchronises when torch.device(device).type == 'cuda' and a GPU is available; np.median",
        replace={"time_it": '''import numpy as np


''' + _DOC_TIME_IT + '''
    gpu = torch.device(device).type == "cuda" and torch.cuda.is_available()
    [fn() for _ in range(warmup)]
    samples = np.empty(repeats)
    for k in range(repeats):
        if gpu:
            torch.cuda.synchronize(device)
        begin = time.perf_counter()
        fn()
        if gpu:
            torch.cuda.synchronize(device)
        samples[k] = time.perf_counter() - begin
    return float(np.median(samples))
'''},
    ),
    # wrong-but-paid before: the mean, a new batch every step, no synchronisation
    Variant(
        name="time_it_statistics_mean",
        why="statistics.mean of the timed calls: one slow outlier moves it, the median ignores it",
        lost=frozenset({MEDIAN}),
        replace={"time_it": _DOC_TIME_IT + '''
    on_gpu = torch.device(device).type == "cuda"
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(repeats):
        if on_gpu:
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if on_gpu:
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - t)
    return float(statistics.mean(seconds))
'''},
    ),
    Variant(
        name="time_it_no_synchronize_comprehension",
        why="times fn() in a comprehension and never synchronises: on a GPU it measures the queuing",
        lost=frozenset({CUDA}),
        replace={"time_it": _DOC_TIME_IT + '''
    for _ in range(warmup):
        fn()

    def once():
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    return float(statistics.median([once() for _ in range(repeats)]))
'''},
    ),
    Variant(
        name="time_it_syncs_whenever_a_gpu_exists",
        why="synchronises whenever torch.cuda.is_available(), whatever the device: CPU timings start CUDA",
        lost=frozenset({NO_SYNC}),
        replace={"time_it": _DOC_TIME_IT + '''
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        durations.append(time.perf_counter() - start)
    return float(statistics.median(durations))
'''},
    ),
    Variant(
        name="step_fresh_noise_each_step",
        why="makes the batch once but adds fresh noise to it inside step(): a different batch every step",
        lost=frozenset({FIXED}),
        replace={"time_training_step": _DOC_STEP + '''
    model = model.to(device)
    base = torch.rand(batch_size, 1, 28, 28, device=device)
    targets = torch.randint(0, 10, (batch_size,), device=device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)

    def step():
        x = (base + 0.01 * torch.randn_like(base)).clamp(0, 1)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), targets).backward()
        opt.step()

    return time_it(step, device)
'''},
    ),
]

# ---------------------------------------------------------------------------------------------
# The 2026-12-05 audit: a clock other than perf_counter costs test_time_it_float only (the fakes
# stand in for time.time and time.monotonic too); Part 2's visible tests time with a stand-in
# timer, so a mistake in Part 1 costs nothing there; a step without zero_grad loses its point.
_STEP_BODY = """
    images = torch.rand(batch_size, 1, 28, 28).to(device)
    labels = torch.randint(0, 10, (batch_size,)).to(device)
    model = model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
"""


def _time_it_reading(clock: str, seconds: str = "{}") -> str:
    """A right time_it, except that it reads the clock ``clock`` (time.<clock>() - start, converted
    to seconds by ``seconds``)."""
    return _DOC_TIME_IT + f"""
    on_gpu = torch.device(device).type == "cuda"
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        if on_gpu:
            torch.cuda.synchronize()
        start = time.{clock}()
        fn()
        if on_gpu:
            torch.cuda.synchronize()
        durations.append({seconds.format(f"(time.{clock}() - start)")})
    return float(statistics.median(durations))
"""


VARIANTS += [
    Variant(
        name="time_it_time_time",
        why="reads the wall clock time.time(), not time.perf_counter() (the text asks for perf_counter)",
        lost=frozenset({FLOAT}),
        replace={"time_it": _time_it_reading("time")},
    ),
    Variant(
        name="time_it_monotonic_ns",
        why="reads time.monotonic_ns() and converts to seconds: another clock than the one asked for",
        lost=frozenset({FLOAT}),
        replace={"time_it": _time_it_reading("monotonic_ns", "{} / 1e9")},
    ),
    Variant(
        name="time_it_perf_counter_ns",
        why="correct: time.perf_counter_ns(), the same clock in integer nanoseconds, divided by 1e9",
        replace={"time_it": _time_it_reading("perf_counter_ns", "{} / 1e9")},
    ),
    Variant(
        name="time_it_returns_tensor",
        why="returns the median as a 0-dimensional tensor: costs the type test only, not Part 2's",
        lost=frozenset({FLOAT}),
        replace={"time_it": _DOC_TIME_IT + """
    on_gpu = torch.device(device).type == "cuda"
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        if on_gpu:
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if on_gpu:
            torch.cuda.synchronize()
        durations.append(time.perf_counter() - start)
    return torch.tensor(statistics.median(durations), dtype=torch.float64)
"""},
    ),
    Variant(
        name="time_it_left_a_stub",
        why="Part 1 left as the stub (raises), Part 2 right: Part 2 earns its points",
        lost=frozenset({TI, MEDIAN, FLOAT, CUDA, NO_SYNC}),
        replace={"time_it": _DOC_TIME_IT + """
    raise NotImplementedError("time_it")
"""},
    ),
    Variant(
        name="step_no_zero_grad",
        why="never zeroes the gradients: every backward pass adds to the previous steps' gradients",
        lost=frozenset({STEP}),
        replace={"time_training_step": _DOC_STEP + _STEP_BODY + """
    def step():
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()

    return time_it(step, device)
"""},
    ),
    Variant(
        name="step_zero_grad_once_before_timing",
        why="calls optimizer.zero_grad() once, before timing, not in every step",
        lost=frozenset({STEP}),
        replace={"time_training_step": _DOC_STEP + _STEP_BODY + """
    optimizer.zero_grad()

    def step():
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    return time_it(step, device)
"""},
    ),
    Variant(
        name="step_model_zero_grad_after_step",
        why="correct: model.zero_grad(set_to_none=False) at the end of every step (the first starts from none)",
        replace={"time_training_step": _DOC_STEP + _STEP_BODY + """
    def step():
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
        model.zero_grad(set_to_none=False)

    return time_it(step, device)
"""},
    ),
    Variant(
        name="step_reads_loss_item",
        why="calls loss.item() inside step(), which the text forbids (on a GPU it waits every step): fails on 'meta'",
        lost=frozenset({DEVICE}),
        replace={"time_training_step": _DOC_STEP + _STEP_BODY + """
    losses = []

    def step():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    return time_it(step, device)
"""},
    ),
]

#: A wrong variant that passes every visible test and loses exactly one hidden test
#: (tests/end_to_end/test_colab.py teaches with it; docs/authoring.md).
SUBTLE_VARIANT = "time_it_syncs_after_reading_clock"

# ---------------------------------------------------------------------------------------------
# Audit 2026-12-05, second grader: more students' timers and steps.
_SYNC_HELPERS = """
    on_gpu = torch.device(device).type == "cuda"

    def sync():
        if on_gpu:
            torch.cuda.synchronize()

"""

VARIANTS += [
    Variant(
        name="time_it_returns_total",
        why="returns the total of the timed durations instead of their median",
        lost=frozenset({MEDIAN}),
        replace={"time_it": _DOC_TIME_IT + _SYNC_HELPERS + '''
    for _ in range(warmup):
        fn()
    total = 0.0
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        total += time.perf_counter() - start
    return total
'''},
    ),
    Variant(
        name="time_it_no_warmup",
        why="forgets the warm-up calls: fn is called `repeats` times only",
        lost=frozenset({TI}),
        replace={"time_it": _DOC_TIME_IT + _SYNC_HELPERS + '''
    durations = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        durations.append(time.perf_counter() - start)
    return float(statistics.median(durations))
'''},
    ),
    Variant(
        name="time_it_syncs_after_starting_clock",
        why="synchronises after starting the clock, so the warm-up's queued work lands in the first timed call",
        lost=frozenset({CUDA}),
        replace={"time_it": _DOC_TIME_IT + _SYNC_HELPERS + '''
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        sync()
        fn()
        sync()
        durations.append(time.perf_counter() - start)
    return float(statistics.median(durations))
'''},
    ),
    Variant(
        name="time_it_torch_quantile",
        why="correct: durations in a float64 tensor, torch.quantile(..., 0.5) (the mean of the middle two), .item()",
        replace={"time_it": _DOC_TIME_IT + '''
    dev = torch.device(device)
    [fn() for _ in range(warmup)]
    times = torch.empty(repeats, dtype=torch.float64)
    for i in range(repeats):
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        t0 = time.perf_counter()
        fn()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        times[i] = time.perf_counter() - t0
    return torch.quantile(times, 0.5).item()
'''},
    ),
    Variant(
        name="step_model_not_moved",
        why="moves the batch to the device but forgets model.to(device)",
        lost=frozenset({DEVICE}),
        replace={"time_training_step": _DOC_STEP + '''
    images = torch.rand(batch_size, 1, 28, 28).to(device)
    labels = torch.randint(0, 10, (batch_size,)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    return time_it(step, device)
'''},
    ),
    Variant(
        name="step_optimizer_closure",
        why="correct: optimizer.step(closure), the closure zeroes the gradients, computes the loss and backpropagates",
        replace={"time_training_step": _DOC_STEP + '''
    model = model.to(device)
    x = torch.rand(batch_size, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (batch_size,), device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    loss_fn = nn.CrossEntropyLoss()

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    return time_it(lambda: optimizer.step(closure), device)
'''},
    ),
]

VARIANTS += [
    Variant(
        name="step_moves_batch_inside_step",
        why="keeps the batch on the CPU and moves it to the device inside step(): a copy is timed at every "
            "step (full marks before the 2026-12-05 audit)",
        lost=frozenset({DEVICE}),
        replace={"time_training_step": _DOC_STEP + '''
    model = model.to(device)
    images = torch.rand(batch_size, 1, 28, 28)
    labels = torch.randint(0, 10, (batch_size,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        x, y = images.to(device), labels.to(device)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    return time_it(step, device)
'''},
    ),
]

# ---------------------------------------------------------------------------------------------
# The optimiser is made once, before timing, like the batch: one made inside step() restarts
# Adam's running averages at every step and times the optimiser's construction too
# (test_time_training_step: the same optimiser at every step).
VARIANTS += [
    Variant(
        name="step_adam_made_inside_step",
        why="makes a new Adam optimiser inside step(): its state restarts at every step and its "
            "construction is timed (full marks before)",
        lost=frozenset({STEP}),
        replace={"time_training_step": _DOC_STEP + '''
    images = torch.rand(batch_size, 1, 28, 28).to(device)
    labels = torch.randint(0, 10, (batch_size,)).to(device)
    model = model.to(device)

    def step():
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    return time_it(step, device)
'''},
    ),
    Variant(
        name="step_sgd_made_inside_step",
        why="makes a new SGD optimiser inside step(): the same update as one made once, but its "
            "construction is timed at every step (full marks before)",
        lost=frozenset({STEP}),
        replace={"time_training_step": _DOC_STEP + '''
    model = model.to(device)
    x = torch.rand(batch_size, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (batch_size,), device=device)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return time_it(step, device)
'''},
    ),
    Variant(
        name="step_adamw_closure_made_once",
        why="correct: AdamW made once before timing, stepped with a closure inside a named step()",
        replace={"time_training_step": _DOC_STEP + '''
    device = torch.device(device)
    model = model.to(device).train()
    images = torch.rand(batch_size, 1, 28, 28).to(device)
    labels = torch.randint(0, 10, (batch_size,)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)

    def closure():
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        return loss

    def step():
        optimizer.step(closure)

    return time_it(step, device)
'''},
    ),
]

# ---------------------------------------------------------------------------------------------
# Real-student audit (helper H3): timers and steps as students write them. Misgraded before the fix
# of this audit: step_returns_milliseconds, step_rounds_seconds and step_seconds_per_image kept full
# marks (test_time_training_step_float now also checks that the seconds time_it returned come back
# unchanged); time_it_process_time and time_it_thread_time_ns lost test_time_it, _median and _cuda
# too (the fake clocks did not stand in for the CPU-time clocks; now they do, so the other clock
# costs test_time_it_float only, as the text says); step_batch_without_channel_axis lost
# test_time_training_step and _float too (their hidden CNNs could not run on (N, 28, 28); they now
# read any batch of 28x28 images as (N, 1, 28, 28), the batch's shape being test_..._batch's point).


def _time_it_with(sync: str = "before_and_after", clock: str = "time.perf_counter()",
                  seconds: str = "{}", median: str = "float(statistics.median(durations))") -> str:
    """A time_it written as students write it, with one piece chosen."""
    before = "        if on_gpu:\n            torch.cuda.synchronize()\n" if sync == "before_and_after" else ""
    after = before
    around = sync == "around_the_loop"
    return _DOC_TIME_IT + (
        '\n    on_gpu = torch.device(device).type == "cuda"\n'
        "    for _ in range(warmup):\n"
        "        fn()\n"
        + ("    if on_gpu:\n        torch.cuda.synchronize()\n" if around else "")
        + "    durations = []\n"
        "    for _ in range(repeats):\n"
        + before
        + f"        t0 = {clock}\n"
        "        fn()\n"
        + after
        + f"        durations.append({seconds.format(f'({clock} - t0)')})\n"
        + ("    if on_gpu:\n        torch.cuda.synchronize()\n" if around else "")
        + f"    return {median}\n"
    )


def _step_returning(result: str) -> str:
    return _DOC_STEP + _STEP_BODY + f"""
    def step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    return {result}
"""


VARIANTS += [
    Variant(
        name="time_it_sorted_upper_middle",
        why="sorted(durations)[n // 2]: the upper of the two middle durations for an even count",
        lost=frozenset({MEDIAN}),
        replace={"time_it": _time_it_with(median="float(sorted(durations)[len(durations) // 2])")},
    ),
    Variant(
        name="time_it_milliseconds",
        why="returns the median in milliseconds ((t1 - t0) * 1000), not seconds",
        lost=frozenset({MEDIAN}),
        replace={"time_it": _time_it_with(seconds="{} * 1000")},
    ),
    Variant(
        name="time_it_process_time",
        why="reads time.process_time(), the process's CPU time, not time.perf_counter(): costs the clock's "
            "point only (lost test_time_it, _median and _cuda too before this audit)",
        lost=frozenset({FLOAT}),
        replace={"time_it": _time_it_with(clock="time.process_time()")},
    ),
    Variant(
        name="time_it_thread_time_ns",
        why="reads time.thread_time_ns() / 1e9, the thread's CPU time: costs the clock's point only "
            "(lost test_time_it, _median and _cuda too before this audit)",
        lost=frozenset({FLOAT}),
        replace={"time_it": _time_it_with(clock="time.thread_time_ns()", seconds="{} / 1e9")},
    ),
    Variant(
        name="time_it_syncs_once_around_the_loop",
        why="synchronises once before and once after the timed loop, not around each timed call",
        lost=frozenset({CUDA}),
        replace={"time_it": _time_it_with(sync="around_the_loop")},
    ),
    Variant(
        name="time_it_device_not_cpu",
        why="synchronises when device != 'cpu': torch.device('cpu') is not the string, so it synchronises "
            "on the CPU (and raises on a machine without a GPU)",
        lost=frozenset({NO_SYNC}),
        replace={"time_it": _time_it_with().replace('on_gpu = torch.device(device).type == "cuda"',
                                                    'on_gpu = device != "cpu"')},
    ),
    Variant(
        name="time_it_cuda_in_str_device_np_median_ns",
        why="correct: 'cuda' in str(device), time.perf_counter_ns() / 1e9, np.median (a NumPy float64)",
        replace={"time_it": "import numpy as np\n\n\n" + _time_it_with(
            clock="time.perf_counter_ns()", seconds="{} / 1e9", median="np.median(durations)").replace(
            'on_gpu = torch.device(device).type == "cuda"', 'on_gpu = "cuda" in str(device)')},
    ),
    Variant(
        name="step_returns_milliseconds",
        why="returns time_it(step, device) * 1000, milliseconds (full marks before this audit)",
        lost=frozenset({STEP_FLOAT}),
        replace={"time_training_step": _step_returning("time_it(step, device) * 1000")},
    ),
    Variant(
        name="step_rounds_seconds",
        why="returns round(seconds, 4): a step of 50 microseconds comes back as 0.0001 or 0.0 (full marks "
            "before this audit)",
        lost=frozenset({STEP_FLOAT}),
        replace={"time_training_step": _step_returning("round(time_it(step, device), 4)")},
    ),
    Variant(
        name="step_seconds_per_image",
        why="returns the seconds per image, time_it(...) / batch_size, not per step (full marks before this audit)",
        lost=frozenset({STEP_FLOAT}),
        replace={"time_training_step": _step_returning("time_it(step, device) / batch_size")},
    ),
    Variant(
        name="step_batch_without_channel_axis",
        why="images of shape (batch_size, 28, 28), no channel axis: costs the batch's point only (lost "
            "test_time_training_step and _float too before this audit)",
        lost=frozenset({BATCH}),
        replace={"time_training_step": _DOC_STEP + '''
    model = model.to(device)
    images = torch.rand(batch_size, 28, 28).to(device)
    labels = torch.randint(0, 10, (batch_size,)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    return time_it(step, device)
'''},
    ),
    Variant(
        name="step_keyword_time_it_randn",
        why="correct: model.train(), torch.randn images, zero_grad(set_to_none=True), time_it(fn=step, "
            "device=device, warmup=3, repeats=10) by keywords",
        replace={"time_training_step": _DOC_STEP + '''
    model.train()
    model.to(device)
    x = torch.randn(batch_size, 1, 28, 28).to(device)
    y = torch.randint(0, 10, (batch_size,)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return time_it(fn=step, device=device, warmup=3, repeats=10)
'''},
    ),
    Variant(
        name="step_optimizer_before_model_to",
        why="correct: the optimiser is made before model.to(device) (which moves the same parameters in place)",
        replace={"time_training_step": _DOC_STEP + '''
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    model.to(device)
    images = torch.rand(batch_size, 1, 28, 28, device=device)
    labels = torch.randint(0, 10, (batch_size,), device=device)

    def step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    return time_it(step, device)
'''},
    ),
]
