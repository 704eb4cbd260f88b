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
    get_ipython().ask_exit = lambda: None
