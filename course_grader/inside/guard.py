"""Run right before every instructor test cell: fresh ``course_grader.kernel``,
``course_grader.probes`` and ``course_grader.doubles`` modules, built from ``inside/kernel.py``,
``inside/probes.py`` and ``inside/doubles.py``, so that the student's code replacing ``record`` or
any other helper in those modules has no effect on the tests (a best-effort guard: see "What the
grader can and cannot check" in docs/authoring.md); then torch's default dtype (float32), grad
mode (on) and default device (none) as the reference's tests ran with.

Sent to the kernel as source text followed by ``_course_guard(<packed>)``
(``course_grader.execution.session.guard_source``): the grader's Python's bytecode magic number
and ``[(<name>, <code object>), ...]``, the modules compiled by the grader (docstrings left out;
line numbers kept) in the order they import each other, marshalled, compressed with zlib and in
base64. The kernel runs the grader's own interpreter, so it loads the code objects as they are
instead of compiling about 30 KB of source before every test cell (2 ms a test cell instead of
8); a kernel on another Python is told so (the prelude fails with that message, before any of the
notebook's code runs). The prelude runs this text as a cell; before each test cell it runs with
``exec``, in a namespace of its own, as the user expression of a silent request
(``client.run_guard``), so that its 40 KB skip IPython's input transformers, history and echo.
It leaves no name behind.
"""


def _course_guard(_packed):
    import base64, importlib.util, marshal, sys, types, zlib
    _magic, _codes = marshal.loads(zlib.decompress(base64.b64decode(_packed)))
    if _magic != importlib.util.MAGIC_NUMBER:
        raise RuntimeError("the grading kernel runs another Python than the grader (bytecode magic "
                           f"{importlib.util.MAGIC_NUMBER!r}, the grader's {_magic!r}): run both "
                           "from the same environment")
    _pkg = types.ModuleType("course_grader")
    _pkg.__path__ = []
    sys.modules["course_grader"] = _pkg
    for _name, _code in _codes:
        _mod = types.ModuleType("course_grader." + _name)
        _mod.__package__ = "course_grader"
        sys.modules["course_grader." + _name] = _mod
        setattr(_pkg, _name, _mod)
        exec(_code, _mod.__dict__)
    # torch's global defaults as the reference ran its tests with, whatever the notebook set for
    # itself (torch.set_default_dtype(torch.float64) for a gradient check, set_grad_enabled(False),
    # set_default_device("cuda") from Colab): the tests' own inputs and models would change with
    # them, and right answers fail
    _torch = sys.modules.get("torch")
    if _torch is not None:
        _torch.set_default_dtype(_torch.float32)
        _torch.set_grad_enabled(True)
        _torch.set_default_device(None)
