"""The first cell of every grading run (after ``guard.py`` has installed ``course_grader.kernel``):
the grader's seeds, thread count and plotting backend, before any student code.

Sent to the kernel as source text followed by ``_course_prelude(seed, threads)``
(``course_grader.execution.session.prelude_source``); it leaves no name behind.
"""


def _course_prelude(seed: int, threads: int) -> None:
    import os
    os.environ["COURSE_GRADING"] = "1"
    import random
    random.seed(seed)
    try:
        import numpy
        numpy.random.seed(seed)
    except ImportError:
        pass
    import torch
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    import matplotlib
    matplotlib.use("Agg")
    _colab_stand_ins()
    # exit() and quit() in a cell must not end the kernel some moments later (at a random cell)
    from IPython import get_ipython
    shell = get_ipython()
    shell.ask_exit = lambda: None
    # ipykernel's compiler names each cell after a murmur2 hash of its text, computed in pure
    # Python for its debugger (about 0.15 ms a kilobyte: 4 ms for the guard sent before every
    # test cell); IPython's own names cells by number. Tracebacks read "Cell In[3], line 2" alike.
    from IPython.core.compilerop import CachingCompiler
    if type(shell.compile) is not CachingCompiler:
        plain = CachingCompiler()
        plain.flags = shell.compile.flags
        shell.compile = plain


def _colab_stand_ins() -> None:
    """Make ``google.colab`` importable, as in Colab, where students write their notebooks: a
    cell that mounts Drive (``from google.colab import drive; drive.mount(...)``), often at the
    top of the imports cell, would otherwise stop at its first line, leaving torch unimported and
    every test failing. Each of its modules is a stand-in whose functions do nothing (mount says
    so, ``files.upload()`` uploads nothing: ``{}``); a notebook that then reads a file from Drive
    fails there, as it would anywhere but Colab. Found only after every real finder (the grading
    environment has no ``google.colab``)."""
    import importlib
    import importlib.abc
    import importlib.machinery
    import sys

    def nothing(*args, **kwargs):
        return None

    def mount(mountpoint="/content/drive", *args, **kwargs):
        print(f"(grading: Google Drive is not available, nothing was mounted at {mountpoint})")

    def upload(*args, **kwargs):
        print("(grading: files.upload() uploads nothing)")
        return {}

    SUBMODULES = ("drive", "files", "output", "patches", "userdata", "auth", "widgets", "data_table")
    special = {"google.colab.drive": {"mount": mount, "flush_and_unmount": nothing},
               "google.colab.files": {"upload": upload, "download": nothing}}

    class ColabStandIns(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, fullname, path=None, target=None):
            if fullname in ("google", "google.colab") or fullname.startswith("google.colab."):
                return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
            return None

        def create_module(self, spec):
            return None

        def exec_module(self, module):
            module.__path__ = []
            module.__dict__.update(special.get(module.__name__, {}))
            if module.__name__ != "google":
                module.__getattr__ = lambda name: attribute(module.__name__, name)

    def attribute(module, name):
        if name.startswith("__"):
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        if module == "google.colab" and name in SUBMODULES:
            return importlib.import_module(f"google.colab.{name}")
        return nothing

    sys.meta_path.append(ColabStandIns())

