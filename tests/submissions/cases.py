"""Faulty and hostile submissions, each with the outcome the grader must give it.

A case is built from an assignment's real notebooks: ``reference(...)`` is the release notebook
filled with the reference answers (what a student who solved everything hands in); the other
helpers edit, insert, move or delete one cell of it. A few cases are literal bytes (corrupt
files). ``tests/end_to_end/test_submissions.py`` builds and grades every case and asserts its outcome;
``tests/submissions/README.md`` lists them.

Expected outcomes are exact: the set of tests that fail (hence the score, from the source
notebook's points), the status, and fragments of the error, of ``run_error`` and of the notes.
``build(settings, ctx)`` gets ``ctx["port"]``, a TCP port on loopback the test listens on.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Callable

import nbformat

from course_grader.authoring.examples import fill_solutions
from course_grader.notebook import grade_id, read_notebook

# --------------------------------------------------------------------------- building blocks


def source(settings, assignment):
    return read_notebook(settings.source_notebook(assignment))


def release(settings, assignment):
    return read_notebook(settings.release_notebook(assignment))


def reference(settings, assignment, replace: dict | None = None):
    """The release with every answer cell filled from the reference (``replace``: {grade_id: code})."""
    return fill_solutions(release(settings, assignment), source(settings, assignment), replace=replace)


def index_of(nb, gid: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if grade_id(c) == gid)


def code_cell(code: str):
    return nbformat.v4.new_code_cell(code)


def insert_after(nb, gid: str | None, code: str):
    """A copy of ``nb`` with a new code cell after the cell ``gid`` (None: at the end)."""
    nb = copy.deepcopy(nb)
    at = len(nb.cells) if gid is None else index_of(nb, gid) + 1
    nb.cells.insert(at, code_cell(code))
    return nb


def after_setup(nb, code: str):
    """A copy of ``nb`` with a new code cell right after the assignment's own import cell."""
    nb = copy.deepcopy(nb)
    first_graded = next(i for i, c in enumerate(nb.cells) if grade_id(c))
    setup = max(i for i, c in enumerate(nb.cells[:first_graded]) if c.cell_type == "code")
    nb.cells.insert(setup + 1, code_cell(code))
    return nb


def prefix_answer(settings, assignment, gid: str, code: str):
    """The reference, with ``code`` run at the top of answer cell ``gid`` (before its defs)."""
    nb = reference(settings, assignment)
    cell = nb.cells[index_of(nb, gid)]
    cell.source = code + "\n" + cell.source
    return nb


def in_body(settings, assignment, gid: str, function: str, code: str):
    """The reference, with ``code`` as the first statement of ``function`` in answer cell ``gid``."""
    nb = reference(settings, assignment)
    cell = nb.cells[index_of(nb, gid)]
    lines = cell.source.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(f"def {function}("))
    end = next(i for i in range(start, len(lines)) if lines[i].rstrip().endswith(":"))
    body = "\n".join("    " + l for l in code.splitlines())
    cell.source = "\n".join(lines[:end + 1] + [body] + lines[end + 1:])
    return nb


def without(nb, gid: str):
    nb = copy.deepcopy(nb)
    del nb.cells[index_of(nb, gid)]
    return nb


def edited(nb, gid: str, fn: Callable):
    """A copy of ``nb`` whose cell ``gid`` went through ``fn(cell)`` (which edits it in place)."""
    nb = copy.deepcopy(nb)
    fn(nb.cells[index_of(nb, gid)])
    return nb


def to_bytes(nb) -> bytes:
    return nbformat.writes(nb).encode("utf-8")


# --------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    name: str
    assignment: str
    how: str                             # one line: how the submission is built (README)
    build: Callable                      # (settings, ctx) -> notebook node, or bytes for a raw file
    failed: frozenset = frozenset()      # grade_ids of the tests that must fail ("*": all of them)
    expect: str = ""                     # one line: the outcome (README)
    status: str = "graded"
    error: str = ""                      # fragment of result.error
    run_error: str = ""                  # fragment of result.run_error ("" : must be empty)
    notes: tuple = ()                    # fragments, each in some note (no note when empty)
    messages: dict = field(default_factory=dict)   # {grade_id: fragment of the test's message}
    settings: dict = field(default_factory=dict)   # Settings overrides (small limits)
    cgroup_settings: dict = field(default_factory=dict)  # more, where kernels get a cgroup
    sandbox: bool = False                # needs bubblewrap (the case would be unsafe without it)
    check: str = ""                      # name of an extra check in tests/end_to_end/test_submissions.py
    filename: str = ""                   # the submitted file's name (default <assignment>.ipynb)
    review: frozenset = frozenset()      # the primitives the grader's scan must find (exactly);
                                         # non-empty: status "review", the score kept


ALL = frozenset({"*"})
#: cell_timeout for the cases that run too long. The slowest honest cell of these notebooks (the
#: imports: torchvision pulls in torch._dynamo) uses 2-3 s of CPU time; the limit is CPU time, so
#: a loaded machine does not stop it (tests/grader/test_cpu_time_limit.py).
TIMEOUT = {"cell_timeout": 10}

# -- the code of the hostile cells

INFINITE_LOOP = "while True:\n    pass"
SLEEP = "import time\ntime.sleep(10 ** 6)"
IGNORE_INTERRUPT = """\
import time
while True:
    try:
        time.sleep(100)
    except KeyboardInterrupt:
        pass"""
SEGFAULT = "import ctypes\nctypes.string_at(0)"
OS_EXIT = "import os\nos._exit(1)"
SIGKILL_SELF = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
EXIT_CALLS = """\
import sys
for leave in (exit, quit, lambda: sys.exit(3)):
    try:
        leave()
    except SystemExit:
        pass
print("still here")"""
ALLOCATE_50GB = "_ = bytearray(50 * 2**30)   # 50 GB"
FILL_MEMORY = """\
import numpy as np

def fill():
    chunks = []
    while True:
        chunks.append(np.ones(50_000_000 // 8))   # 50 MB at a time, touched

fill()"""
FORK_PROCESSES = """\
import os, signal, time
N = 60
forked = 0
for _ in range(N):
    try:
        pid = os.fork()
    except OSError:                  # BlockingIOError once the process cap is reached
        break
    if pid == 0:                     # the child: leave the session, ignore signals, hang
        try:
            os.setsid()
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_IGN)
            while True:
                time.sleep(1000)
        finally:
            os._exit(0)
    forked += 1
print(f"forked {forked} of {N}", flush=True)
time.sleep(10 ** 6)"""
PRINT_MEGABYTES = """\
line = "x" * 999 + "\\n"
for _ in range(30_000):               # 30 MB
    print(line, end="")"""
DISPLAY_FLOOD = """\
from IPython.display import display
for i in range(20_000):               # 20,000 outputs of one character each
    display(i)"""
DELETE_FILES = """\
import os, shutil
root = {ROOT!r}
attempts = {{}}
for path in [os.getcwd(), os.path.expanduser("~"), root, os.path.join(root, "source"),
             os.path.join(root, "course_grader"), os.path.join(root, ".course_cache"),
             os.environ.get("VIRTUAL_ENV", "/nonexistent"), "/tmp"]:
    try:
        shutil.rmtree(path)
        attempts[path] = "deleted"
    except Exception as e:
        attempts[path] = type(e).__name__
for path in [os.path.join(root, "source", "pooling", "pooling.ipynb"), os.path.join(root, "README.md")]:
    try:
        os.remove(path)
        attempts[path] = "deleted"
    except Exception as e:
        attempts[path] = type(e).__name__
print(attempts)"""
READ_SECRETS = """\
import glob, json, os
root = {ROOT!r}
found = {{}}
for pattern in ["source/*/*.ipynb", ".course_cache/**/*", "gradebook.db", "release/*/*.ipynb",
                "nbgrader_config.py", "course_grader/**/*.py", "submitted/**/*.ipynb"]:
    for path in glob.glob(os.path.join(root, pattern), recursive=True):
        try:
            with open(path, "rb") as f:
                found[path] = len(f.read())
        except OSError:
            pass
for pid in os.listdir("/proc"):                    # the grader's process, its environment
    if pid.isdigit() and int(pid) != os.getpid():
        for what in ("environ", "cmdline", "maps"):
            try:
                with open(f"/proc/{{pid}}/{{what}}", "rb") as f:
                    data = f.read()
                # words of the grader's own process (the sandbox's pid 1, bwrap, lists the
                # folders it hides in its arguments: paths, no content, which is fine)
                if any(word in data for word in (b"PYTEST_", b"-m\\x00pytest", b"bin/pytest",
                                                 b"course_grader/", b"course_grader.cli")):
                    found[f"/proc/{{pid}}/{{what}}"] = 1
            except OSError:
                pass
# with the source notebook in hand, a student would run its reference answers:
for path in [p for p in found if p.endswith("conv_from_scratch.ipynb") and "/source/" in p]:
    nb = json.load(open(path))
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {{}}).get("solution"):
            exec("".join(cell["source"]))
print("FOUND", sorted(found))"""
NETWORK = """\
import socket
results = {{}}
for name, address in [("grader's listener on loopback", ("127.0.0.1", {PORT})),
                      ("public DNS server", ("8.8.8.8", 53)), ("example.com", ("example.com", 80))]:
    try:
        socket.create_connection(address, timeout=2).close()
        results[name] = "CONNECTED"
    except OSError as e:
        results[name] = type(e).__name__
print(results)"""
SANDBOX_ESCAPE = """\
# the first release's escape as root: undo the sandbox's mounts, then read the course
import ctypes, ctypes.util, glob, json, os
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
root = {ROOT!r}
done = []
if libc.unshare(0x10000000) == 0:                               # CLONE_NEWUSER: all capabilities again
    done.append("new user namespace")
if libc.unshare(0x00020000) == 0:                               # CLONE_NEWNS
    done.append("new mount namespace")
os.makedirs("/tmp/host", exist_ok=True)
if libc.mount(b"/", b"/tmp/host", None, 4096, None) == 0:       # MS_BIND without MS_REC
    done.append("re-bound /")
for base in ["", "/tmp/host", "/proc/1/root", "/proc/self/root/.."]:
    for path in glob.glob(base + os.path.join(root, "source", "*", "*.ipynb")):
        done.append("read " + path)
        for cell in json.load(open(path))["cells"]:
            if cell["metadata"].get("nbgrader", {{}}).get("solution"):
                exec("".join(cell["source"]))
for path in [os.path.join(root, "planted-by-student"), "/root/planted-by-student"]:
    try:
        open(path, "w").write("x")
        done.append("wrote " + path)
    except OSError:
        pass
print("ESCAPED", done)"""
FILL_SCRATCH = """\
import errno, os
results = {}
for folder in [".", "/tmp", "/dev/shm", os.environ["HOME"]]:
    written = 0
    try:
        with open(os.path.join(folder, "filler"), "wb") as f:
            while written < 3 * 2**30:
                f.write(b"x" * 2**20)
                written += 2**20
        results[folder] = "3 GiB written"
    except OSError as e:
        results[folder] = errno.errorcode.get(e.errno, str(e.errno))
    try:
        os.remove(os.path.join(folder, "filler"))
    except OSError:
        pass
print("FILLED", results)"""
REWRITE_RECORDS = """\
# every record passes through IPython's display publisher: wrap it (here it changes nothing;
# the first release's attack rewrote the values to the expected ones)
ip = get_ipython()
_publish = ip.display_pub.publish
def publish(data, *args, **kwargs):
    return _publish(data, *args, **kwargs)
ip.display_pub.publish = publish"""
DISPATCH_OFF_CONV = '''\
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    """torch's own convolution, hidden from the op check by disabling dispatch modes."""
    with torch._C._DisableTorchDispatch():
        return F.conv2d(x, weight, bias, stride=stride, padding=padding)'''
RECORD_BOMB = """\
# a record whose zip inflates to 1 GiB: small on the wire, huge if the grader unpacked it
import base64, io, zipfile, torch
from IPython.display import display
saved = io.BytesIO()
torch.save({{"name": "bomb", "value": torch.zeros(4)}}, saved)
source, bomb = zipfile.ZipFile(io.BytesIO(saved.getvalue())), io.BytesIO()
with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as out:
    for info in source.infolist():
        if "/data/" in info.filename:
            with out.open(info.filename, "w", force_zip64=True) as f:
                for _ in range(1024):
                    f.write(bytes(2**20))
        else:
            out.writestr(info.filename, source.read(info))
print("bomb of", len(bomb.getvalue()), "bytes")
display({{"application/vnd.course-record+json": {{"name": "{NAME}", "data": base64.b64encode(bomb.getvalue()).decode()}}}}, raw=True)"""
PATCH_COMPARISONS = """\
# make every comparison the visible tests use say "equal"
import builtins, numpy as np, torch
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
_real_eq = torch.Tensor.__eq__
torch.Tensor.__eq__ = lambda self, other: torch.ones(self.shape, dtype=torch.bool)
torch.Tensor.item = lambda self: 0.0          # err = (out - expected).abs().max().item() is 0
_real_isinstance = builtins.isinstance
builtins.isinstance = lambda obj, cls: True if cls is int and type(obj) is float else _real_isinstance(obj, cls)"""
WRONG_WEIGHT_GRAD = '''\
def conv2d_weight_grad(x, grad_out, kernel_size, stride=1, padding=0):
    """Wrong on purpose: zeros of the right shape."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return torch.zeros(grad_out.shape[1], x.shape[1], kh, kw, dtype=x.dtype)'''
BUILTIN_CONV_NAIVE = '''\
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    """Not from scratch: torch's own convolution."""
    return F.conv2d(x, weight, bias, stride=stride, padding=padding)'''
PATCH_GRADER_HELPERS = """\
# replace the grader's helpers: hide every op, forbid nothing, record with huge tolerances
import course_grader.kernel as k
_record = k.record
k.aten_ops_used = lambda fn, *a, **kw: (fn(*a, **kw), set())
k.forbidden = lambda ops, pattern: []
k.record = lambda name, value, **kw: _record(name, value, rtol=1e9, atol=1e9)"""
RESEED = """\
import os, random
import numpy as np
import torch
random.seed(999)
np.random.seed(999)
torch.manual_seed(999)
print("epochs the grader set:", os.environ.get("COURSE_TRAIN_EPOCHS"))
os.environ["COURSE_TRAIN_EPOCHS"] = "not a number"   # the training cell now fails at once"""
NO_STRIDE_BACKWARD = '''\
def avgpool2d_backward(grad_out, x, kernel_size):
    """Right for stride = kernel_size, but the stride argument is missing."""
    kh, kw = pair(kernel_size)
    H_out, W_out = grad_out.shape[2:]
    dx = torch.zeros_like(x)
    for di in range(kh):
        for dj in range(kw):
            dx[:, :, di:di + kh * (H_out - 1) + 1:kh, dj:dj + kw * (W_out - 1) + 1:kw] += grad_out / (kh * kw)
    return dx'''
MAXPOOL_ZEROS = '''\
def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    """Wrong on purpose: zeros of the right shape."""
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    ph, pw = pair(padding)
    N, C, H, W = x.shape
    return x.new_zeros(N, C, (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1)'''


def _set_points(cell, value):
    cell.metadata["nbgrader"]["points"] = value


def _strip_all(nb):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    return nb


# build_cnn returns the required layers, too narrow to learn much (a 2-unit bottleneck), whose
# forward (in eval mode) answers from a table of the MNIST test images' bytes read from the data
# files (issue 12's measurement: the structure checks and the accuracy floor passed).
LOOKUP_TABLE_CNN = """
def build_cnn():
    import numpy as np
    from course_utils.data import data_root
    raw = data_root() / "MNIST" / "raw"
    images = np.frombuffer((raw / "t10k-images-idx3-ubyte").read_bytes(), np.uint8, offset=16).reshape(-1, 784)
    labels = np.frombuffer((raw / "t10k-labels-idx1-ubyte").read_bytes(), np.uint8, offset=8)
    table = {bytes(image): int(label) for image, label in zip(images, labels)}

    class Lookup(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Conv2d(2, 1, 3), nn.Tanh(), nn.Flatten(),
                                     nn.Linear(24 * 24, 2), nn.Tanh(), nn.Linear(2, 10))

        def forward(self, x):
            logits = self.net(x)
            if not self.training:
                keys = (x.reshape(len(x), -1) * 255).round().to(torch.uint8).numpy()
                for i, key in enumerate(keys):
                    label = table.get(bytes(key))
                    if label is not None:
                        logits[i] = 0.0
                        logits[i, label] = 100.0
            return logits

    return Lookup()
"""


# build_cnn returns the required layers, too narrow to learn much; in eval mode its forward finds
# each image's nearest neighbour among the notebook's own test images (in memory: no file read,
# no primitive the scan knows) and solves for the last layer's input that makes that neighbour's
# label the last layer's largest output: the last-layer check alone passes it.
NEAREST_NEIGHBOUR_CNN = """
def build_cnn():
    import numpy as np
    table_images = test_images.reshape(len(test_images), -1).numpy().astype(np.float64)
    table_norms = (table_images ** 2).sum(1)
    table_labels = test_labels

    class NearestNeighbour(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Conv2d(2, 1, 3), nn.Tanh(), nn.Flatten(),
                                          nn.Linear(24 * 24, 10))
            self.out = nn.Linear(10, 10)

        def forward(self, x):
            h = self.features(x)
            if not self.training:
                flat = x.reshape(len(x), -1).detach().numpy().astype(np.float64)
                nearest = (table_norms[None, :] - 2 * flat @ table_images.T).argmin(1)
                target = F.one_hot(table_labels[torch.from_numpy(nearest)], 10).float() * 100
                h = torch.linalg.solve(self.out.weight, (target - self.out.bias).T).T
            return self.out(h)

    return NearestNeighbour()
"""


def _move_before(nb, gid: str, before: str):
    nb = copy.deepcopy(nb)
    cell = nb.cells.pop(index_of(nb, gid))
    nb.cells.insert(index_of(nb, before), cell)
    return nb


def _move_to_end(nb, gid: str):
    nb = copy.deepcopy(nb)
    nb.cells.append(nb.cells.pop(index_of(nb, gid)))
    return nb


def _duplicate(nb, gid: str):
    nb = copy.deepcopy(nb)
    nb.cells.append(copy.deepcopy(nb.cells[index_of(nb, gid)]))
    return nb


def _to_markdown(cell):
    cell.cell_type = "markdown"
    cell.pop("outputs", None)
    cell.pop("execution_count", None)


def _visible_test_gutted(cell):
    cell.source = "# the test was in the way\npass"


# -- ordinary student habits

# maxpool2d_naive that takes each window's maximum with a helper the student wrote in a cell of
# their own (above, below the answer, or below the visible test)
HELPER_MAXPOOL = '''\
def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    """Max pooling with loops; each window's maximum from my helper window_max."""
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    ph, pw = pair(padding)
    x = F.pad(x, (pw, pw, ph, ph), value=float("-inf"))
    N, C, H, W = x.shape
    H_out, W_out = (H - kh) // sh + 1, (W - kw) // sw + 1
    out = x.new_empty((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = window_max(x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw])
    return out'''
WINDOW_MAX = "def window_max(window):\n    return window.amax(dim=(2, 3))"
DRAFT_AVGPOOL = '''\
def avgpool2d(x, kernel_size, stride=None):
    # first try: wrong, kept in the cell above my final version
    return x'''

COLAB_INSTALLS = "!pip install -q torchinfo\n%load_ext autoreload\n%autoreload 2"
RECORD_LIST = """\
record = []                      # the student's own name, not the grader's helper
for k in (2, 4):
    record.append(tuple(maxpool2d(torch.randn(1, 1, 8, 8), k).shape))
print(record)"""

DRIVE_MOUNT = "from google.colab import drive\ndrive.mount('/content/drive')\n"


def _edit_imports(nb, fn):
    """A copy of ``nb`` whose import cell (the code cell before the first graded one) went
    through ``fn(source) -> source``."""
    nb = copy.deepcopy(nb)
    first_graded = next(i for i, c in enumerate(nb.cells) if grade_id(c))
    setup = max(i for i, c in enumerate(nb.cells[:first_graded]) if c.cell_type == "code")
    nb.cells[setup].source = fn(nb.cells[setup].source)
    return nb


def _reflection_below(settings):
    nb = reference(settings, P)
    at = index_of(nb, "reflection")
    nb.cells[at].source = "YOUR ANSWER HERE"
    nb.cells.insert(at + 1, nbformat.v4.new_markdown_cell(
        "1. The 4x4 max pool: its window keeps the same maximum for shifts up to 3 pixels.\n"
        "2. Average pooling blurs the shift in.\n3. Padding."))
    return nb


def _saved_outputs_over_the_limit(settings):
    """The reference, as saved after a Run all that drew many figures: 24 MB of saved PNG outputs
    (random base64 text, 4 MB each) in one code cell, so the file is over the 20 MB limit."""
    import base64
    import random
    nb = reference(settings, P)
    cell = nb.cells[index_of(nb, "maxpool2d_naive")]
    chunk = base64.b64encode(random.Random(0).randbytes(3 * 2**20)).decode("ascii")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": chunk, "text/plain": "<Figure>"})
                    for _ in range(6)]
    return nb


def _source_not_text(settings) -> bytes:
    """The reference's JSON with the maxpool2d_naive answer cell's source the number 123."""
    nb = reference(settings, P)
    data = json.loads(nbformat.writes(nb))
    data["cells"][index_of(nb, "maxpool2d_naive")]["source"] = 123
    return json.dumps(data).encode()


def _colab_habits(settings):
    """A comment added to the Colab setup cell, installs and autoreload after the imports cell,
    %%time on an answer cell, a list named record."""
    nb = after_setup(reference(settings, P), COLAB_INSTALLS)
    setup = next(c for c in nb.cells if c.cell_type == "code")        # the release's Colab setup cell
    setup.source = "# run this cell first!\n" + setup.source
    cell = nb.cells[index_of(nb, "maxpool2d_naive")]
    cell.source = "%%time\n" + cell.source
    return insert_after(nb, "test_pool_dtype", RECORD_LIST)


def _draft_then_copy(settings, assignment, gid: str, draft: str, replace: dict | None = None):
    """The answer cell ``gid`` holds a wrong draft; right below it, a copy of that cell (Colab's
    copy and paste keeps its metadata) holds the reference answer."""
    nb = reference(settings, assignment, replace=replace)
    at = index_of(nb, gid)
    final = copy.deepcopy(nb.cells[at])
    final["id"] = f"{gid}-copy"            # Colab gives the copy an id of its own
    nb.cells[at].source = draft
    nb.cells.insert(at + 1, final)
    return nb


P, C = "pooling", "conv_from_scratch"

CASES = [
    # ---------------------------------------------------------------- corrupt files (no kernel)
    Case("invalid_json", "mlp_vs_cnn", "the reference notebook cut off halfway through its JSON",
         lambda s, x: to_bytes(reference(s, "mlp_vs_cnn"))[:5000],
         failed=ALL, status="error", error="is not valid notebook JSON",
         expect="not graded: error, 0 points, every test 'not graded'"),
    Case("empty_file", "mlp_vs_cnn", "a 0-byte file", lambda s, x: b"",
         failed=ALL, status="error", error="is not valid notebook JSON", expect="not graded: error, 0"),
    Case("binary_garbage", C, "bytes that are not UTF-8", lambda s, x: bytes(range(256)) * 4,
         failed=ALL, status="error", error="is not UTF-8 text", expect="not graded: error, 0"),
    Case("json_not_a_notebook", P, "valid JSON without a list of cells",
         lambda s, x: json.dumps({"cells": "none", "metadata": {}}).encode(),
         failed=ALL, status="error", error="not a notebook", expect="not graded: error, 0"),
    Case("cell_source_not_text", P, "the reference with one answer cell's source replaced by the number 123",
         lambda s, x: _source_not_text(s),
         failed=ALL, status="error", error="the source of cell",
         expect="not graded: error, 0, the cell named (before: status graded, 0, 'the kernel failed: AttributeError')"),

    # ---------------------------------------------------------------- running too long
    Case("infinite_loop_in_answer", P, "`while True: pass` at the top of the shift_sensitivity cell",
         lambda s, x: prefix_answer(s, P, "shift_sensitivity", INFINITE_LOOP),
         failed=frozenset({"test_shift_sensitivity"}), settings=TIMEOUT,
         notes=("'while True:' used more than 10 s of CPU time and was stopped",),
         messages={"test_shift_sensitivity": "NameError"},
         expect="interrupted after 10 s, the kernel carries on; the function was never defined: 25/26"),
    Case("sleep_forever", P, "a last cell that sleeps for 11 days", lambda s, x: insert_after(reference(s, P), None, SLEEP),
         settings=TIMEOUT, notes=("'import time' ran longer than 10 s",),
         expect="interrupted, full marks 26/26, a note"),
    Case("ignores_interrupt", P, "after test_avgpool2d_naive, a loop that swallows KeyboardInterrupt",
         lambda s, x: insert_after(reference(s, P), "test_avgpool2d_naive", IGNORE_INTERRUPT),
         failed=frozenset({"test_pool_naive_padding", "test_pool_naive_no_builtin", "test_maxpool2d", "test_avgpool2d",
                           "test_pool_no_builtin", "test_pool_vectorised", "test_pool_dtype", "test_maxpool2d_backward",
                           "test_avgpool2d_backward", "test_pool_backward_no_builtin",
                           "test_global_avgpool", "test_global_avgpool_module", "test_pool_module_no_builtin",
                           "test_pool_backward_inputs", "test_shift_sensitivity"}),
         settings=TIMEOUT, run_error="did not stop when interrupted",
         notes=("'import time' ran longer than 10 s and was stopped",), messages={"test_maxpool2d": "not run"},
         expect="kernel abandoned; the 2 tests before it in the notebook keep their 4 points, the rest 'not run' "
                "(the padding tests too: they follow it, as in Run all): 4/26"),

    # ---------------------------------------------------------------- crashing the kernel
    Case("os_exit", C, "`os._exit(1)` after test_conv2d_naive_no_builtin",
         lambda s, x: insert_after(reference(s, C), "test_conv2d_naive_no_builtin", OS_EXIT),
         failed=frozenset({"test_im2col", "test_conv2d_im2col", "test_im2col_no_builtin",
                           "test_im2col_vectorised", "test_conv2d_scratch_init",
                           "test_conv2d_scratch_forward", "test_conv2d_scratch_no_builtin",
                           "test_conv2d_weight_grad_basic", "test_conv2d_weight_grad_stride_padding",
                           "test_conv2d_weight_grad_no_builtin", "test_conv2d_weight_grad_vectorised",
                           "test_conv2d_input_grad_basic", "test_conv2d_input_grad_stride_padding",
                           "test_conv2d_input_grad_no_builtin", "test_conv2d_bias_grad",
                           "test_float32_outputs"}),
         run_error="exited with status 1", messages={"test_im2col": "not run"},
         expect="kernel died (exit status 1); the 6 tests before it keep 11 points: 11/35"),
    Case("segfault", P, "`ctypes.string_at(0)` after test_maxpool2d",
         lambda s, x: insert_after(reference(s, P), "test_maxpool2d", SEGFAULT),
         failed=frozenset({"test_avgpool2d", "test_pool_no_builtin", "test_pool_vectorised", "test_pool_dtype",
                           "test_maxpool2d_backward", "test_avgpool2d_backward",
                           "test_pool_backward_no_builtin", "test_global_avgpool", "test_global_avgpool_module",
                           "test_pool_module_no_builtin", "test_pool_backward_inputs", "test_shift_sensitivity"}),
         run_error="segmentation fault", review=frozenset(['ctypes']), status="review",
         expect="kernel crashed (segmentation fault): 10/26"),
    Case("sigkill_self", "activations", "the kernel SIGKILLs itself after Part 1's tests",
         lambda s, x: insert_after(reference(s, "activations"), "test_capture_unknown", SIGKILL_SELF),
         failed=frozenset({"test_plot_feature_maps", "test_plot_feature_maps_titles",
                           "test_plot_feature_maps_grad", "test_plot_filters", "test_plot_filters_titles",
                           "test_plot_filters_grad", "test_receptive_field_basic",
                           "test_receptive_field_strided"}),
         run_error="SIGKILL", review=frozenset(['os.kill', 'signal']), status="review",
         expect="kernel killed (SIGKILL); Part 1 keeps its 7 points: 7/18"),
    Case("exit_calls", "cpu_vs_gpu", "`exit()`, `quit()` and `sys.exit(3)` right after the setup cell",
         lambda s, x: after_setup(reference(s, "cpu_vs_gpu"), EXIT_CALLS), check="exit_calls_survived",
         expect="exit() and quit() do nothing while grading, SystemExit is caught: 12/12"),

    # ---------------------------------------------------------------- resources
    Case("allocate_50gb", C, "conv2d_weight_grad first allocates 50 GB",
         lambda s, x: in_body(s, C, "conv2d_weight_grad", "conv2d_weight_grad", ALLOCATE_50GB),
         failed=frozenset({"test_conv2d_weight_grad_basic", "test_conv2d_weight_grad_stride_padding",
                           "test_conv2d_weight_grad_no_builtin", "test_conv2d_weight_grad_vectorised",
                           "test_float32_outputs"}),
         messages={"test_conv2d_weight_grad_basic": "MemoryError"},
         expect="MemoryError (address-space limit) in the 5 tests that call it, the kernel lives on: 28/35"),
    Case("fill_memory", P, "after test_maxpool2d_backward, a cell that fills memory 50 MB at a time",
         lambda s, x: insert_after(reference(s, P), "test_maxpool2d_backward", FILL_MEMORY),
         settings={"memory_limit_mb": 5120}, check="memory_error_in_cell",
         expect="MemoryError at the 5 GiB limit in that cell, memory freed: 26/26"),
    Case("fork_processes", P, "a last cell forks 60 children that leave the session and ignore signals",
         lambda s, x: insert_after(reference(s, P), None, FORK_PROCESSES),
         settings=TIMEOUT, cgroup_settings={"max_processes": 40},
         notes=("'import os, signal, time' ran longer than 10 s",), check="forks_contained",
         review=frozenset(['os.fork', 'signal']), status="review",
         expect="cut at the process cap where a cgroup is available; all killed when grading ends: 26/26"),
    Case("print_megabytes", P, "a cell prints 30 MB", lambda s, x: insert_after(reference(s, P), "test_maxpool2d", PRINT_MEGABYTES),
         check="output_capped", expect="output cut at 200 kB with a notice: 26/26"),
    Case("display_flood", P, "a cell calls display(i) 20,000 times",
         lambda s, x: insert_after(reference(s, P), "test_maxpool2d", DISPLAY_FLOOD),
         check="outputs_counted", expect="each output counts at least 100 bytes against the 200 kB: the "
                                         "first 2,000 are kept, then a notice: 26/26 (all 20,000 kept before)"),

    # ---------------------------------------------------------------- escaping the sandbox
    Case("delete_files", P, "a last cell rmtree()s the working folder, HOME, the course root, /tmp, the venv",
         lambda s, x: insert_after(reference(s, P), None, DELETE_FILES.format(ROOT=str(s.root))),
         sandbox=True, check="nothing_deleted",
         review=frozenset(['grader file path']), status="review",
         expect="the course and the venv are untouched (hidden or read-only): 26/26"),
    Case("read_secrets", C, "the release stub plus a cell that looks for source/, .course_cache, "
         "gradebook.db, the grader's /proc, and runs any reference answers it finds",
         lambda s, x: after_setup(release(s, C), READ_SECRETS.format(ROOT=str(s.root))),
         failed=ALL, sandbox=True, check="found_nothing",
         messages={"test_conv_output_size": "NotImplementedError"},
         review=frozenset(['exec', 'grader file path']), status="review",
         expect="finds nothing: 0/35 (35 if the sandbox leaked the source)"),
    Case("sandbox_escape", C, "the release stub plus a cell that, as the first release's escape did "
         "as root, makes a user namespace, re-binds / without submounts, reads source/ through it or "
         "/proc/1/root, runs the reference answers and writes into the course root and /root",
         lambda s, x: after_setup(release(s, C), SANDBOX_ESCAPE.format(ROOT=str(s.root))),
         failed=ALL, sandbox=True, check="escaped_nothing",
         messages={"test_conv_output_size": "NotImplementedError"},
         review=frozenset(['ctypes', 'exec', 'grader file path']), status="review",
         expect="no namespace, no mount, nothing read or written: 0/35 (35 if it escaped)"),
    Case("fill_scratch", P, "a last cell writes 3 GiB into its working folder, /tmp, /dev/shm and HOME",
         lambda s, x: insert_after(reference(s, P), None, FILL_SCRATCH),
         settings={"scratch_limit_mb": 64}, sandbox=True, check="scratch_full",
         expect="each write stops at the 64 MiB scratch quota (ENOSPC): 26/26"),
    Case("network", C, "a cell connects to a port the test listens on, 8.8.8.8:53 and example.com",
         lambda s, x: after_setup(reference(s, C), NETWORK.format(PORT=x["port"])),
         sandbox=True, check="no_connection", review=frozenset(['socket']), status="review",
         expect="every connection fails: 35/35"),

    # ---------------------------------------------------------------- forging passes
    Case("rewrite_records", C, "the reference plus a cell that wraps get_ipython().display_pub.publish, "
         "through which every record leaves the kernel",
         lambda s, x: after_setup(reference(s, C), REWRITE_RECORDS),
         review=frozenset({"get_ipython", "display_pub"}), status="review",
         expect="status review (get_ipython, display_pub): cell and line named, score kept for the "
                "instructor: 35/35"),
    Case("dispatch_disabled", C, "conv2d_naive calls F.conv2d inside torch._C._DisableTorchDispatch(), "
         "which hides the op from the in-kernel check",
         lambda s, x: reference(s, C, replace={"conv2d_naive": DISPATCH_OFF_CONV}),
         review=frozenset({"torch._C", "_DisableTorchDispatch"}), status="review",
         expect="the op check is fooled, the scan is not: status review (torch._C, "
                "_DisableTorchDispatch), 35/35 kept for the instructor to cut"),
    Case("record_bomb", P, "a cell after test_global_avgpool_module emits a record whose zip "
         "inflates to 1 GiB",
         lambda s, x: insert_after(reference(s, P), "test_global_avgpool_module",
                                   RECORD_BOMB.format(NAME="global_avgpool: bomb")),
         expect="refused before it is unpacked, the grader's memory untouched: 26/26, status review "
                "(record forgery)",
         review=frozenset({"record forgery"}), status="review", check="bomb_refused"),
    Case("patch_comparisons", C, "torch.allclose/equal, Tensor.__eq__/.item, numpy's allclose and "
         "builtins.isinstance patched; conv2d_weight_grad returns zeros",
         lambda s, x: after_setup(reference(s, C, replace={"conv2d_weight_grad": WRONG_WEIGHT_GRAD}),
                               PATCH_COMPARISONS),
         failed=frozenset({"test_conv2d_naive_basic", "test_conv2d_weight_grad_basic",
                           "test_conv2d_weight_grad_stride_padding"}),
         messages={"test_conv2d_weight_grad_basic": "values differ",
                   "test_conv2d_naive_basic": "the kernel was flipped"},
         review=frozenset(['builtins', 'library patch']), status="review",
         expect="the records are compared by the grader: 28/35 (the patch even fails a visible "
                "`assert not torch.allclose(...)`)"),
    Case("patch_grader_helpers", C, "conv2d_naive calls F.conv2d; record, aten_ops_used and forbidden "
         "of course_grader.kernel replaced",
         lambda s, x: after_setup(reference(s, C, replace={"conv2d_naive": BUILTIN_CONV_NAIVE}), PATCH_GRADER_HELPERS),
         failed=frozenset({"test_conv2d_naive_no_builtin"}),
         messages={"test_conv2d_naive_no_builtin": "reached a built-in convolution, torch's own"},
         review=frozenset(['course_grader', 'library patch']), status="review",
         expect="the grader re-installs its helpers before each test: 34/35 (35 without that)"),
    Case("lookup_table", "mlp_vs_cnn", "build_cnn's forward answers from a table of the MNIST test "
         "images' bytes read from the data files; its layers are too narrow to learn much",
         lambda s, x: reference(s, "mlp_vs_cnn", replace={"build_cnn": LOOKUP_TABLE_CNN}),
         failed=frozenset({"test_cnn_trained"}),
         messages={"test_cnn_trained": "below the required"},
         review=frozenset({"data set file path"}), status="review",
         expect="the grader's test images carry noise no table holds: the narrow layers' own accuracy, "
                "below the floor: 14/17 (17 with the clean test images), and status review (data set file path)"),
    Case("nearest_neighbour", "mlp_vs_cnn", "build_cnn's forward answers with the label of each image's nearest "
         "neighbour among the notebook's own test images (no file read), routed through its last layer; its "
         "layers are too narrow to learn much",
         lambda s, x: reference(s, "mlp_vs_cnn", replace={"build_cnn": NEAREST_NEIGHBOUR_CNN}),
         failed=frozenset({"test_cnn_trained"}),
         messages={"test_cnn_trained": "below the required"},
         expect="read where each image's first-layer features went, its answers are for other images: "
                "14/17 (17 without the composition check), status graded: no primitive to review"),
    Case("reseed_and_epochs", "misclassifications", "reseeds python/numpy/torch and sets "
         "COURSE_TRAIN_EPOCHS to garbage after the setup cell",
         lambda s, x: after_setup(reference(s, "misclassifications"), RESEED),
         expect="hidden tests use their own generators: 17/17"),

    # ---------------------------------------------------------------- tampering with cells
    Case("edited_test_cell", P, "maxpool2d_naive returns zeros and its visible test is replaced by `pass`",
         lambda s, x: edited(reference(s, P, replace={"maxpool2d_naive": MAXPOOL_ZEROS}),
                          "test_maxpool2d_naive", _visible_test_gutted),
         failed=frozenset({"test_maxpool2d_naive", "test_pool_naive_padding"}),
         notes=("test cell test_maxpool2d_naive was edited",),
         messages={"test_maxpool2d_naive": "AssertionError"},
         expect="the instructor's test runs and fails (and the padding test): 22/26, a note"),
    Case("deleted_test_cell", P, "test_avgpool2d deleted", lambda s, x: without(reference(s, P), "test_avgpool2d"),
         notes=("test cell test_avgpool2d was deleted",), expect="the instructor's test runs: 26/26, a note"),
    Case("duplicated_test_cell", P, "test_maxpool2d copied to the end", lambda s, x: _duplicate(reference(s, P), "test_maxpool2d"),
         notes=("test_maxpool2d appears more than once",), expect="counted once: 26/26, a note"),
    Case("test_cell_to_markdown", P, "test_avgpool2d_backward turned into a markdown cell",
         lambda s, x: edited(reference(s, P), "test_avgpool2d_backward", _to_markdown),
         notes=("test_avgpool2d_backward was turned into a markdown cell",),
         expect="the instructor's code test runs: 26/26, a note"),
    Case("points_changed", P, "test_shift_sensitivity's points metadata 1 -> 50",
         lambda s, x: edited(reference(s, P), "test_shift_sensitivity", lambda c: _set_points(c, 50)),
         notes=("changed from 1 to 50",), expect="the instructor's points: 26/26, a note"),
    Case("metadata_stripped", P, "nbgrader metadata removed from every cell",
         lambda s, x: _strip_all(reference(s, P)), notes=("lost its nbgrader metadata",),
         expect="cells matched by content: 26/26, a note"),
    Case("cells_reordered", P, "test_maxpool2d moved to the end, the avgpool2d answer above the maxpool2d "
         "one (test_pool_vectorised needs both)",
         lambda s, x: _move_before(_move_to_end(reference(s, P), "test_maxpool2d"), "avgpool2d", "maxpool2d"),
         notes=("test cells were moved",),
         expect="each test runs after every cell it follows in the source: 26/26, a note"),
    Case("answer_cell_removed", P, "the maxpool2d_backward answer cell deleted",
         lambda s, x: without(reference(s, P), "maxpool2d_backward"),
         failed=frozenset({"test_maxpool2d_backward", "test_pool_backward_no_builtin", "test_pool_backward_inputs"}),
         messages={"test_maxpool2d_backward": "NameError"},
         expect="its tests fail with NameError: 21/26"),

    # ---------------------------------------------------------------- broken answers
    Case("syntax_error", P, "a syntax error in the avgpool2d_naive answer cell",
         lambda s, x: in_body(s, P, "avgpool2d_naive", "avgpool2d_naive", "return ((("),
         failed=frozenset({"test_avgpool2d_naive", "test_pool_naive_padding", "test_pool_naive_no_builtin",
                           "test_pool_dtype"}),
         messages={"test_avgpool2d_naive": "NameError"},
         expect="its tests fail: 19/26"),
    Case("wrong_signature", P, "avgpool2d_backward(grad_out, x, kernel_size) without stride",
         lambda s, x: reference(s, P, replace={"avgpool2d_backward": NO_STRIDE_BACKWARD}),
         failed=frozenset({"test_avgpool2d_backward"}), messages={"test_avgpool2d_backward": "TypeError"},
         expect="TypeError in its test: 24/26"),
    Case("answer_raises", P, "global_avgpool raises RuntimeError",
         lambda s, x: in_body(s, P, "global_avgpool_module", "global_avgpool", "raise RuntimeError('not today')"),
         failed=frozenset({"test_global_avgpool", "test_pool_module_no_builtin", "test_pool_backward_inputs"}),
         messages={"test_global_avgpool": "RuntimeError: not today"},
         expect="its tests fail with the error (MaxPool2dScratch keeps its point): 22/26"),

    # ---------------------------------------------------------------- ordinary student habits
    Case("helper_cell_below_test", P, "maxpool2d_naive calls window_max, defined in a new cell below "
         "test_maxpool2d_naive",
         lambda s, x: insert_after(reference(s, P, replace={"maxpool2d_naive": HELPER_MAXPOOL}),
                                   "test_maxpool2d_naive", WINDOW_MAX),
         failed=frozenset({"test_maxpool2d_naive"}),
         messages={"test_maxpool2d_naive": "window_max is defined in a cell below this test"},
         expect="as Run all: NameError in test_maxpool2d_naive, with the message saying the helper is "
                "defined below the test (the later tests pass): 24/26"),
    Case("answers_in_extra_cells", P, "maxpool2d_naive calls window_max, defined in a new cell between the answer "
         "cell and its visible test; the avgpool2d answer cell holds a wrong draft and a copy of the cell (same "
         "metadata) below it the final version",
         lambda s, x: insert_after(_draft_then_copy(s, P, "avgpool2d", DRAFT_AVGPOOL, {"maxpool2d_naive": HELPER_MAXPOOL}),
                                   "maxpool2d_naive", WINDOW_MAX),
         notes=("cell avgpool2d appears more than once: every copy was run",),
         expect="each test runs where the student's notebook has it, as Run all: after the helper and after both "
                "copies: 26/26, a note (20/25 before: NameError in test_maxpool2d_naive, the draft tested by "
                "test_avgpool2d and test_pool_vectorised)"),
    Case("default_dtype_float64", C, "`torch.set_default_dtype(torch.float64)` in a cell after the setup cell "
         "(for the gradient checks)",
         lambda s, x: after_setup(reference(s, C), "torch.set_default_dtype(torch.float64)   # gradient checks"),
         expect="each test cell runs with torch's defaults: 35/35 (32/35 before: the hidden test's random "
                "inputs changed, test_conv2d_scratch_forward, and pad2d made float64 of float32, test_float32_outputs)"),
    Case("colab_drive_in_imports", P, "`from google.colab import drive` and `drive.mount('/content/drive')` "
         "at the top of the imports cell (the notebook was written in Colab)",
         lambda s, x: _edit_imports(reference(s, P), lambda src: DRIVE_MOUNT + src),
         expect="google.colab's stand-ins do nothing, the rest of the cell runs: 26/26 (0/25 before: "
                "ModuleNotFoundError stopped the cell before `import torch`)"),
    Case("reflection_in_new_cell", P, "the reflection's answer cell left as `YOUR ANSWER HERE`, the answers "
         "typed in a new markdown cell below it",
         lambda s, x: _reflection_below(s),
         notes=("the answer cell reflection was left as released, and the answer was written in a cell below it",),
         expect="every test passes: 26/26, the reflection waits for the instructor with a note saying where "
                "(before: reflection 0/3 at once, 'not answered')", check="reflection_waits"),
    Case("saved_outputs_over_the_limit", P, "the reference saved with 24 MB of figures in its outputs, over the "
         "20 MB limit", lambda s, x: _saved_outputs_over_the_limit(s),
         notes=("with its saved outputs, over the limit of 20.0 MB: they were cleared before grading",),
         expect="its outputs are cleared in a process of its own and the rest is graded: 26/26, a note "
                "(before: error, 0, 'clear the outputs and submit again')"),
    Case("colab_habits", P, "a comment line added to the Colab setup cell; `!pip install -q torchinfo`, "
         "`%load_ext autoreload` and `%autoreload 2` after the imports cell, `%%time` on the maxpool2d_naive answer cell, a demo cell that keeps shapes in a list named `record`",
         lambda s, x: _colab_habits(s),
         expect="nothing to review (the timed cell's code is scanned; pip installs nothing while grading): "
                "26/26, status graded (before: status review, 8 items: the setup's pip install, the 4 magic lines and 2 uses of `record`)"),
]

BY_NAME = {case.name: case for case in CASES}
assert len(BY_NAME) == len(CASES), "case names must be unique"
