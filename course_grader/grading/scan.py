"""The tampering and evasion scanner: reads the syntax tree of a submission's code cells, in the
grader's own process (the student's code is parsed, never run), and lists every use of a
primitive that can forge a record, read hidden tests or the data set's labels, or escape the
grader's checks.

Python cannot stop code from patching the process it runs in, so these are found outside it, and
a submission that uses any of them is marked for review (its score kept for the instructor to
confirm), never failed outright: some primitives have rare honest uses.

What is scanned: the cells a student can change, that is every code cell except the instructor's
test cells (which grading replaces with its own copies). Call :func:`scan_notebook` on the
notebook that grading runs (merged with the source) and pass ``skip_cell=instructor_cells(source)``
so that only cells identical to the instructor's are skipped (a student can put test-cell
metadata on a cell of their own).

All primitives live in :data:`PRIMITIVES` (name -> (how it is matched, why)), one table:

* ``module`` keys (``torch._C``, ``ctypes``, ...) match any use of that module path or below it:
  imports, attribute chains and ``getattr(x, "literal")``, names resolved through the notebook's
  imports and simple aliases (``t = torch``). ``gc.collect`` is the one allowed member
  (:data:`ALLOWED`).
* ``name`` keys (``exec``, ``eval``, ``In``, ...) match a bare name that no import in the
  notebook binds to something else (``from re import compile`` makes ``compile`` honest;
  ``model.eval()`` is an attribute, not the name).
* ``object`` keys (``get_ipython``, ``TorchDispatchMode``, ...) match a bare name, an attribute
  (``IPython.get_ipython``) or an imported name of that spelling.
* ``attr`` keys (``f_back``, ``display_pub``, ...) match an attribute of that name on anything.
* ``rule`` keys are the patterns below, each documented where it is matched.

The release notebooks' Colab setup code (a ``subprocess`` pip install of course_utils) is allowed
when unchanged (:func:`is_release_setup`), also in a cell the student added lines to (the rest is
scanned: :func:`release_setup_lines`); any other magic, shell escape or process is flagged.

Data set heuristics (kept narrow so that honest notebooks are never flagged):

* ``data set file path``: a string constant naming the raw files or their folder
  (``ubyte``, ``idx1``/``idx3``, ``COURSE_DATA_DIR``) or a use of ``course_utils.data``'s
  location helpers (``data_root``, ``DATA_DIR_ENV_VAR``, ``RAW_FILE_NAMES``), anywhere.
* ``reads a data set file``: a file-reading call (``open``, ``np.fromfile``, ``np.load``,
  ``torch.load``, ``gzip.open``, ``Path(...).read_bytes()``, ...) with "mnist" in a string of
  its arguments or receiver.
* ``loads the data set inside a function``: a data set loader (``datasets.MNIST``,
  ``data.mnist_tensors``, ``data.mnist_loaders``, ...) called inside a ``def`` or ``class``
  body; the notebooks' own data-loading cells call them at the top level of a cell.
* ``looks inputs up by content``: ``.tobytes()``, ``hash()`` or ``.data_ptr()`` inside a method
  named ``forward`` or ``__call__`` (a model that recognises test images instead of computing).
"""
from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass
from typing import Callable

from ..protocol import RECORD_MIME
from ..notebook import grade_id, is_test
from pathlib import Path as _Path

#: The release notebooks' Colab setup cell (authoring/templates), allowed when unchanged: the
#: current one and every earlier version (``colab_setup_cell.v<N>.py``), since a submission may come
#: from an older release.
_TEMPLATES = _Path(__file__).parents[1] / "authoring" / "templates"
SETUP_TEMPLATE = (_TEMPLATES / "colab_setup_cell.py").read_text(encoding="utf-8")
SETUP_TEMPLATES = [SETUP_TEMPLATE] + [p.read_text(encoding="utf-8")
                                      for p in sorted(_TEMPLATES.glob("colab_setup_cell.v*.py"))]

#: primitive -> (how it is matched, why it is a review item). The one list of primitives.
PRIMITIVES: dict[str, tuple[str, str]] = {
    # IPython internals: records and test cells pass through the shell
    "get_ipython": ("object", "reaches IPython's shell, which can rewrite records, outputs and test code"),
    "IPython.core": ("module", "IPython's internals can rewrite records, outputs and test code"),
    "InteractiveShell": ("object", "IPython's shell class can rewrite records, outputs and test code"),
    "display_pub": ("attr", "IPython's display publisher carries the grading records"),
    "input_transformers_pre": ("attr", "input transformers rewrite the code of later cells, tests included"),
    "input_transformers_post": ("attr", "input transformers rewrite the code of later cells, tests included"),
    "input_transformer_manager": ("attr", "IPython's input transformers rewrite the code of later cells, tests included"),
    "ast_transformers": ("attr", "AST transformers rewrite the code of later cells, tests included"),
    "events.register": ("rule", "IPython event callbacks run around the hidden test cells"),
    "sys.displayhook": ("module", "the display hook carries cell results and can rewrite them"),
    "sys.excepthook": ("module", "the exception hook decides what failures of test cells look like"),
    "In": ("name", "IPython's input history holds the hidden tests' code"),
    "Out": ("name", "IPython's output history holds the results of the hidden tests"),
    "_ih": ("name", "IPython's input history holds the hidden tests' code"),
    "_oh": ("name", "IPython's output history holds the results of the hidden tests"),
    "_i": ("name", "IPython's input history holds the hidden tests' code (_i, _ii, _iii, _i<n>)"),
    "record forgery": ("rule", "builds grading records itself (the record MIME type, raw display publishing)"),
    "class swap": ("rule", "changes an object's class (a tensor that answers checks falsely)"),
    "IPython magic or shell escape": ("rule", "runs code or shell commands the scanner cannot read"),
    "kernel messaging internals": ("rule", "the kernel's session and output channels carry the grading records"),
    "ipykernel": ("module", "the kernel's internals carry the grading records"),
    "jupyter_client": ("module", "the kernel's messaging carries the grading records"),
    "zmq": ("module", "the kernel's sockets carry the grading records"),
    "socket": ("module", "opens network or Unix sockets (other kernels, host services)"),
    # torch's private dispatch: turns the forbidden-op checks off
    "torch._C": ("module", "torch's private C API can switch off the checks of which operators run"),
    "_DisableTorchDispatch": ("attr", "switches off the dispatch mode that checks which operators run"),
    "torch private API": ("rule", "torch's private modules and attributes (torch._*) reach around its public checks"),
    "torch.ops": ("module", "calls operators directly, around the checks of which operators run"),
    "torch.library": ("module", "registers or overrides operators"),
    "torch.utils._python_dispatch": ("module", "dispatch modes intercept or hide the operators that run"),
    "TorchDispatchMode": ("object", "dispatch modes intercept or hide the operators that run"),
    "torch.overrides": ("module", "torch function modes intercept or hide the functions that run"),
    "__torch_dispatch__": ("rule", "a tensor type that intercepts the operators run on it"),
    "__torch_function__": ("rule", "a tensor type that intercepts the functions run on it"),
    # dynamic code: code the scanner cannot read
    "exec": ("name", "runs code built at run time, which the scanner cannot read"),
    "eval": ("name", "runs code built at run time, which the scanner cannot read"),
    "compile": ("name", "builds code at run time, which the scanner cannot read"),
    "__import__": ("name", "imports modules by a name built at run time"),
    "importlib": ("module", "imports modules by a name built at run time"),
    "runpy": ("module", "runs modules or files the scanner cannot read"),
    "marshal": ("module", "loads code objects"),
    "types.CodeType": ("module", "builds code objects"),
    "types.FunctionType": ("module", "builds functions from code objects"),
    "getattr with a computed name": ("rule", "reaches an attribute or module whose name the scanner cannot read"),
    "__getattribute__": ("attr", "reaches an attribute by a name the scanner may not read"),
    "__subclasses__": ("attr", "reaches every class loaded in the process, the grader's included"),
    "pickle": ("module", "unpickling runs code the scanner cannot read"),
    "pdb": ("module", "the debugger reads and changes the frames of the hidden tests"),
    "breakpoint": ("name", "the debugger reads and changes the frames of the hidden tests"),
    "namespace write": ("rule", "writes globals()/locals()/vars() directly (names the scanner cannot read)"),
    "__dict__ write": ("rule", "writes an object's __dict__ directly (patches around the scanner)"),
    "__builtins__": ("object", "reaches the built-in functions, to replace them or call them by name"),
    "builtins": ("module", "reaches the built-in functions, to replace them or call them by name"),
    # native code and the garbage collector
    "ctypes": ("module", "native code can change anything in the process"),
    "cffi": ("module", "native code can change anything in the process"),
    "gc": ("module", "the garbage collector finds the grader's objects (records, test functions)"),
    "__main__": ("module", "the notebook's namespace as a module: IPython's history of the hidden tests' code"),
    "__self__": ("attr", "reaches the module a built-in function belongs to (builtins: exec, eval, __import__)"),
    # frames: the callers' variables, the test code
    "sys._getframe": ("module", "reads the calling test's frame: its variables and code"),
    "inspect.currentframe": ("module", "reads the calling test's frame: its variables and code"),
    "inspect.stack": ("module", "reads the calling test's frame: its variables and code"),
    "inspect.getouterframes": ("module", "reads the calling test's frame: its variables and code"),
    "inspect.trace": ("module", "reads the frames of an exception: the test's variables and code"),
    "sys._current_frames": ("module", "reads every thread's frames: the running test's variables and code"),
    "traceback.extract_stack": ("module", "reads the calling test's frames and code lines"),
    "traceback.format_stack": ("module", "reads the calling test's frames and code lines"),
    "traceback.print_stack": ("module", "reads the calling test's frames and code lines"),
    "traceback.walk_stack": ("module", "reads the calling test's frames"),
    "traceback.StackSummary": ("module", "reads the calling test's frames and code lines"),
    "linecache": ("module", "IPython keeps the code of every cell run, hidden tests included, in linecache"),
    "inspect.getsource": ("module", "reads the source of objects a hidden test passes (its classes and functions)"),
    "inspect.getsourcelines": ("module", "reads the source of objects a hidden test passes (its classes and functions)"),
    "inspect.findsource": ("module", "reads the source of objects a hidden test passes (its classes and functions)"),
    "inspect.getframeinfo": ("module", "reads a frame's code lines (the hidden test's)"),
    "f_back": ("attr", "reads the calling test's frame"),
    "f_globals": ("attr", "reads a frame's global variables"),
    "f_locals": ("attr", "reads a frame's local variables (the test's expected values)"),
    "f_code": ("attr", "reads a frame's code (the hidden test's)"),
    "tb_frame": ("attr", "reads the frames of an exception: the test's variables and code"),
    "gi_frame": ("attr", "reads a generator's frame"),
    "__code__": ("attr", "reads or replaces a function's code"),
    "__globals__": ("attr", "reads or writes a function's global variables"),
    # the interpreter and the process
    "sys.modules write": ("rule", "replaces imported modules (torch, course_utils) for later cells"),
    "sys.settrace": ("module", "traces every line run, the hidden tests' included"),
    "sys.setprofile": ("module", "sees every call made, the hidden tests' included"),
    "threading.settrace": ("module", "traces every line run, the hidden tests' included"),
    "sys.addaudithook": ("module", "hooks into the interpreter"),
    "os.system": ("module", "starts a process outside the grader's control"),
    "os.popen": ("module", "starts a process outside the grader's control"),
    "os.fork": ("module", "starts a process outside the grader's control"),
    "os.forkpty": ("module", "starts a process outside the grader's control"),
    "os.exec": ("rule", "replaces or starts a process (os.exec*, os.spawn*, os.posix_spawn*)"),
    "os.kill": ("module", "sends signals to processes"),
    "os.killpg": ("module", "sends signals to processes"),
    "subprocess": ("module", "starts a process outside the grader's control"),
    "multiprocessing": ("module", "starts a process outside the grader's control"),
    "torch.multiprocessing": ("module", "starts a process outside the grader's control"),
    "pty": ("module", "starts a process outside the grader's control"),
    "asyncio.create_subprocess_exec": ("module", "starts a process outside the grader's control"),
    "asyncio.create_subprocess_shell": ("module", "starts a process outside the grader's control"),
    "signal": ("module", "signal handlers interrupt or survive the grader's time limits"),
    # patching the libraries the checks rely on
    "library patch": ("rule", "replaces an attribute of torch, numpy, course_utils or the interpreter"),
    "library name rebound": ("rule", "rebinds torch, np, F, nn or math at the top level: the hidden tests use these names"),
    "builtin rebound": ("rule", "rebinds exec or __import__ at the top level: the grader's own code in the kernel "
                        "(the guard before each test) calls them by name"),
    # the grader and the data set
    "course_grader": ("module", "the grader's own code is not part of a submission"),
    "data set file path": ("rule", "locates the data set's files (the test labels)"),
    "grader file path": ("rule", "names the grader's files or the host's processes (cache, configuration, gradebook, /proc)"),
    "reads a data set file": ("rule", "reads the data set's files directly (the test labels)"),
    "loads the data set inside a function": ("rule", "model code that loads the data set can look up the test labels"),
    "looks inputs up by content": ("rule", "a model that recognises its inputs instead of computing on them"),
    # the scanner's own limits
    "cannot be parsed": ("rule", "the cell could not be parsed (too deeply nested, or NUL bytes), so it "
                         "could not be scanned; a plain syntax error is not an item: the kernel "
                         "refuses such a cell too"),
    "too large to scan": ("rule", "the cell is too large to be scanned"),
}

#: Members of a flagged module that are harmless and allowed.
ALLOWED = frozenset({"gc.collect"})
#: Line magics that run no code of the student's: allowed.
ALLOWED_MAGICS = frozenset({"matplotlib"})
#: What students type in Colab and Jupyter that runs no code the scanner cannot read, each line
#: read as the code it stands for (:func:`_neutralised`), so that what it runs is scanned:
#: ``!pip install``/``%pip install`` of plain package names (no path, archive or requirements
#: file: the sandbox has no network, so nothing is installed, and a later import of the package
#: fails with "module X is not available"), ``pip list``/``freeze``/``show``, ``!nvidia-smi``,
#: ``%matplotlib``, ``%load_ext autoreload``, ``%autoreload``, ``%config InlineBackend....``;
#: ``%time``/``%timeit`` lines (their statement is scanned as the line's code) and a first line
#: ``%%time``, ``%%timeit`` or ``%%capture`` (the rest of the cell is scanned as code).
_PIP_NAME = (r"(?![\w.-]*\.(?:whl|zip|tar|gz|tgz|bz2|xz|egg|txt|py)\b)[A-Za-z0-9][A-Za-z0-9._-]*"
             r"(?:\[[\w,-]+\])?(?:[=<>!~]=?[\w.*+-]+(?:,[=<>!~]=?[\w.*+-]+)*)?")
_PIP_FLAG = r"(?:-q{1,3}|--quiet|-U|--upgrade|--user|--no-cache-dir|--progress-bar[ =]off)"
_HARMLESS_LINE = re.compile(
    rf"(?:[!%]\s*pip3?\s+install(?:\s+(?:{_PIP_FLAG}|{_PIP_NAME}))+"
    rf"|[!%]\s*pip3?\s+(?:list|freeze|show(?:\s+{_PIP_NAME})+)"
    r"|!\s*nvidia-smi(?:\s+-L)?|%matplotlib(?:\s+\w+)?|%load_ext\s+autoreload|%autoreload(?:\s+[0-3])?"
    r"|%config\s+InlineBackend\.figure_formats?\s*=\s*['\"\[\]\w, ]+)\s*")
_TIMEIT_OPTIONS = r"(?:\s+-[nrp]\s*\d+|\s+-[tcqo])*"
_TIME_LINE = re.compile(rf"%(?:time|timeit{_TIMEIT_OPTIONS})\s+(?P<code>\S.*)")
_CELL_MAGIC = re.compile(rf"%%(?:time|timeit{_TIMEIT_OPTIONS}|capture(?:\s+--no-(?:stderr|stdout|display))*"
                         r"(?:\s+[A-Za-z_]\w*)?)\s*")
#: Names bound in every notebook's kernel without an import in the cell (the course's conventions).
DEFAULT_ALIASES = {"torch": "torch", "np": "numpy", "numpy": "numpy", "F": "torch.nn.functional",
                   "nn": "torch.nn", "sys": "sys", "os": "os", "IPython": "IPython"}
#: Roots whose attributes a submission must not assign to ("library patch"); torch.backends
#: flags (cudnn.deterministic, ...) are settings, not patches.
PATCH_ROOTS = frozenset({"torch", "numpy", "course_utils", "course_grader", "IPython", "builtins",
                         "sys", "os", "math", "matplotlib",
                         # what the guard (inside/guard.py) rebuilds the test helpers with
                         "types", "json", "zlib", "base64"})
PATCH_ALLOWED = ("torch.backends.",)
#: Names the hidden tests use, and the only module each may be bound to at a cell's top level.
PROTECTED = {"torch": "torch", "np": "numpy", "numpy": "numpy", "F": "torch.nn.functional",
             "nn": "torch.nn", "math": "math"}
#: Built-in names the grader's code in the kernel calls by name (``client.run_guard``): a
#: top-level binding of one (``def exec``, ``exec = ...``) is an item. ``eval`` and ``compile``
#: are not here: a student's own ``def eval(model)`` is honest, and nothing of the grader's uses them.
PROTECTED_BUILTINS = frozenset({"exec", "__import__"})
#: The longest cell scanned (characters; the course's longest cell is under 5,000), and the most
#: characters of code scanned in one notebook: beyond either, cells are "too large to scan".
MAX_SCAN_CHARS = 200_000
MAX_NOTEBOOK_SCAN_CHARS = 1_000_000
_INSTALL_URL = r"git\+https://github\.com/[\w.-]+/[\w.-]+@[\w./-]+"
_SETUP_RES = [re.compile(re.escape(t.strip()).replace(re.escape("{install_url}"), _INSTALL_URL))
              for t in SETUP_TEMPLATES]

_NAMES = {k for k, (kind, _) in PRIMITIVES.items() if kind == "name"}
_OBJECTS = {k for k, (kind, _) in PRIMITIVES.items() if kind == "object"}
_ATTRS = {k for k, (kind, _) in PRIMITIVES.items() if kind == "attr"}
_MODULES = {k for k, (kind, _) in PRIMITIVES.items() if kind == "module"}
_HISTORY_RE = re.compile(r"^_i(i{1,2}|\d+)?$")
_EXEC_RE = re.compile(r"^(exec|spawn|posix_spawn)")
_DATA_PATH_RE = re.compile(r"ubyte|idx[13]|COURSE_DATA_DIR", re.I)
_RECORD_RE = re.compile(re.escape(RECORD_MIME.split("/")[-1].split("+")[0]), re.I)
_GRADER_PATH_RE = re.compile(r"\.course_cache|nbgrader_config|gradebook\.db|autograded|/proc(/|$)|mountinfo")
_DATA_HELPERS = frozenset({"data_root", "DATA_DIR_ENV_VAR", "RAW_FILE_NAMES", "_load_torchvision_dataset"})
_LOADERS = frozenset({"MNIST", "FashionMNIST", "KMNIST", "EMNIST", "QMNIST", "mnist", "fashion_mnist",
                      "mnist_tensors", "fashion_mnist_tensors", "mnist_loaders"})
_FILE_READERS = frozenset({"open", "io.open", "os.open", "gzip.open", "bz2.open", "lzma.open",
                           "codecs.open", "numpy.fromfile", "numpy.load", "numpy.memmap",
                           "numpy.loadtxt", "numpy.genfromtxt", "torch.load", "torch.from_file",
                           "PIL.Image.open", "pickle.load"})
_FILE_METHODS = frozenset({"read_bytes", "read_text", "open"})
_TORCH_HOOKS = frozenset({"__torch_dispatch__", "__torch_function__"})
_KERNEL_ATTRS = frozenset({"session", "pub_thread", "iopub_socket", "iopub_thread", "parent_header",
                           "_parent_header", "user_ns", "user_global_ns", "comm_manager"})
_NS_CALLS = frozenset({"globals", "locals", "vars"})
_MUTATORS = frozenset({"update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__"})


@dataclass(frozen=True)
class Finding:
    """One primitive found in one cell's source: 1-based ``line``, the table's key and why."""
    line: int
    primitive: str
    why: str


@dataclass(frozen=True)
class ReviewItem:
    """A primitive found in a submission: code cell ``cell`` (index in the notebook), its nbgrader
    grade_id ("" when it has none), the 1-based ``line`` in the cell, the table's key and why."""
    cell: int
    grade_id: str
    line: int
    primitive: str
    why: str

    def to_dict(self) -> dict:
        return asdict(self)


def scan_notebook(nb, *, skip_cell: Callable | None = None) -> list[ReviewItem]:
    """The review items of every code cell of ``nb`` a student can change, in cell order.

    Skipped: the cells for which ``skip_cell(cell)`` is true; by default the test cells
    (``notebook.is_test``). The grader passes ``instructor_cells(source_nb)`` instead, since a
    submission's own cell can carry test-cell metadata. Imports of every code cell (test cells included) bind the names
    that later cells use (``import torch.nn.functional as F`` in the setup cell).
    """
    code = [(i, c) for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"]
    aliases = dict(DEFAULT_ALIASES)
    parsed, budget = {}, MAX_NOTEBOOK_SCAN_CHARS
    for index, cell in code:             # each cell parsed once, within the notebook's budget
        text = _text(cell)
        if len(text) > MAX_SCAN_CHARS or len(text) > budget:
            parsed[index] = None
            continue
        budget -= len(text)
        parsed[index] = (text, _parse(text))
        tree = parsed[index][1][0]
        if tree is not None:
            try:
                _collect_aliases(tree, aliases)
            except RecursionError:
                pass
    items = []
    for index, cell in code:
        if (skip_cell or is_test)(cell):
            continue
        found = ([_finding(1, "too large to scan")] if parsed[index] is None
                 else _scan(*parsed[index], aliases))
        for f in found:
            items.append(ReviewItem(cell=index, grade_id=grade_id(cell) or "", line=f.line,
                                    primitive=f.primitive, why=f.why))
    return items


def instructor_cells(source_nb) -> Callable:
    """A ``skip_cell`` for :func:`scan_notebook`: true for a test cell whose source is exactly
    the source notebook's test cell of the same grade_id (what grading runs in its place)."""
    tests = {grade_id(c): _text(c) for c in source_nb.cells if is_test(c) and grade_id(c)}

    def skip(cell) -> bool:
        gid = grade_id(cell)
        return gid in tests and _text(cell) == tests[gid]
    return skip


def review_items(source_nb, graded_nb) -> list[dict]:
    """What grading records as a GradeResult's ``review`` list: :func:`scan_notebook` on
    ``graded_nb`` (the merged notebook grading runs), skipping the cells identical to the
    instructor's (``source_nb``'s) test cells, each item as ``ReviewItem.to_dict()``.

    Never raises for anything a submission contains: if the scanner itself fails, the one item
    says so (the notebook then needs a look by hand)."""
    try:
        items = scan_notebook(graded_nb, skip_cell=instructor_cells(source_nb))
    except Exception as e:  # noqa: BLE001 - a scanner bug must not crash grading
        return [ReviewItem(cell=0, grade_id="", line=1, primitive="cannot be parsed",
                           why=f"the scanner failed ({type(e).__name__}): look through the "
                               "notebook by hand").to_dict()]
    return [item.to_dict() for item in items]


def scan_source(source: str, *, aliases: dict | None = None) -> list[Finding]:
    """The primitives used in one cell's ``source``, sorted by line; ``aliases`` maps names bound
    elsewhere in the notebook to module paths (default: :data:`DEFAULT_ALIASES` and the cell's
    own imports)."""
    if len(source) > MAX_SCAN_CHARS:
        return [_finding(1, "too large to scan")]
    return _scan(source, _parse(source), aliases if aliases is not None else DEFAULT_ALIASES)


def _scan(source: str, parsed: tuple, aliases: dict) -> list[Finding]:
    if is_release_setup(source):
        return []
    tree, magic_lines, magics = parsed
    if tree is None:
        return [] if magic_lines is None else [_finding(magic_lines or 1, "cannot be parsed")]
    try:
        own = _Bindings(aliases)
        _collect_aliases(tree, own)
        local = _bound_names(tree)
        # the hidden tests import the grader's helpers (``from course_grader.kernel import
        # record``): in a cell that binds such a name itself (``record = []``, a parameter), the
        # name is the student's own, not the helper (records made outside a test cell count for
        # nothing, and the helpers are installed afresh before each test)
        names = dict(own)
        for name in local - own.set_here:
            if str(names.get(name, "")).split(".")[0] == "course_grader":
                del names[name]
        visitor = _Visitor(names, magic_lines)
        visitor.local = local
        visitor.visit(tree)
    except RecursionError:
        return [_finding(1, "too large to scan")]
    found = set(visitor.found) | {(line, "IPython magic or shell escape") for line in magics}
    setup = release_setup_lines(source)
    return [_finding(line, p) for line, p in sorted(found) if line not in setup]


def release_setup_lines(source: str) -> set:
    """The lines of ``source`` that hold the release's Colab setup code, unchanged (as
    :func:`is_release_setup` allows it): its ``subprocess`` pip install is the course's own, also
    in a cell the student added lines to (a comment, ``%matplotlib inline``, a Drive mount),
    whose other lines are scanned as any other code."""
    for pattern in _SETUP_RES:
        found = pattern.search(source)
        if found:
            first = source.count("\n", 0, found.start()) + 1
            return set(range(first, first + found.group(0).count("\n") + 1))
    return set()


def is_release_setup(source: str) -> bool:
    """True for the release notebooks' Colab setup cell, unchanged (``release.SETUP_TEMPLATE``
    with a GitHub install URL): its ``subprocess`` pip install is the course's own, allowed."""
    return any(r.fullmatch(source.strip()) for r in _SETUP_RES)


# ------------------------------------------------------------------------------------- parsing


def _text(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _finding(line: int, primitive: str) -> Finding:
    return Finding(line=line, primitive=primitive, why=PRIMITIVES[primitive][1])


def _parse(source: str):
    """``(tree, magic_lines, flagged_magic_lines)``. A cell with IPython syntax (``%magic``,
    ``!shell``, ``x?``) is parsed after IPython's own transformation; the lines it changed are
    the magic lines (the ``get_ipython()`` calls there are the magics', not the student's), and
    those not in :data:`ALLOWED_MAGICS` are flagged. ``tree`` is None when the cell does not
    parse (then ``magic_lines`` is the line of the syntax error)."""
    syntax_error = False
    try:
        return ast.parse(source), set(), set()
    except SyntaxError as e:
        error_line, syntax_error = e.lineno or 1, True
    except (ValueError, MemoryError, RecursionError) as e:
        error_line = getattr(e, "lineno", None) or 1
    neutral = _neutralised(source)
    if neutral != source:
        try:
            return ast.parse(neutral), set(), set()
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            source = neutral              # other IPython syntax left: transformed below
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        transformed = TransformerManager().transform_cell(source)
        tree = ast.parse(transformed)
    except SyntaxError:
        # the kernel (the same interpreter, the same IPython) refuses this cell just as well:
        # nothing in it can run, so nothing in it needs review (its tests fail on their own)
        return None, (None if syntax_error else error_line), set()
    except Exception:
        return None, error_line, set()
    before, after = source.splitlines(), transformed.splitlines()
    if len(before) == len(after):
        changed = {i + 1 for i, (a, b) in enumerate(zip(before, after)) if a != b}
    else:                               # a cell magic: the whole cell became one call
        changed = set(range(1, len(before) + 2))
    flagged = set()
    for line in changed:
        text = after[line - 1] if line - 1 < len(after) else ""
        m = re.search(r"get_ipython\(\)\.run_line_magic\('(\w+)'", text)
        if m and m.group(1) in ALLOWED_MAGICS and text.count("get_ipython()") == 1:
            continue
        if line <= len(after):
            flagged.add(line)
    return tree, changed, flagged


class _Bindings(dict):
    """A copy of the notebook's aliases that remembers which names the cell binds itself."""

    def __init__(self, aliases: dict):
        super().__init__(aliases)
        self.set_here: set = set()

    def __setitem__(self, key, value):
        self.set_here.add(key)
        super().__setitem__(key, value)


def _neutralised(source: str) -> str:
    """``source`` with each line of harmless IPython syntax (``_HARMLESS_LINE``, ``_TIME_LINE``,
    a first line ``_CELL_MAGIC``) replaced by the code it runs (``pass`` for none), line for
    line, so that line numbers stay and what the magic runs is scanned as plain code."""
    lines = source.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = line[:len(line) - len(stripped)]
        if not stripped.startswith(("%", "!")):
            continue
        if i == first and not indent and _CELL_MAGIC.fullmatch(stripped):
            lines[i] = "pass"
        elif _HARMLESS_LINE.fullmatch(stripped):
            lines[i] = indent + "pass"
        else:
            timed = _TIME_LINE.fullmatch(stripped)
            if timed and not stripped.startswith("%%"):
                lines[i] = indent + timed.group("code")
    return "\n".join(lines)


def _collect_aliases(tree, aliases: dict) -> None:
    """Names bound to module paths by imports and by ``name = dotted.path`` assignments."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    root = a.name.split(".")[0]
                    aliases[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if a.name != "*":
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            path = _dotted(node.value, aliases)
            if path and path.split(".")[0] in _known_roots(aliases):
                aliases[node.targets[0].id] = path


def _known_roots(aliases: dict) -> set:
    return {v.split(".")[0] for v in aliases.values()}


def _dotted(node, aliases: dict) -> str | None:
    """The module path an expression stands for (``F.conv2d`` -> ``torch.nn.functional.conv2d``,
    ``getattr(torch, "_C")`` -> ``torch._C``, ``sys.modules["ctypes"]`` -> ``ctypes``), or None when
    its root is not a name bound to a module."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
            and node.func.id not in aliases and len(node.args) >= 2 and _literal(node.args[1]):
        base = _dotted(node.args[0], aliases)
        return f"{base}.{node.args[1].value}" if base else None
    if isinstance(node, ast.Subscript) and _literal(node.slice):
        if _dotted(node.value, aliases) == "sys.modules":
            return node.slice.value
        owner = _namespace_owner(node.value, aliases)
        return f"{owner}.{node.slice.value}" if owner else None
    return None


def _bound_names(tree) -> set:
    """Names a cell binds itself: assignments, loop variables, definitions, parameters."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _namespace_owner(node, aliases: dict) -> str | None:
    """The module path whose namespace ``node`` is: ``vars(torch)``, ``torch.__dict__``, or a
    name bound to one (``d = torch.__dict__``)."""
    if isinstance(node, ast.Attribute) and node.attr == "__dict__":
        return _dotted(node.value, aliases)
    path = _dotted(node, aliases)
    if path and path.endswith(".__dict__"):
        return path[:-len(".__dict__")]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "vars" \
            and len(node.args) == 1:
        return _dotted(node.args[0], aliases)
    return None


def _is_namespace(node, aliases: dict, namespaces: set) -> bool:
    """``sys.modules``, a module's ``__dict__`` or ``vars(module)``, ``globals()``, ``locals()``,
    or a name bound to one of these."""
    if _dotted(node, aliases) == "sys.modules" or _namespace_owner(node, aliases):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _NS_CALLS:
        return True
    return isinstance(node, ast.Name) and node.id in namespaces


def _literal(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _module_hit(path: str) -> str | None:
    """The module key that ``path`` is or lies under, unless it is an allowed member."""
    if path in ALLOWED or any(path.startswith(a + ".") for a in ALLOWED):
        return None
    parts = path.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in _MODULES:
            return prefix
    if parts[0] == "os" and len(parts) > 1 and _EXEC_RE.match(parts[1]):
        return "os.exec"
    if parts[0] == "torch" and any(p.startswith("_") and not p.endswith("__") for p in parts[1:]):
        return "torch private API"
    return None


# ------------------------------------------------------------------------------------- visiting


class _Visitor(ast.NodeVisitor):
    def __init__(self, aliases: dict, magic_lines: set):
        self.aliases = aliases
        self.magic_lines = magic_lines
        self.found: list[tuple[int, str]] = []
        self.depth = 0                    # inside a def or class body
        self.in_forward = 0
        self.namespaces: set[str] = set()  # names bound to globals()/locals()/vars(...)
        self.local: set[str] = set()       # names the cell binds itself (set by scan_source)
        self._called: set[int] = set()     # ids of Name nodes that are the function of a call

    def hit(self, node, primitive: str) -> None:
        if primitive == "get_ipython" and getattr(node, "lineno", 1) in self.magic_lines:
            return                        # IPython's transformation of a magic, flagged as one
        self.found.append((getattr(node, "lineno", 1), primitive))

    # -- scopes
    def _scoped(self, node) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._rebound(node, node.name)
        self.depth += 1
        forward = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in ("forward", "__call__")
        self.in_forward += forward
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in _TORCH_HOOKS:
            self.hit(node, node.name)
        self.generic_visit(node)
        self.in_forward -= forward
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = _scoped

    # -- imports
    def visit_Import(self, node) -> None:
        for a in node.names:
            self._import_path(node, a.name)
            if a.asname:
                self._rebound(node, a.asname, a.name)

    def visit_ImportFrom(self, node) -> None:
        if not node.module or node.level:
            return
        self._import_path(node, node.module, whole=False)
        for a in node.names:
            if a.name == "*":
                self._import_path(node, node.module)
            else:
                self._import_path(node, f"{node.module}.{a.name}")
                self._rebound(node, a.asname or a.name, f"{node.module}.{a.name}")
                if a.name in _OBJECTS:
                    self.hit(node, a.name)
                elif a.name in _DATA_HELPERS:
                    self.hit(node, "data set file path")

    def _rebound(self, node, name: str, path: str | None = None) -> None:
        """A top-level binding of a name in :data:`PROTECTED` to anything but its module."""
        if not self.depth and name in PROTECTED and path != PROTECTED[name]:
            self.hit(node, "library name rebound")
        elif not self.depth and name in PROTECTED_BUILTINS and path != f"builtins.{name}":
            self.hit(node, "builtin rebound")

    def _import_path(self, node, path: str, whole: bool = True) -> None:
        key = _module_hit(path)
        # importing a module with allowed members (gc) is fine: its uses are checked instead
        if key and not (key == path and any(a.startswith(path + ".") for a in ALLOWED)):
            if whole or key != path:
                self.hit(node, key)

    # -- names and attributes
    def visit_Name(self, node) -> None:
        if node.id in _TORCH_HOOKS:
            self.hit(node, node.id)
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._rebound(node, node.id)
        if isinstance(node.ctx, ast.Load):
            bound = self.aliases.get(node.id)
            if node.id in _OBJECTS or (node.id in _NAMES and bound is None and node.id not in self.local):
                self.hit(node, node.id)
            elif _HISTORY_RE.match(node.id) and node.id not in self.aliases and node.id not in self.local:
                self.hit(node, "_i")
            elif node.id in ("getattr", "setattr", "delattr") and bound is None \
                    and id(node) not in self._called:
                self.hit(node, "getattr with a computed name")     # passed on: f = getattr
            elif node.id in _DATA_HELPERS:
                self.hit(node, "data set file path")
            if bound is not None:
                self._path(node, bound)

    def _attribute_name(self, node, attr: str) -> None:
        """The primitives an attribute of this name is, however it is reached: ``x.attr``,
        ``getattr(x, "attr")`` (also setattr, delattr), ``vars(x)["attr"]``, ``x.__dict__["attr"]``."""
        if attr in _ATTRS:
            self.hit(node, attr)
        if attr in _OBJECTS or attr in _TORCH_HOOKS:
            self.hit(node, attr)
        if attr in _KERNEL_ATTRS:
            self.hit(node, "kernel messaging internals")
        if attr in _DATA_HELPERS:
            self.hit(node, "data set file path")

    def visit_Attribute(self, node) -> None:
        self._attribute_name(node, node.attr)
        if node.attr in ("register", "unregister", "callbacks", "trigger") and \
                isinstance(node.value, ast.Attribute) and node.value.attr == "events":
            self.hit(node, "events.register")
        path = _dotted(node, self.aliases)
        if path is not None:
            self._path(node, path)
            return                  # the chain's base was checked as part of the whole path
        self.generic_visit(node)

    def _path(self, node, path: str) -> None:
        key = _module_hit(path)
        if key:
            self.hit(node, key)

    def _named_access(self, node, base, key, write: bool) -> None:
        """``getattr(base, key)``, ``setattr``/``delattr`` and ``base.__setattr__(key, ...)``: a
        literal name is that attribute (and, written, maybe a patch); any other is a finding."""
        if not _literal(key):
            self.hit(node, "getattr with a computed name")
            return
        self._attribute_name(node, key.value)           # getattr(frame, "f_locals")
        if write:
            self._patch(node, base, key.value)

    def _namespace_key(self, node, key: str) -> None:
        """A name read out of a namespace (``globals()["In"]``, ``vars(frame)["f_locals"]``):
        the primitives of that name as a variable and as an attribute."""
        self._attribute_name(node, key)
        if key in _NAMES:
            self.hit(node, key)
        elif _HISTORY_RE.match(key):
            self.hit(node, "_i")

    def visit_Subscript(self, node) -> None:
        if _literal(node.slice) and (_is_namespace(node.value, self.aliases, self.namespaces) or (
                isinstance(node.value, ast.Attribute) and node.value.attr == "__dict__")):
            self._namespace_key(node, node.slice.value)      # vars(frame)["f_locals"]
        path = _dotted(node, self.aliases)            # sys.modules["ctypes"], vars(torch)["_C"]
        if path is not None:
            self._path(node, path)
        elif not _literal(node.slice) and _is_namespace(node.value, self.aliases, self.namespaces):
            self.hit(node, "getattr with a computed name")   # sys.modules[name], torch.__dict__[k]
        self.generic_visit(node)

    def visit_Constant(self, node) -> None:
        if isinstance(node.value, str) and _DATA_PATH_RE.search(node.value):
            self.hit(node, "data set file path")
        if isinstance(node.value, str) and _GRADER_PATH_RE.search(node.value):
            self.hit(node, "grader file path")
        if isinstance(node.value, str) and _RECORD_RE.search(node.value):
            self.hit(node, "record forgery")

    # -- calls
    def visit_Call(self, node) -> None:
        func = node.func
        self._called.add(id(func))
        name = func.id if isinstance(func, ast.Name) and func.id not in self.aliases else None
        if name in ("getattr", "setattr", "delattr") and len(node.args) >= 2:
            self._named_access(node, node.args[0], node.args[1], write=name != "getattr")
            if name == "getattr":
                path = _dotted(node, self.aliases)
                if path:
                    self._path(node, path)
        if isinstance(func, ast.Attribute) and func.attr in _MUTATORS:
            self._write_target(node, func.value)
        if isinstance(func, ast.Attribute) and func.attr in ("__setattr__", "__delattr__") and node.args:
            unbound = len(node.args) >= (3 if func.attr == "__setattr__" else 2)   # type.__setattr__(obj, ...)
            base, key = (node.args[0], node.args[1]) if unbound else (func.value, node.args[0])
            self._named_access(node, base, key, write=True)
        if isinstance(func, ast.Attribute) and func.attr in ("get", "pop", "setdefault") and node.args \
                and _is_namespace(func.value, self.aliases, self.namespaces):
            key = node.args[0]                        # sys.modules.get("ctypes"), globals().get("In")
            if not _literal(key):
                self.hit(node, "getattr with a computed name")
            elif _dotted(func.value, self.aliases) == "sys.modules":
                self._path(node, key.value)
            else:
                self._namespace_key(node, key.value)
        path = _dotted(func, self.aliases) or name
        last = path.split(".")[-1] if path else (func.attr if isinstance(func, ast.Attribute) else None)
        if last == "publish_display_data" or (last == "display" and any(k.arg == "raw" for k in node.keywords)):
            self.hit(node, "record forgery")
        if self.depth and last in _LOADERS:
            self.hit(node, "loads the data set inside a function")
        if (path in _FILE_READERS or (isinstance(func, ast.Attribute) and func.attr in _FILE_METHODS)) \
                and _mentions_mnist(node):
            self.hit(node, "reads a data set file")
        if path in ("operator.attrgetter", "operator.methodcaller"):
            self.hit(node, "getattr with a computed name")
        if path in ("operator.setitem", "operator.delitem", "operator.__setitem__", "operator.__delitem__") \
                and node.args:
            self._write_target(node, node.args[0])        # operator.setitem(vars(torch), ...)
        if path == "torch.load" and any(k.arg == "weights_only" and not (
                isinstance(k.value, ast.Constant) and k.value.value is True) for k in node.keywords):
            self.hit(node, "pickle")
        if self.in_forward and (name == "hash" or (isinstance(func, ast.Attribute)
                                                   and func.attr in ("tobytes", "data_ptr"))):
            self.hit(node, "looks inputs up by content")
        self.generic_visit(node)

    # -- writes
    def visit_Assign(self, node) -> None:
        for target in node.targets:
            self._target(target)
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in _NS_CALLS:
                self.namespaces.add(node.targets[0].id)
        self.generic_visit(node)

    def visit_AugAssign(self, node) -> None:
        self._target(node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node) -> None:
        self._target(node.target)
        self.generic_visit(node)

    def visit_Delete(self, node) -> None:
        for target in node.targets:
            self._target(target)
        self.generic_visit(node)

    def _target(self, target) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                self._target(t)
        elif isinstance(target, ast.Starred):
            self._target(target.value)
        elif isinstance(target, ast.Attribute):
            self._patch(target, target.value, target.attr)
        elif isinstance(target, ast.Subscript):
            self._write_target(target, target.value)

    def _patch(self, node, base, attr: str) -> None:
        """``base.attr = ...`` (or setattr/delattr): a library patch when base is a module path
        under :data:`PATCH_ROOTS`, outside :data:`PATCH_ALLOWED`."""
        path = _dotted(base, self.aliases)
        if path and path.split(".")[0] in PATCH_ROOTS and \
                not any(f"{path}.{attr}".startswith(a) for a in PATCH_ALLOWED):
            self.hit(node, "library patch")
        if attr in ("__class__", "__bases__"):
            self.hit(node, "class swap")
        if attr == "__dict__" and not (isinstance(base, ast.Name) and base.id in ("self", "cls")):
            self.hit(node, "__dict__ write")

    def _write_target(self, node, container) -> None:
        """A subscript write or a mutating call on ``container``: namespaces, ``sys.modules``,
        ``x.__dict__`` (except ``self.__dict__``)."""
        if isinstance(container, ast.Call) and isinstance(container.func, ast.Name) \
                and container.func.id in _NS_CALLS and container.func.id not in self.aliases:
            self.hit(node, "namespace write")
        elif isinstance(container, ast.Name) and container.id in self.namespaces:
            self.hit(node, "namespace write")
        elif isinstance(container, ast.Attribute) and container.attr == "__dict__" and \
                not (isinstance(container.value, ast.Name) and container.value.id in ("self", "cls")):
            self.hit(node, "__dict__ write")
        elif _dotted(container, self.aliases) == "sys.modules":
            self.hit(node, "sys.modules write")


def _mentions_mnist(call) -> bool:
    for sub in ast.walk(call):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and "mnist" in sub.value.lower():
            return True
    return False
