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
